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

from helpers.runs import REPO, SYNTHETIC_CONFIG, run_tool, tiny_options

PROBE_CONFIG = '''_base_ = [{base!r}]
custom_imports = dict(
    imports=['refineloc_mm.base_models.refineloc', 'runtime_probe'],
    allow_failed_imports=False)
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
def test_mmaction_train_applies_what_the_config_asks(tmp_path, tiny_data):
    data = tiny_data
    config = tmp_path / 'probe_synthetic.py'
    config.write_text(
        PROBE_CONFIG.format(
            base=str(REPO / SYNTHETIC_CONFIG)))
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
