# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc for MMAction2.

Importing the package (configs do it through
``custom_imports=dict(imports=['refineloc_mm'])``) applies the compatibility
patches of :mod:`refineloc_mm.utils.compat` and registers every component
in MMAction2's registries.
"""
from .utils.compat import apply_patches

apply_patches()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from . import visualization  # noqa: E402,F401

__version__ = '0.1.0'
