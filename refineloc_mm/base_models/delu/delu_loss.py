# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's training objective (Chen et al., ECCV 2022; ``DELU.criterion``
of ``MengyuanChen21/ECCV2022-DELU`` @ a60e46d, weights of
``scripts/train_thumos.sh``), plus the refinement's pseudo ground truth
loss."""
from typing import Dict

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType


def suppress(cas: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
    """The suppressed CAS ``attn * (cas - m) + m``, m = the minimum over the
    C + 1 columns of each snippet (``_multiply(..., include_min=True)``).

    Args:
        cas (Tensor): [B, T, C + 1].
        attn (Tensor): [B, T, 1].

    Returns:
        Tensor: [B, T, C + 1].
    """
    low = cas.min(dim=-1, keepdim=True)[0]
    return attn * (cas - low) + low


@MODELS.register_module()
class DELULoss(nn.Module):
    """Every term of DELU's loss, weighted; the returned dict holds the
    weighted terms (their sum is the original's ``total_loss``):

    * ``loss_edl``: :class:`VideoEvidentialLoss` on the suppressed CAS
      (weight 1.3);
    * ``loss_uct_guide``: :class:`UncertaintyGuideLoss` (weight 0.4; the
      curriculum over ``max_iter`` iterations and the original's ordering
      quirk);
    * ``loss_mil_orig``, ``loss_mil_supp``: :class:`BackgroundMILLoss` on
      the CAS (target background 1) and on the suppressed CAS (0);
    * ``loss_co_activity``: :class:`CoActivitySimilarityLoss` (W-TALC's) on
      ``feat`` and the suppressed CAS over the C + 1 columns, background
      label 0, pairs (0, 1), (2, 3), (4, 5) (weight 1). The original gives
      NaN for a batch whose pairs share no class, this port 0;
    * ``loss_mutual``: :class:`AttentionMutualLoss` (weight 1);
    * ``loss_norm``: ``norm_weight * (mean attn + mean v_atn + mean
      f_atn) / 3`` (0.8);
    * ``loss_guide``: ``guide_weight * (mean|1 - attn - p_bg| + mean|1 -
      v_atn - p_bg| + mean|1 - f_atn - p_bg|) / 3`` (0.4), p_bg the
      background column of the softmax over the C + 1 CAS columns;

    The refinement's ``loss_pseudo_gt`` (ours) is the head's
    ``pseudo_gt_loss`` (see :class:`DELUHead`).

    Args:
        edl_loss, uct_guide_loss, mil_loss, mil_supp_loss,
            co_activity_loss, mutual_loss (dict): Configs of the terms.
        norm_weight (float): ``alpha1``. Defaults to 0.8.
        guide_weight (float): ``alpha2``. Defaults to 0.4.
    """

    def __init__(self,
                 edl_loss: ConfigType = dict(
                     type='VideoEvidentialLoss', topk_ratio=9,
                     loss_weight=1.3),
                 uct_guide_loss: ConfigType = dict(
                     type='UncertaintyGuideLoss', amplitude=0.7,
                     max_iter=5000, loss_weight=0.4),
                 mil_loss: ConfigType = dict(
                     type='BackgroundMILLoss', topk_ratio=7.,
                     with_background=True, loss_weight=1.),
                 mil_supp_loss: ConfigType = dict(
                     type='BackgroundMILLoss', topk_ratio=7.,
                     with_background=False, loss_weight=1.),
                 co_activity_loss: ConfigType = dict(
                     type='CoActivitySimilarityLoss', num_similar=3,
                     margin=0.5, loss_weight=1.),
                 mutual_loss: ConfigType = dict(
                     type='AttentionMutualLoss', loss_weight=1.),
                 norm_weight: float = 0.8,
                 guide_weight: float = 0.4) -> None:
        super().__init__()
        self.edl_loss = MODELS.build(edl_loss)
        self.uct_guide_loss = MODELS.build(uct_guide_loss)
        self.mil_loss = MODELS.build(mil_loss)
        self.mil_supp_loss = MODELS.build(mil_supp_loss)
        self.co_activity_loss = MODELS.build(co_activity_loss)
        self.mutual_loss = MODELS.build(mutual_loss)
        self.norm_weight = norm_weight
        self.guide_weight = guide_weight

    @staticmethod
    def _mean(x: torch.Tensor, mask: torch.Tensor, padded: bool
              ) -> torch.Tensor:
        return x[mask].mean() if padded else x.mean()

    def forward(self,
                outputs: Dict[str, torch.Tensor],
                labels: torch.Tensor,
                mask: torch.Tensor,
                iteration: int) -> Dict[str, torch.Tensor]:
        """The weighted terms.

        Args:
            outputs (dict[str, Tensor]): :class:`DELUHead`'s ``feat``
                [B, T, D], ``cas`` [B, T, C + 1], ``attn``, ``v_atn``,
                ``f_atn`` [B, T, 1].
            labels (Tensor): Multi-hot video labels [B, C].
            mask (Tensor): [B, T] bool.
            iteration (int): Training iteration (the curriculum's).

        Returns:
            dict[str, Tensor]: The weighted terms listed in the class
            docstring.
        """
        feat, cas = outputs['feat'], outputs['cas']
        attn, v_atn, f_atn = outputs['attn'], outputs['v_atn'], outputs[
            'f_atn']
        padded = not bool(mask.all())
        supp = suppress(cas, attn)
        p_bg = cas.softmax(-1)[..., [-1]]
        back = labels.new_zeros((labels.shape[0], 1))
        losses = dict(
            loss_edl=self.edl_loss(supp, attn, mask, labels),
            loss_uct_guide=self.uct_guide_loss(cas, supp, attn, v_atn,
                                               f_atn, mask, iteration),
            loss_mil_orig=self.mil_loss(cas, mask, labels),
            loss_mil_supp=self.mil_supp_loss(supp, mask, labels),
            loss_co_activity=self.co_activity_loss(
                feat, supp, mask, torch.cat((labels, back), -1)),
            loss_mutual=self.mutual_loss(v_atn, f_atn, mask),
            loss_norm=self.norm_weight * (
                self._mean(attn, mask, padded) +
                self._mean(v_atn, mask, padded) +
                self._mean(f_atn, mask, padded)) / 3,
            loss_guide=self.guide_weight * (
                self._mean((1 - attn - p_bg).abs(), mask, padded) +
                self._mean((1 - v_atn - p_bg).abs(), mask, padded) +
                self._mean((1 - f_atn - p_bg).abs(), mask, padded)) / 3)
        return losses
