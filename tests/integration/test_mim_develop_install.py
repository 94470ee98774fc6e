# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``mim train refineloc_mm CONFIG`` from a developer (editable) install.

openmim resolves a package through ``pkg_resources``; a PEP 660 editable
install puts nothing of the package in site-packages, but writes
``refineloc_mm.egg-info`` into the checkout, so from the checkout's root
(first on ``sys.path`` with ``python -m mim``) openmim resolves
``refineloc_mm`` to the checkout and looks for ``refineloc_mm/.mim/``,
which ``setup.py`` links to ``configs/`` and ``tools/`` at the editable
install. A copy of the checkout is installed editable into a fresh venv
(``tests/helpers/install.py``) as ``make venv`` does."""
import os

import pytest

from helpers.install import copy_sources, fresh_venv, mim_env, pip, sh
from helpers.runs import SYNTHETIC_CONFIG, SYNTHETIC_NAME, tiny_options


@pytest.fixture(scope='module')
def checkout(tmp_path_factory):
    """``(python, checkout)``: a copy of the checkout installed editable
    into a fresh venv with ``make venv``'s command (``pip install --no-deps
    -e .``, in an isolated build environment)."""
    root = tmp_path_factory.mktemp('develop')
    src = copy_sources(root / 'src')
    python, _ = fresh_venv(root)
    sh(*pip(python), 'install', '--no-deps', '--quiet', '-e', '.', cwd=src)
    return python, src


def test_editable_install_links_configs_and_tools(checkout):
    python, src = checkout
    where = sh(python, '-c', 'import refineloc_mm; '
               'print(refineloc_mm.__file__)', cwd=src.parent).stdout.strip()
    assert where == str(src / 'refineloc_mm' / '__init__.py')
    for name in ('configs', 'tools'):
        link = src / 'refineloc_mm' / '.mim' / name
        assert link.is_symlink(), f'{link} is not a link'
        assert os.readlink(link) == os.path.join('..', '..', name)
        assert link.resolve() == src / name
    # what openmim resolves the package to from the checkout's root
    assert (src / 'refineloc_mm.egg-info' / 'top_level.txt').is_file()


def test_mim_train_from_the_checkout(checkout, tiny_data, tmp_path):
    """``python -m mim train refineloc_mm refineloc_i3d_4x10e_synthetic.py``
    in the checkout's root finds the checkout's config (in its model's
    folder, configs/refineloc/) and tools/train.py (a config edited there
    is the one that runs) and trains 2 x 1."""
    python, src = checkout
    data = tiny_data
    work_dir = tmp_path / 'mim_run'
    proc = sh(python, '-m', 'mim', 'train', 'refineloc_mm', SYNTHETIC_NAME,
              '--work-dir', work_dir,
              '--cfg-options', 'train_cfg.num_rounds=2',
              'train_cfg.epochs_per_round=1',
              *tiny_options(data), cwd=src, env=mim_env())
    config = src / SYNTHETIC_CONFIG
    assert f'will use {config} instead' in proc.stdout, proc.stdout
    assert (work_dir / 'round_1.pth').is_file()
    assert not (work_dir / 'round_2.pth').exists()  # num_rounds=2 applied
