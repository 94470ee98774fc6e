# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net localizer: (optional backbone/neck) + BaS-Net head."""
from mmaction.registry import MODELS
from refineloc_mm.models.localizers.base_snippet_localizer import (
    BaseSnippetLocalizer)


@MODELS.register_module()
class BaSNet(BaseSnippetLocalizer):
    """BaS-Net (Lee et al., AAAI 2020) as a base model of the refinement:
    filtering module, CAS module shared by the base and suppression
    branches (:class:`BaSNetHead`), its losses (:class:`BaSNetLoss`) and its
    multi-threshold post-processing (:class:`BaSNetPostProcessor`), on
    snippet features or on any MMAction2 backbone (see
    :class:`BaseSnippetLocalizer` for the arguments and the contract).

    The original resamples every video to ``num_segments`` = 750 snippets;
    here the pipeline's :class:`ResampleSnippets` does it (uniform indices
    at inference, a random snippet per bin in training), keeping the pseudo
    labels aligned and the seconds right.

    ``tensor`` mode returns ``(score_base [B, C+1], cas_base [B, T, C+1],
    score_supp [B, C+1], cas_supp [B, T, C+1], w [B, T, 1])``; the pseudo
    ground truth supervises the foreground weights w
    (``cls_head.filter_module``).
    """


__all__ = ['BaSNet']
