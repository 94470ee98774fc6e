# Copyright (c) refineloc-mm contributors. All rights reserved.
"""What a config asks for takes effect under MMAction2's own
tools/train.py (the launcher `mim train mmaction2` runs) exactly as under
ours: the allocator setting and AMP on a CPU, applied by RefineLocRunner
(``runner_type`` of configs/_base_/default_runtime.py), and the schedule
keys of the RefinementLoop (``train_cfg.num_rounds``, ...)."""
import json
import platform
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, make_tiny_data, run_tool, tiny_options

PROBE_CONFIG = '''_base_ = [{base!r}]
custom_imports = dict(
    imports=['refineloc_mm', 'runtime_probe'], allow_failed_imports=False)
default_hooks = dict(runtime_probe=dict(type='RuntimeProbeHook'))
'''


def mmaction_tool(name):
    import mmaction
    path = Path(mmaction.__file__).parent / '.mim' / 'tools' / name
    assert path.is_file(), f'MMAction2 ships no {path}'
    return path


@pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='the allocator probe reads glibc mallinfo2')
def test_mmaction_train_applies_what_the_config_asks(tmp_path):
    data = make_tiny_data(tmp_path / 'data')
    config = tmp_path / 'probe_synthetic.py'
    config.write_text(
        PROBE_CONFIG.format(
            base=str(REPO / 'configs' / 'refineloc_synthetic.py')))
    work_dir = tmp_path / 'work'
    # MMAction2's --amp writes AmpOptimWrapper, which mmengine refuses on a
    # CPU; the schedule is the loop's config
    run_tool(mmaction_tool('train.py'), config, '--work-dir', work_dir,
             '--amp', '--cfg-options', 'train_cfg.num_rounds=2',
             'train_cfg.epochs_per_round=1', *tiny_options(data))
    probe = json.loads((work_dir / 'runtime_probe.json').read_text())
    assert probe['runner'] == 'RefineLocRunner'
    # reuse_freed_memory=True: a 64 MB block comes from the heap
    assert probe['mmapped_blocks'] == 0
    assert probe['optim_wrapper'] == 'BFloat16OptimWrapper'
    assert probe['val_fp16'] is True
    assert probe['max_epochs'] == 2 and probe['val_interval'] == 1
    assert probe['loop'] == 'RefinementLoop'
    assert probe['epochs_per_round'] == 1
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]


def synthetic_loop(tmp_path, **train_cfg):
    """The RefinementLoop of configs/refineloc_synthetic.py with
    ``train_cfg`` merged, as ``--cfg-options train_cfg.KEY=VALUE`` does."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'refineloc_synthetic.py'))
    data = make_tiny_data(tmp_path / 'data')
    for split in (cfg.train_dataloader.dataset.dataset,
                  cfg.val_dataloader.dataset, cfg.test_dataloader.dataset):
        split.data_root = str(data)
        split.in_channels = 32
    cfg.model.cls_head.in_channels = 32
    cfg.merge_from_dict({f'train_cfg.{k}': v for k, v in train_cfg.items()})
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    checkpoint = next(h for h in runner.hooks
                      if isinstance(h, CheckpointHook))
    return runner.train_loop, checkpoint


def test_schedule_keys_derive_the_loop(tmp_path):
    loop, checkpoint = synthetic_loop(
        tmp_path, num_rounds=3, epochs_per_round=7)
    assert (loop.num_rounds, loop.epochs_per_round) == (3, 7)
    assert loop.max_epochs == 21 and loop.val_interval == 7
    # interval='round' of the default runtime: once per round
    assert checkpoint.interval == 7
    # the file's own schedule: 4 rounds of 10 epochs
    loop, checkpoint = synthetic_loop(tmp_path / 'default')
    assert loop.max_epochs == 40 and loop.val_interval == 10
    assert checkpoint.interval == 10


def test_loop_refuses_a_bad_schedule(tmp_path):
    with pytest.raises(ValueError, match='num_rounds'):
        synthetic_loop(tmp_path, num_rounds=0)
