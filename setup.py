# Copyright (c) refineloc-mm contributors. All rights reserved.
"""refineloc_mm: install into an existing MMAction2 environment.

``install_requires`` holds the ranges of ``requirements.txt`` (the user's
torch/numpy builds are left alone when they satisfy them); the exact pins
of the reproducible environment are in ``constraints.txt`` (``make``).

Like OpenMMLab packages, the wheel ships ``configs/`` and ``tools/`` in
``refineloc_mm/.mim/`` so that ``mim train refineloc_mm CONFIG`` and
``mim test refineloc_mm CONFIG`` work after ``pip install`` from any
directory: they are copied there when the package is built; an editable
install links them there instead (see :func:`add_mim_extension`).
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools')


def parse_requirements(fname: str = 'requirements.txt') -> list:
    """Requirement lines of ``fname`` (comments and ``-r`` lines left
    out)."""
    with open(osp.join(HERE, fname)) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    return [line for line in lines if line and not line.startswith('-')]


def readme() -> str:
    """The README, the package's long description."""
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def add_mim_extension() -> None:
    """Give ``refineloc_mm/.mim`` the ``configs/`` and ``tools/`` that
    ``mim`` looks for, as MMAction2's ``setup.py`` does.

    A wheel or sdist gets copies. A developer (editable) install, PEP 660's
    ``editable_wheel`` as ``pip install -e .`` runs it, or the legacy
    ``develop``, gets relative symbolic links to the checkout's folders
    (git-ignored), so that ``mim`` run from the checkout (where the install
    writes ``refineloc_mm.egg-info``, which openmim then resolves the
    package to) finds the configs and tools being edited.
    """
    if any(cmd in sys.argv for cmd in ('editable_wheel', 'develop')):
        mode = 'symlink'
    elif any(cmd in sys.argv
             for cmd in ('sdist', 'bdist_wheel', 'build', 'install')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'refineloc_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        else:
            shutil.copytree(
                src, dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='refineloc_mm',
        version='0.1.0',
        description='RefineLoc (WACV 2021) weakly-supervised temporal action '
        'localization as an MMAction2 plugin',
        long_description=readme(),
        long_description_content_type='text/markdown',
        packages=find_packages(include=['refineloc_mm', 'refineloc_mm.*']),
        include_package_data=True,
        package_data={
            'refineloc_mm': [
                '.mim/configs/*.py', '.mim/configs/*/*.py',
                '.mim/configs/*/*/*.py', '.mim/tools/*.py',
                '.mim/tools/*.sh', '.mim/tools/*/*.py'
            ]
        },
        python_requires='>=3.9',
        install_requires=parse_requirements('requirements.txt'),
        extras_require={
            # exactly one of them provides `import mmcv`; mmaction2 1.2
            # refuses mmcv >= 2.2
            'mmcv': ['mmcv>=2.0.0,<2.2.0'],
            'mmcv-lite': ['mmcv-lite>=2.0.0,<2.2.0'],
            'tensorboard': ['tensorboard'],
        },
        license='Apache License 2.0',
        zip_safe=False,
    )
