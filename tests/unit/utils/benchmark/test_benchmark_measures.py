# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The measuring parts of :mod:`refineloc_mm.utils.benchmark`: the epoch
timer hook, the FLOP model, the process-tree memory sampler, the machine
description, the benchmark Runner's config and the ActivityNet-scale
samples (the whole harness runs through ``tools/benchmark.py`` in
``tests/integration/test_benchmark_tool.py``)."""
import subprocess
import sys
import time

import numpy as np
import pytest
import torch.nn as nn
from mmengine.config import Config

from refineloc_mm.utils.benchmark import (NEVER, EpochTimerHook,
                                          TreeMemorySampler,
                                          anet_scale_samples,
                                          benchmark_runner_config,
                                          data_root_options, in_process,
                                          machine_info, median, timed,
                                          train_flops)


def test_epoch_timer_hooks_read_one_end_each():
    record = dict(start=[], end=[])
    syncs = []
    start = EpochTimerHook(record, 'start', lambda: syncs.append('s'))
    end = EpochTimerHook(record, 'end', lambda: syncs.append('e'))
    for hook in (start, end):
        hook.before_train_epoch(None)
    time.sleep(0.01)
    for hook in (start, end):
        hook.after_train_epoch(None)
    assert len(record['start']) == len(record['end']) == 1
    assert record['end'][0] - record['start'][0] >= 0.01
    assert syncs == ['s', 'e']
    with pytest.raises(ValueError, match='start or end'):
        EpochTimerHook(record, 'middle')


def test_timed_and_median():
    calls = []
    t, out = timed(lambda: time.sleep(0.01) or 7, lambda: calls.append(1))
    assert out == 7 and t >= 0.01 and len(calls) == 2
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_train_flops_counts_linear_layers_three_times_per_snippet():
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    forward, epoch = train_flops(model, num_snippets=10)
    assert forward == 2 * (8 * 4 + 4 * 2)
    assert epoch == 3 * forward * 10


def test_tree_memory_sampler_sees_the_children():
    code = ('import subprocess, sys, time; '
            'p = subprocess.Popen([sys.executable, "-c", '
            '"import time; x = bytearray(50 * 2**20); time.sleep(1.5)"]); '
            'time.sleep(1.5); p.wait()')
    proc = subprocess.Popen([sys.executable, '-c', code])
    sampler = TreeMemorySampler(proc.pid, interval=0.1)
    sampler.start()
    proc.wait()
    sampler.stop()
    assert sampler.max_processes >= 2
    assert sampler.peak_rss >= 50 * 2**20
    assert 0 < sampler.peak_pss <= sampler.peak_rss


def test_machine_info():
    info = machine_info('cpu')
    assert info['device'] == 'cpu' and info['cores'] >= 1
    assert len(info['load_average']) == 3 and 'gpu' not in info


def test_benchmark_runner_config_times_epochs_only():
    cfg = Config(
        dict(
            work_dir='w',
            train_dataloader=dict(num_workers=2, persistent_workers=True),
            val_dataloader=dict(), val_cfg=dict(), val_evaluator=dict(),
            test_dataloader=dict(), test_cfg=dict(), test_evaluator=dict(),
            train_cfg=dict(type='RefinementLoop', num_rounds=4,
                           epochs_per_round=10),
            default_hooks=dict(pseudo_labels=dict(),
                               checkpoint=dict(interval=1))))
    out = benchmark_runner_config(cfg, '/tmp/x', 3)
    assert out.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=3,
                                 val_interval=NEVER)
    assert out.val_dataloader is None and out.test_evaluator is None
    assert out.train_dataloader.num_workers == 0
    assert not out.train_dataloader.persistent_workers
    assert out.default_hooks.checkpoint.interval == NEVER
    assert cfg.train_cfg.type == 'RefinementLoop'  # the input is untouched
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    with pytest.raises(ValueError, match='RefinementLoop'):
        benchmark_runner_config(cfg, '/tmp/x', 3)
    assert in_process(dict(num_workers=4))['num_workers'] == 0
    assert data_root_options('/d')[0] == \
        'train_dataloader.dataset.dataset.data_root=/d'


def test_anet_scale_samples_are_seeded_and_sized():
    a = anet_scale_samples(num_videos=20, num_classes=5, num_preds=400)
    b = anet_scale_samples(num_videos=20, num_classes=5, num_preds=400)
    assert len(a) == 20
    assert sum(len(s['pred_segments']) for s in a) == 400
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x['pred_segments'], y['pred_segments'])
        p = x['pred_segments']
        assert (p[:, 1] >= p[:, 0]).all() and (p[:, 2] < 5).all()
