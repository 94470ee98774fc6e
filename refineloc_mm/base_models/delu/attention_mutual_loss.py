# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The mutual learning loss between the two attention streams of DELU
(Chen et al., ECCV 2022; ``DELU.criterion`` of
``MengyuanChen21/ECCV2022-DELU`` @ a60e46d, from CO2-Net)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS


@MODELS.register_module()
class AttentionMutualLoss(nn.Module):
    """``0.5 MSE(v, sg(f)) + 0.5 MSE(f, sg(v))`` (sg: stop gradient): each
    stream's attention is pulled towards the other's; the value is
    MSE(v, f).

    Args:
        loss_weight (float): Multiplier (``alpha4``). Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, v_atn: torch.Tensor, f_atn: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """The weighted loss.

        Args:
            v_atn, f_atn (Tensor): [B, T, 1] attentions.
            mask (Tensor): [B, T] bool; the mean runs over real snippets.

        Returns:
            Tensor: Scalar.
        """
        if not bool(mask.all()):
            v_atn, f_atn = v_atn[mask], f_atn[mask]
        loss = 0.5 * F.mse_loss(v_atn, f_atn.detach()) + \
            0.5 * F.mse_loss(f_atn, v_atn.detach())
        return self.loss_weight * loss
