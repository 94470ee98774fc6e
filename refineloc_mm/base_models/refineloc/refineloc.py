# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc localizer: (optional backbone/neck) + RefineLoc head."""
from mmaction.registry import MODELS
from refineloc_mm.models.localizers.base_snippet_localizer import (
    BaseSnippetLocalizer, length_mask, snippet_backbone_config,
    snippet_mask)


@MODELS.register_module()
class RefineLoc(BaseSnippetLocalizer):
    """Weakly-supervised temporal action localizer of RefineLoc: snippet
    classification, background/foreground attention and video label
    prediction (:class:`RefineLocHead`) on snippet features or on any
    MMAction2 backbone (see :class:`BaseSnippetLocalizer` for the
    arguments and the base-model contract).

    ``tensor`` mode returns (C [B, T, N], A [B, T, k]); the pseudo ground
    truth supervises the attention A (``cls_head.fc_attention``).
    """


__all__ = [
    'RefineLoc', 'length_mask', 'snippet_mask', 'snippet_backbone_config'
]
