# Copyright (c) refineloc-mm contributors. All rights reserved.
from .data_preprocessors import SnippetDataPreprocessor
from .heads import RefineLocHead
from .localizers import RefineLoc
from .losses import RefineLocLoss
from .task_modules import ActionSegmentPredictor, PseudoGTGenerator

__all__ = [
    'SnippetDataPreprocessor', 'RefineLocHead', 'RefineLoc', 'RefineLocLoss',
    'ActionSegmentPredictor', 'PseudoGTGenerator'
]
from .backbones import SnippetClipBackbone  # noqa: F401
