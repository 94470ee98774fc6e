# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tiny synthetic runs through the real tools, shared by the e2e tests."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FEAT_DIM = 64  # two 32-d streams; the THUMOS config uses stream 1
PYTHONPATH = os.pathsep.join([str(REPO), str(REPO / 'tests' / 'helpers')])


def make_tiny_data(out, num_train=14, num_test=8, seed=3):
    """A tiny synthetic set in the reference layout."""
    sys.path.insert(0, str(REPO / 'tools' / 'data'))
    from generate_synthetic import generate_synthetic
    generate_synthetic(
        str(out),
        num_train=num_train,
        num_test=num_test,
        feat_dim=FEAT_DIM,
        duration_scale=0.15,
        seed=seed)
    return out


def tiny_options(data_root):
    """--cfg-options that point the synthetic config at the tiny set."""
    half = FEAT_DIM // 2
    opts = [
        f'model.cls_head.in_channels={half}',
        'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        # loose inference thresholds so that a tiny model predicts segments
        'model.cls_head.post_processor.min_cas_score=0.02',
        'custom_hooks.0.generator.min_attention_score=0.5',
    ]
    for split in ('train_dataloader.dataset.dataset', 'val_dataloader.dataset',
                  'test_dataloader.dataset'):
        opts += [
            f'{split}.data_root={data_root}', f'{split}.in_channels={half}'
        ]
    return opts


def run(*args, check=True, env=None, timeout=600):
    """Run a command in the repository with the package importable."""
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, **(env or {}))
    proc = subprocess.run([str(a) for a in args],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        output = proc.stdout + proc.stderr
        errors = '\n'.join(ln for ln in output.splitlines()
                           if 'Error' in ln or 'error' in ln)
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{errors[-3000:]}\n---\n{output[-4000:]}')
    return proc


def run_tool(*args, **kwargs):
    return run(sys.executable, *args, **kwargs)


def train(work_dir, data_root, rounds, epochs, *extra, options=(), **kwargs):
    return run_tool('tools/train.py', 'configs/refineloc_synthetic.py',
                    '--work-dir', work_dir, '--rounds', rounds,
                    '--epochs-per-round', epochs, *extra, '--cfg-options',
                    *tiny_options(data_root), *options, **kwargs)


def load_labels(work_dir, round_idx):
    with np.load(Path(work_dir) / 'pseudo_labels' /
                 f'round_{round_idx}.npz') as f:
        return f['labels'], list(f['video_names'])


def state_dict(path):
    from refineloc_mm.utils.compat import safe_torch_load
    return safe_torch_load(str(path), map_location='cpu')['state_dict']
