# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The generic model parts: the localizer and head templates of the
base-model contract, the shared losses, the pseudo ground truth generator,
the post-processor template and the shared building blocks. The base
models themselves live in :mod:`refineloc_mm.base_models`."""
from .data_preprocessors import SnippetDataPreprocessor
from .heads import BaseSnippetHead
from .localizers import BaseSnippetLocalizer
from .losses import CoActivitySimilarityLoss, MILLoss, PseudoGTLoss
from .task_modules import (BaseSegmentPostProcessor, PseudoGTGenerator,
                           SnippetThresholdSegmenter)

__all__ = [
    'SnippetDataPreprocessor', 'BaseSnippetHead', 'BaseSnippetLocalizer',
    'CoActivitySimilarityLoss', 'MILLoss', 'PseudoGTLoss',
    'BaseSegmentPostProcessor', 'PseudoGTGenerator',
    'SnippetThresholdSegmenter'
]
