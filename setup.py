# Copyright (c) refineloc-mm contributors. All rights reserved.
from setuptools import find_packages, setup


def parse_requirements(fname: str = 'requirements.txt') -> list:
    with open(fname) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-r'))
        ]


setup(
    name='refineloc_mm',
    version='0.1.0',
    description='RefineLoc (WACV 2021) weakly-supervised temporal action '
    'localization as an MMAction2 plugin',
    packages=find_packages(include=['refineloc_mm', 'refineloc_mm.*']),
    python_requires='>=3.9',
    install_requires=parse_requirements(),
    license='Apache License 2.0',
)
