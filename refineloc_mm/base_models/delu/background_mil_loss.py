# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The top-k MIL loss over C + 1 classes of DELU (Chen et al., ECCV 2022;
``DELU.topkloss`` of ``MengyuanChen21/ECCV2022-DELU`` @ a60e46d), also
that of CO2-Net and BaS-Net-style models with a background column."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS
from refineloc_mm.models.utils.snippet_ops import topk_mean_over_time


@MODELS.register_module()
class BackgroundMILLoss(nn.Module):
    """Cross-entropy between the video labels (with a background entry)
    and the softmax over C + 1 classes of the top-k pooled CAS.

    Per video of L snippets: k = max(1, int(L // topk_ratio)) (45 of 320
    for the original's k = 7); s = mean of the k largest values over time
    per column [C + 1]; target ``[y, b] / (sum + eps)`` with b = 1
    (``with_background=True``: every video contains background, the plain
    CAS) or 0 (the suppressed CAS); ``-sum target * log_softmax(s)``,
    mean over videos.

    Args:
        topk_ratio (float): Defaults to 7.
        with_background (bool): The target's background entry. Defaults to
            True.
        eps (float): Added to the target's normalizer. Defaults to 1e-4.
        loss_weight (float): Multiplier. Defaults to 1.
    """

    def __init__(self,
                 topk_ratio: float = 7.,
                 with_background: bool = True,
                 eps: float = 1e-4,
                 loss_weight: float = 1.) -> None:
        super().__init__()
        if topk_ratio <= 0:
            raise ValueError(f'topk_ratio must be > 0, got {topk_ratio}')
        self.topk_ratio = topk_ratio
        self.with_background = with_background
        self.eps = eps
        self.loss_weight = loss_weight

    def per_video(self, cas: torch.Tensor, mask: torch.Tensor,
                  labels: torch.Tensor) -> torch.Tensor:
        """[B] unweighted losses of cas [B, T, C + 1], mask [B, T] and
        multi-hot labels [B, C]."""
        k = torch.floor(mask.sum(1) / self.topk_ratio).long().clamp(min=1)
        pooled = topk_mean_over_time(cas, mask, k)
        back = labels.new_full((labels.shape[0], 1),
                               1. if self.with_background else 0.)
        target = torch.cat((labels, back), dim=-1)
        target = target / (target.sum(1, keepdim=True) + self.eps)
        return -(target * F.log_softmax(pooled, dim=-1)).sum(-1)

    def forward(self, cas: torch.Tensor, mask: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """The weighted loss (scalar)."""
        return self.loss_weight * self.per_video(cas, mask, labels).mean()
