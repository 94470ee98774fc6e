# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Installing the package into a fresh venv, and openmim, for the
packaging and ``mim`` tests.

The fresh venv sees the project venv's packages (the pinned stack) through
a ``.pth`` line, the cheap way to give it torch & co.; that line adds the
folder only (the project's editable-install hook there is not run), so
``refineloc_mm`` comes from what the test installs. openmim lives in its
own folder (``.venv/openmim``, ``make venv``, requirements-mim.txt).
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from helpers.runs import REPO

SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'requirements.txt',
           'requirements-dev.txt', 'requirements-mim.txt', 'constraints.txt',
           'mminstall.txt', 'refineloc_mm', 'configs', 'tools')
MIM_DIR = REPO / '.venv' / 'openmim'


def mim_env():
    """``PYTHONPATH`` for openmim, kept in its own folder."""
    assert (MIM_DIR / 'mim').is_dir(), (
        f'openmim is missing from {MIM_DIR}: run `make venv`')
    return dict(PYTHONPATH=str(MIM_DIR))


def sh(*args, cwd, env=None, check=True):
    """Run ``args`` in ``cwd`` with a clean environment (no PYTHONPATH)."""
    base = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([str(a) for a in args],
                          cwd=cwd,
                          env=dict(base, **(env or {})),
                          capture_output=True,
                          text=True,
                          timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{(proc.stdout + proc.stderr)[-5000:]}')
    return proc


def copy_sources(dst: Path) -> Path:
    """What a clone holds of :data:`SOURCES` (no ``.mim``, no caches, no
    ``*.egg-info``), copied into ``dst``."""
    dst.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim',
                                    '*.egg-info')
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, dst / name, ignore=ignore)
        else:
            shutil.copy2(path, dst / name)
    return dst


def fresh_venv(root: Path):
    """``(python, site_packages)`` of a new venv in ``root / 'venv'`` that
    sees the pinned stack and not ``refineloc_mm``."""
    venv = root / 'venv'
    sh(sys.executable, '-m', 'venv', '--without-pip', venv, cwd=root)
    python = venv / 'bin' / 'python'
    site = Path(
        sh(python, '-c', 'import sysconfig; '
           'print(sysconfig.get_paths()["purelib"])',
           cwd=root).stdout.strip())
    (site / 'pinned_stack.pth').write_text(
        sysconfig.get_paths()['purelib'] + '\n')
    return python, site


def pip(python):
    """The project venv's pip, installing into ``python``'s venv."""
    return (sys.executable, '-m', 'pip', '--python', python)
