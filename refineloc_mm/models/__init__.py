# Copyright (c) refineloc-mm contributors. All rights reserved.
from .data_preprocessors import SnippetDataPreprocessor
from .heads import BaSNetHead, RefineLocHead, WTALCHead
from .localizers import WTALC, BaSNet, RefineLoc
from .losses import (BaSNetLoss, CoActivitySimilarityLoss, MILLoss,
                     RefineLocLoss)
from .task_modules import (ActionSegmentPredictor, BaSNetPostProcessor,
                           PseudoGTGenerator, WTALCPostProcessor)

__all__ = [
    'SnippetDataPreprocessor', 'RefineLocHead', 'RefineLoc', 'RefineLocLoss',
    'ActionSegmentPredictor', 'PseudoGTGenerator', 'WTALC', 'WTALCHead',
    'MILLoss', 'CoActivitySimilarityLoss', 'WTALCPostProcessor', 'BaSNet',
    'BaSNetHead', 'BaSNetLoss', 'BaSNetPostProcessor'
]
from .backbones import SnippetClipBackbone  # noqa: F401
