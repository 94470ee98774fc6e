# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC localizer: (optional backbone/neck) + W-TALC head."""
from mmaction.registry import MODELS
from refineloc_mm.models.localizers.base_snippet_localizer import (
    BaseSnippetLocalizer)


@MODELS.register_module()
class WTALC(BaseSnippetLocalizer):
    """W-TALC (Paul et al., ECCV 2018) as a base model of the refinement:
    embedding + class activation sequence (:class:`WTALCHead`) on snippet
    features or on any MMAction2 backbone (see
    :class:`BaseSnippetLocalizer` for the arguments and the contract).

    ``tensor`` mode returns (h [B, T, D], CAS logits [B, T, C]) and, with
    the attention branch, foreground logits [B, T]; the pseudo ground
    truth supervises the branch (``cls_head.fc_attention``). Train it with
    :class:`WTALCBatchSampler` (3 classes x 2 videos + 4 random videos,
    the pairs first) and :class:`RandomSnippetCrop` (``max_seqlen``).
    """
