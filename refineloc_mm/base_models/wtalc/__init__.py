# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC (Paul et al., ECCV 2018) as a base model: its localizer, head,
post-processor, batch sampler and snippet crop (registered on import;
configs import this subpackage through ``custom_imports``). Its losses,
:class:`MILLoss` and :class:`CoActivitySimilarityLoss`, are shared."""
from .random_snippet_crop import RandomSnippetCrop
from .wtalc import WTALC
from .wtalc_batch_sampler import WTALCBatchSampler
from .wtalc_head import WTALCHead
from .wtalc_post_processor import WTALCPostProcessor

__all__ = [
    'WTALC', 'WTALCHead', 'WTALCPostProcessor', 'WTALCBatchSampler',
    'RandomSnippetCrop'
]
