# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Data parallelism (gloo, 2 CPU processes) and crash-proof refinement:
labels identical on every rank and equal to one process's, metrics of a
2-process test equal to 1 process's, orderly process-group teardown (no
retry: a completed run exits 0), and resume after SIGKILL at three points:
only the remaining epochs are trained, round 1's labels and round counter
come from the checkpoint, and the run ends exactly like an uninterrupted
one."""
import json
import signal
import socket
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers.runs import (REPO, SYNTHETIC_CONFIG, SYNTHETIC_NAME,
                          TRAIN_OPTIONS, assert_resumed_after, file_identity,
                          load_labels, logged_metrics, make_tiny_data, run,
                          state_dict, tiny_options, train)

NUM_TRAIN = 13  # not divisible by the world size


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


# What tools/train.py and tools/test.py print when the process group's
# backend threads outlive its teardown (refineloc_mm/utils/launcher.py);
# those threads used to abort ~1 in 20 completed two-process runs at exit
# (tools/dist_stress.py counts the aborts over many runs).
LEFTOVER_THREADS = 'process group destroyed but still referenced'


def dist_tool(script, *args, nproc=2):
    """Run a distributed launcher script once: no retry, a completed run
    must exit 0 and tear its process group down in order on every rank."""
    env = dict(PYTHON=sys.executable, PORT=free_port(),
               MASTER_ADDR='127.0.0.1', OMP_NUM_THREADS='1')
    proc = run('bash', f'tools/{script}', *args, env=env, timeout=900)
    output = proc.stdout + proc.stderr
    assert LEFTOVER_THREADS not in output, output[-4000:]
    assert 'terminate called' not in output, output[-4000:]
    return proc


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_tiny_data(
        tmp_path_factory.mktemp('synthetic'), num_train=NUM_TRAIN, num_test=7)


@pytest.fixture(scope='module')
def dist_run(data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('dist')
    dist_tool('dist_train.sh', SYNTHETIC_CONFIG, '2',
              '--work-dir', work_dir, '--rounds', '2', '--epochs-per-round',
              '2', '--cfg-options', *tiny_options(data), *TRAIN_OPTIONS)
    return work_dir


def regenerate_in_one_process(work_dir, checkpoint, out_dir):
    """Labels for round 1 from the given weights, in this process."""
    from mmengine.runner import Runner

    from refineloc_mm.engine.hooks import PseudoLabelHook
    cfg = Config.fromfile(str(work_dir / SYNTHETIC_NAME))
    cfg.work_dir = str(out_dir)
    cfg.launcher = 'none'
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.model_wrapper_cfg = None
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(str(checkpoint))
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    stats = hook.regenerate(runner, 0)
    return load_labels(out_dir, 1)[0], stats


def test_two_process_labels_match_one_process(dist_run, tmp_path):
    summary = json.loads((dist_run / 'refinement_summary.json').read_text())
    generated = summary['rounds'][0]['pseudo_labels_generated']
    labels, names = load_labels(dist_run, 1)
    assert len(names) == NUM_TRAIN  # every video once, no padding copies
    # the hook checked the digest on both ranks; it is recorded
    import hashlib
    assert generated['digest'] == hashlib.sha1(labels.tobytes()).hexdigest()
    single, stats = regenerate_in_one_process(dist_run,
                                              dist_run / 'round_0.pth',
                                              tmp_path)
    np.testing.assert_array_equal(single, labels)
    assert stats['digest'] == generated['digest']


def test_two_process_test_matches_one_process(dist_run, data, tmp_path):
    ckpt = dist_run / 'round_1.pth'
    one = run(sys.executable, 'tools/test.py',
              SYNTHETIC_CONFIG, ckpt, '--work-dir',
              tmp_path / 'one', '--dump', tmp_path / 'one.json',
              '--cfg-options', *tiny_options(data))
    two = dist_tool('dist_test.sh', SYNTHETIC_CONFIG, ckpt,
                    '2', '--work-dir', tmp_path / 'two', '--dump',
                    tmp_path / 'two.json', '--cfg-options',
                    *tiny_options(data))
    m1 = logged_metrics(one.stdout + one.stderr)
    m2 = logged_metrics(two.stdout + two.stderr)
    assert m1 == m2 and m1['average_mAP'] > 0
    r1 = json.loads((tmp_path / 'one.json').read_text())['results']
    r2 = json.loads((tmp_path / 'two.json').read_text())['results']
    assert r1 == r2 and len(r1) == 7


@pytest.fixture(scope='module')
def uninterrupted(data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    train(work_dir, data, 3, 2)
    return work_dir


@pytest.mark.parametrize('kill_at', [
    'mid_epoch:3', 'before_regeneration:3', 'during_regeneration:2'
])
def test_sigkill_and_resume(kill_at, uninterrupted, data, tmp_path):
    crashed = train(
        tmp_path,
        data,
        3,
        2,
        options=[
            'custom_imports.imports='
            '[refineloc_mm.base_models.refineloc,fault_injection]'
        ],
        env=dict(REFINELOC_KILL_AT=kill_at),
        check=False)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert not (tmp_path / 'round_2.pth').exists()
    if kill_at.startswith('during'):
        # the half-written label file never took the final name
        assert not (tmp_path / 'pseudo_labels' / 'round_2.npz').exists()
        assert list((tmp_path / 'pseudo_labels').glob('round_2.npz.tmp*'))
    # round 1's labels were written before the crash; the resumed run
    # takes them (and the round counter) from the checkpoint
    labels_file = tmp_path / 'pseudo_labels' / 'round_1.npz'
    before = file_identity(labels_file)
    proc = train(tmp_path, data, 3, 2, '--resume')
    assert_resumed_after(proc.stdout + proc.stderr, epoch=3)
    assert file_identity(labels_file) == before
    for r in (1, 2):
        np.testing.assert_array_equal(
            load_labels(uninterrupted, r)[0],
            load_labels(tmp_path, r)[0])
    full = json.loads((uninterrupted / 'refinement_summary.json').read_text())
    resumed = json.loads((tmp_path / 'refinement_summary.json').read_text())
    assert resumed == full
    a = state_dict(uninterrupted / 'round_2.pth')
    b = state_dict(tmp_path / 'round_2.pth')
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_repo_root():
    assert (REPO / 'tools' / 'dist_train.sh').is_file()
