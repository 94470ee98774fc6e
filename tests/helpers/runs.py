# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tiny synthetic runs through the real tools, shared by the e2e tests."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FEAT_DIM = 64  # two 32-d streams; the THUMOS config uses stream 1
PYTHONPATH = os.pathsep.join([str(REPO), str(REPO / 'tests' / 'helpers')])
# the RefineLoc config the tiny runs train (relative to REPO), and its name,
# which is also the name of the config a run dumps into its work dir
SYNTHETIC_CONFIG = 'configs/refineloc/refineloc_i3d_4x10e_synthetic.py'
SYNTHETIC_NAME = Path(SYNTHETIC_CONFIG).name


# The tiny set's signal: few classes, strong class and foreground evidence,
# little noise, so that round 0 (two epochs of 4 iterations at TRAIN_LR)
# already localizes actions: mAP@0.5 0.22, average mAP 0.32 on the default
# set (seed 3), and metric comparisons between runs mean something.
TINY_SIGNAL = dict(
    num_classes=3, action_strength=2.0, foreground_strength=1.0,
    noise_std=0.3)
# a learning rate that learns within the tiny schedules (the recipe's 1e-3
# barely moves the weights in 8 iterations)
TRAIN_OPTIONS = ['optim_wrapper.optimizer.lr=0.01']


def refinement_synthetic_config(name):
    """The synthetic refinement config of base model ``name``, relative to
    the repository: the one ``configs/<name>/*refineloc*_synthetic.py``."""
    hits = sorted(REPO.glob(f'configs/{name}/*refineloc*_synthetic.py'))
    if len(hits) != 1:
        raise AssertionError(
            f'base model {name!r}: expected exactly one '
            f'configs/{name}/*refineloc*_synthetic.py, found '
            f'{[str(p.relative_to(REPO)) for p in hits]}')
    return str(hits[0].relative_to(REPO))


def base_model_configs():
    """{name: synthetic refinement config} of every base model subpackage
    of ``refineloc_mm/base_models/`` (each must have one)."""
    return {
        pkg.name: refinement_synthetic_config(pkg.name)
        for pkg in sorted((REPO / 'refineloc_mm' / 'base_models').iterdir())
        if (pkg / '__init__.py').is_file()
    }


def make_tiny_data(out, num_train=14, num_test=8, seed=3, **signal):
    """A tiny synthetic set in the reference layout (``signal`` overrides
    fields of :data:`TINY_SIGNAL`)."""
    from refineloc_mm.datasets.synthetic import generate_synthetic
    generate_synthetic(
        str(out),
        num_train=num_train,
        num_test=num_test,
        feat_dim=FEAT_DIM,
        duration_scale=0.15,
        seed=seed,
        **dict(TINY_SIGNAL, **signal))
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
        'default_hooks.pseudo_labels.generator.post_processor.'
        'min_attention_score=0.5',
    ]
    for split in ('train_dataloader.dataset.dataset', 'val_dataloader.dataset',
                  'test_dataloader.dataset'):
        opts += [
            f'{split}.data_root={data_root}', f'{split}.in_channels={half}'
        ]
    return opts


# the refinement run shared by the integration tests that only read it
# (``refined_run``, tests/integration/conftest.py): 3 rounds of 2 epochs on
# the tiny set (the session's ``tiny_data``)
REFINED_ROUNDS, REFINED_EPOCHS = 3, 2


def refined_options(work_dir):
    """--cfg-options of the shared run (besides the tiny set's): a
    timeline of one training video per round, and every validation's
    predictions in ``val_predictions.json`` (the last one: the model of
    the last round)."""
    return [
        f'val_evaluator.results_file={work_dir}/val_predictions.json',
        'default_hooks.refinement_summary.num_timeline_videos=1'
    ]


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
    return run_tool('tools/train.py', SYNTHETIC_CONFIG,
                    '--work-dir', work_dir, '--rounds', rounds,
                    '--epochs-per-round', epochs, *extra, '--cfg-options',
                    *tiny_options(data_root), *TRAIN_OPTIONS, *options,
                    **kwargs)


def logged_metrics(output):
    """The metrics of the last ``Epoch(test)`` line of a tool's log."""
    lines = [ln for ln in output.splitlines() if 'Epoch(test)' in ln
             and 'mAP' in ln]
    assert lines, f'no test metrics in the output:\n{output[-3000:]}'
    return {
        key: float(value)
        for key, value in re.findall(r'((?:mAP@[\d.]+|average_mAP)): '
                                     r'([-\d.]+)', lines[-1])
    }


def trained_epochs(output):
    """1-based numbers of the epochs a training log shows iterations of."""
    return sorted({int(e) for e in re.findall(r'Epoch\(train\) +\[(\d+)\]',
                                              output)})


def load_labels(work_dir, round_idx):
    with np.load(Path(work_dir) / 'pseudo_labels' /
                 f'round_{round_idx}.npz') as f:
        return f['labels'], list(f['video_names'])


def state_dict(path):
    from refineloc_mm.utils.compat import safe_torch_load
    return safe_torch_load(str(path), map_location='cpu')['state_dict']


def file_identity(path):
    """Inode, modification time and size: equal if the file was not
    rewritten."""
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


def assert_resumed_after(log, epoch, max_epochs=6):
    """The log of a run resumed from ``epoch_{epoch}.pth``, in round 1 of
    rounds of 2 epochs: mmengine restored the epoch counter, only the
    remaining epochs were trained, round 1 was neither reset nor its labels
    regenerated (the hook restored round counter and labels from the
    checkpoint), and round 2 started as usual."""
    assert epoch in (2, 3), 'the checks below assume a resume in round 1'
    tail = log[-3000:]
    assert f'resumed epoch: {epoch}' in log, f'not resumed:\n{tail}'
    epochs = trained_epochs(log)
    assert epochs == list(range(epoch + 1, max_epochs + 1)), (
        f'trained epochs {epochs} after resuming from epoch {epoch}')
    for message in ('Refinement round 1: model', 'Pseudo labels for round 1:'):
        assert message not in log, f'round 1 redone: {message!r} in the log'
    for message in ('Refinement round 2: model, optimizer and schedule reset',
                    'Pseudo labels for round 2:'):
        assert message in log, f'{message!r} missing:\n{tail}'


def fresh_checkpoint(trained, config, out):
    """``trained`` (a checkpoint) with the weights of a freshly initialized
    model built from ``config``, saved to ``out``."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import refineloc_mm  # noqa: F401
    from mmaction.registry import MODELS
    from refineloc_mm.utils.compat import safe_torch_load
    ckpt = safe_torch_load(str(trained), map_location='cpu')
    cfg = Config.fromfile(str(config))
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    fresh = model.state_dict()
    assert fresh.keys() == ckpt['state_dict'].keys()
    ckpt['state_dict'] = fresh
    torch.save(ckpt, out)
    return out
