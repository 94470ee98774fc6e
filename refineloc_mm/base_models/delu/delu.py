# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU localizer: (optional backbone/neck) + DELU head."""
from mmaction.registry import MODELS
from refineloc_mm.models.localizers.base_snippet_localizer import (
    BaseSnippetLocalizer)


@MODELS.register_module()
class DELU(BaseSnippetLocalizer):
    """DELU (Chen et al., *Dual-Evidential Learning for Weakly-supervised
    Temporal Action Localization*, ECCV 2022) as a base model of the
    refinement: two cross-stream attention blocks, fusion and classifier
    (:class:`DELUHead`), its evidential, curriculum, MIL, co-activity,
    mutual, norm and guide losses (:class:`DELULoss`) and its
    multi-threshold proposals with outer-inner-contrast scores and Gaussian
    soft-NMS (:class:`DELUPostProcessor`), on snippet features or on any
    MMAction2 backbone (see :class:`BaseSnippetLocalizer` for the
    arguments and the contract).

    Train it like the original with :class:`DELUBatchSampler` (3 classes x
    2 videos sharing the class + 4 random videos) and
    :class:`RandomPerturbSnippets` (every training video resampled to 320
    snippets, one random snippet per bin; test videos are fed whole).

    ``tensor`` mode returns the head's dict: ``feat`` [B, T, D], ``cas``
    [B, T, C + 1], ``attn``, ``v_atn``, ``f_atn`` [B, T, 1], ``v_logit``,
    ``f_logit`` [B, T]. The pseudo ground truth supervises the attention
    logits of both blocks (``cls_head.vAttn``, ``cls_head.fAttn``).
    """


__all__ = ['DELU']
