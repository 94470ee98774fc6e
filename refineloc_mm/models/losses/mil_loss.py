# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's multiple-instance learning (MIL) loss (Paul et al., ECCV 2018,
``train.MILL`` of ``sujoyp/wtalc-pytorch``). Its top-k counts
(:func:`topk_counts`) live in ``snippet_ops`` and are re-exported here."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS
from ..utils.snippet_ops import topk_counts, topk_mean_over_time


@MODELS.register_module()
class MILLoss(nn.Module):
    """W-TALC's MIL loss: cross-entropy between the video labels and the
    softmax over classes of the top-k pooled class activation sequence.

    Per video i with T_i snippets, s_i = mean of the top ``ceil(T_i/8)``
    CAS logits over time per class; the loss is the mean over videos of
    ``-sum_c yhat_ic log softmax(s_i)_c`` with ``yhat = y / sum_c y``
    (multi-label videos share the probability mass).

    Args:
        topk_divisor (int): k_i = ceil(T_i / topk_divisor). Defaults to 8.
        loss_weight (float): Multiplier (W-TALC's lambda = 0.5).
            Defaults to 0.5.
    """

    def __init__(self, topk_divisor: int = 8, loss_weight: float = 0.5
                 ) -> None:
        super().__init__()
        self.topk_divisor = topk_divisor
        self.loss_weight = loss_weight

    def forward(self,
                cas: torch.Tensor,
                mask: torch.Tensor,
                labels: torch.Tensor,
                video_score: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The weighted loss.

        Args:
            cas (Tensor): Class activation sequence (logits) [B, T, C].
            mask (Tensor): [B, T] bool, True on real snippets.
            labels (Tensor): Multi-hot video labels [B, C], at least one
                class per video.
            video_score (Tensor, optional): The top-k pooled logits
                [B, C] if already computed.

        Returns:
            Tensor: Scalar.
        """
        if video_score is None:
            video_score = topk_mean_over_time(
                cas, mask, topk_counts(mask, self.topk_divisor, 'ceil'))
        target = labels / labels.sum(1, keepdim=True)
        loss = -(target * F.log_softmax(video_score, dim=1)).sum(1).mean()
        return self.loss_weight * loss
