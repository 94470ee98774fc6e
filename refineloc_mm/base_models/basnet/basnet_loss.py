# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net loss (``train.BaS_Net_loss`` of ``Pilhyeon/BaSNet-pytorch``);
the refinement's pseudo ground truth loss is the head's (see
:class:`BaSNetHead`).
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS


@MODELS.register_module()
class BaSNetLoss(nn.Module):
    """Total = base + supp + alpha * norm.

    * ``loss_base``: binary cross-entropy on the base branch's video
      *probabilities* (softmax over C + 1) with target [y, 1] / sum, mean
      over B x (C + 1) (``nn.BCELoss``: logs clamped at -100);
    * ``loss_supp``: the same on the suppression branch with target
      [y, 0] / sum (a video without any label gets the all-zero target
      instead of the original's 0 / 0);
    * ``loss_norm``: alpha times the batch mean of the L1 norm over time of
      the foreground weights, sum_t |w_t| over the real snippets.

    Args:
        alpha (float): Weight of the norm loss. Defaults to 1e-4 (the
            original).
    """

    def __init__(self, alpha: float = 1e-4) -> None:
        super().__init__()
        self.alpha = alpha

    @staticmethod
    def video_bce(score: torch.Tensor, labels: torch.Tensor,
                  background: float) -> torch.Tensor:
        """BCE of [B, C+1] video probabilities with [y, background] / sum,
        mean over B x (C + 1)."""
        target = torch.cat([labels, labels.new_full((len(labels), 1),
                                                    background)], dim=1)
        target = target / target.sum(1, keepdim=True).clamp(min=1e-12)
        return F.binary_cross_entropy(score, target)

    def terms(self,
              score_base: torch.Tensor,
              score_supp: torch.Tensor,
              fore_weights: torch.Tensor,
              mask: torch.Tensor,
              video_labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The unweighted terms (``base``, ``supp``, ``norm``).

        Args:
            score_base (Tensor): [B, C + 1] base-branch video scores.
            score_supp (Tensor): [B, C + 1] suppression-branch scores.
            fore_weights (Tensor): [B, T] foreground weights w.
            mask (Tensor): [B, T] bool, True on real snippets.
            video_labels (Tensor): [B, C] multi-hot.

        Returns:
            dict[str, Tensor]: Scalars ``base``, ``supp`` and ``norm``
            (the batch mean of sum_t |w_t|).
        """
        return dict(
            base=self.video_bce(score_base, video_labels, 1.),
            supp=self.video_bce(score_supp, video_labels, 0.),
            norm=(fore_weights.abs() * mask).sum(1).mean())

    def forward(self, **kwargs) -> Dict[str, torch.Tensor]:
        """The weighted terms, named so that mmengine logs and sums them:
        ``loss_base``, ``loss_supp`` and ``loss_norm`` (alpha * norm) (see
        :meth:`terms` for the arguments)."""
        t = self.terms(**kwargs)
        return dict(
            loss_base=t['base'],
            loss_supp=t['supp'],
            loss_norm=self.alpha * t['norm'])
