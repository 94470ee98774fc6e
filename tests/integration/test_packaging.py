# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The wheel, installed into a fresh environment that has the pinned stack,
trains from a directory outside the repository with installed files only,
through its own tools and through the real ``mim train`` / ``mim test``
(the fresh venv: ``tests/helpers/install.py``; ``refineloc_mm`` comes from
the wheel, asserted)."""
import sys
from pathlib import Path

import pytest

from helpers.install import copy_sources, fresh_venv, mim_env, pip, sh
from helpers.runs import REPO, tiny_options

# a config in a model's folder (configs/refineloc/), found by its name
CONFIG = 'refineloc_i3d_4x10e_synthetic.py'


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(python, site_packages, run_dir, data)``: a fresh venv with the
    wheel installed with ``--no-deps``, a work folder outside the
    repository and a tiny synthetic set written by the installed tool."""
    root = tmp_path_factory.mktemp('packaging')
    src = copy_sources(root / 'src')
    sh(sys.executable, '-m', 'pip', 'wheel', '--no-deps',
       '--no-build-isolation', '--quiet', '-w', root / 'dist', src, cwd=root)
    wheel, = (root / 'dist').glob('refineloc_mm-*.whl')

    python, site = fresh_venv(root)
    run_dir = root / 'run'
    run_dir.mkdir()
    assert sh(python, '-c', 'import refineloc_mm', cwd=run_dir,
              check=False).returncode != 0, 'refineloc_mm visible before'

    pip_ = pip(python)
    # with the pinned stack present, installing the wheel *with* its
    # dependencies would install the wheel and nothing else
    dry = sh(*pip_, 'install', '--dry-run', '--no-index', wheel, cwd=run_dir)
    would = [ln for ln in dry.stdout.splitlines()
             if ln.startswith('Would install')]
    assert would == ['Would install refineloc_mm-0.1.0'], dry.stdout
    sh(*pip_, 'install', '--no-deps', '--quiet', wheel, cwd=run_dir)

    # the installed tool, found by `mim run` (docs/get_started.md)
    data = run_dir / 'data' / 'synthetic'
    proc = sh(python, '-m', 'mim', 'run', 'refineloc_mm', 'generate_synthetic',
              '--out-dir', data, '--num-train', 14, '--num-test', 8,
              '--feat-dim', 64, '--duration-scale', 0.15, '--seed', 3,
              cwd=run_dir, env=mim_env())
    assert str(site / 'refineloc_mm' / '.mim' / 'tools' / 'data' /
               'generate_synthetic.py') in proc.stdout
    return python, site, run_dir, data


def test_wheel_trains_outside_the_repository(installed):
    python, site, run_dir, data = installed
    where = sh(python, '-c', 'import refineloc_mm; '
               'print(refineloc_mm.__file__)', cwd=run_dir).stdout.strip()
    assert Path(where).is_relative_to(site), where
    mim = site / 'refineloc_mm' / '.mim'
    for name in ('configs/refineloc/refineloc_i3d_4x10e_synthetic.py',
                 'configs/_base_/default_runtime.py', 'tools/train.py',
                 'tools/test.py', 'tools/dist_train.sh'):
        assert (mim / name).is_file(), name
    # every config of every model folder, with its _base_ files
    shipped = {p.relative_to(mim) for p in (mim / 'configs').rglob('*.py')}
    assert shipped == {
        p.relative_to(REPO) for p in (REPO / 'configs').rglob('*.py')}
    work_dir = run_dir / 'tools_run'
    sh(python, mim / 'tools' / 'train.py',
       mim / 'configs' / 'refineloc' / CONFIG, '--work-dir', work_dir,
       '--rounds', 1, '--epochs-per-round', 1, '--cfg-options',
       *tiny_options(data), cwd=run_dir)
    assert (work_dir / 'round_0.pth').is_file()
    assert (work_dir / 'refinement_summary.json').is_file()


def test_mim_train_and_test(installed):
    python, site, run_dir, data = installed
    env = mim_env()
    work_dir = run_dir / 'mim_run'
    proc = sh(python, '-m', 'mim', 'train', 'refineloc_mm', CONFIG,
              '--work-dir', work_dir,
              '--cfg-options', 'train_cfg.num_rounds=2',
              'train_cfg.epochs_per_round=1',
              *tiny_options(data), cwd=run_dir, env=env)
    config = site / 'refineloc_mm' / '.mim' / 'configs' / 'refineloc' / \
        CONFIG
    assert f'will use {config} instead' in proc.stdout
    assert (work_dir / 'round_1.pth').is_file()
    assert not (work_dir / 'round_2.pth').exists()  # num_rounds=2 applied
    # the run's dumped config is whole: it loads from another folder
    dumped = work_dir / CONFIG
    assert '_base_' not in dumped.read_text()
    sh(python, '-c', 'import sys; from mmengine.config import Config; '
       'assert Config.fromfile(sys.argv[1]).train_cfg.num_rounds == 2',
       dumped,
       cwd=site)
    proc = sh(python, '-m', 'mim', 'test', 'refineloc_mm', CONFIG,
              '--checkpoint', work_dir / 'round_1.pth',
              '--work-dir', work_dir / 'test', '--cfg-options',
              *tiny_options(data), cwd=run_dir, env=env)
    assert 'mAP@0.5' in proc.stdout + proc.stderr
