# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc loss: video label loss (+ L1 and group sparsity regularizers),
computed for a padded batch without a Python loop over videos. The pseudo
ground truth loss on the attention is the head's ``pseudo_gt_loss``
(:class:`BaseSnippetHead`).

Every term is first computed per video and then averaged over the videos
of the batch, as in the authors' implementation.
"""
from typing import Dict

import torch
import torch.nn as nn

from mmaction.registry import MODELS


@MODELS.register_module()
class RefineLocLoss(nn.Module):
    """Total = video label loss + alpha_l1 * L1 + alpha_gs * group sparsity
    (the head adds alpha_pgt * pseudo ground truth loss).

    Args:
        alpha_l1 (float): Weight of the L1 term (mean of raw attention
            logits' absolute values). Defaults to 0.
        alpha_gs (float): Weight of the group sparsity term (mean absolute
            change of the temporal attention between adjacent snippets).
            Defaults to 0.
        attention_dim (int): k, the width of the attention logits. Set by
            the head. Defaults to 2.
    """

    def __init__(self,
                 alpha_l1: float = 0.0,
                 alpha_gs: float = 0.0,
                 attention_dim: int = 2) -> None:
        super().__init__()
        self.alpha_l1 = alpha_l1
        self.alpha_gs = alpha_gs
        self.attention_dim = attention_dim

    def terms(self,
              cas: torch.Tensor,
              attention: torch.Tensor,
              attention_time: torch.Tensor,
              mask: torch.Tensor,
              video_labels: torch.Tensor,
              skip_unweighted: bool = False) -> Dict[str, torch.Tensor]:
        """The unweighted loss terms, each averaged over the videos.

        Args:
            cas (Tensor): Class activation sequence C (logits), [B, T, N].
            attention (Tensor): Attention logits A, [B, T, k].
            attention_time (Tensor): A-bar-time, [B, T] (zero on padding).
            mask (Tensor): [B, T] bool, True on real snippets.
            video_labels (Tensor): Multi-hot video labels [B, N]; the
                target is their normalized distribution.
            skip_unweighted (bool): Return zeros for the regularizers whose
                weight is 0 instead of computing them. Defaults to False.

        Returns:
            dict[str, Tensor]: scalars ``video_label``, ``l1`` and
            ``group_sparsity``.
        """
        maskf = mask.to(cas.dtype)
        lengths = maskf.sum(1)

        # Video label loss: -sum_t Abar_time_t * sum_c q_c log Cbar_t[c].
        target = video_labels / video_labels.sum(-1, keepdim=True).clamp(
            min=1e-12)
        log_cas = torch.log_softmax(cas, dim=-1)
        per_snippet = torch.einsum('btn,bn->bt', log_cas, target)
        video_label = -(attention_time * per_snippet * maskf).sum(1)

        zero = cas.new_zeros(())
        l1 = group_sparsity = zero
        if not (skip_unweighted and self.alpha_l1 == 0):
            # L1 on the raw attention logits, mean over T x k per video.
            l1 = ((attention.abs() * maskf.unsqueeze(-1)).sum(
                (1, 2)) / (lengths * attention.shape[-1])).mean()
        if not (skip_unweighted and self.alpha_gs == 0):
            # Group sparsity: mean |Abar_time[t+1] - Abar_time[t]| per
            # video.
            pair_mask = (mask[:, 1:] & mask[:, :-1]).to(cas.dtype)
            diffs = (attention_time[:, 1:] - attention_time[:, :-1]).abs()
            group_sparsity = ((diffs * pair_mask).sum(1) /
                              pair_mask.sum(1).clamp(min=1)).mean()

        return dict(
            video_label=video_label.mean(),
            l1=l1,
            group_sparsity=group_sparsity)

    def forward(self, **kwargs) -> Dict[str, torch.Tensor]:
        """The weighted terms, named so that mmengine logs each of them and
        sums them into ``loss`` (see :meth:`terms` for the arguments)."""
        t = self.terms(**kwargs, skip_unweighted=True)
        return dict(
            loss_video_label=t['video_label'],
            loss_l1=self.alpha_l1 * t['l1'],
            loss_group_sparsity=self.alpha_gs * t['group_sparsity'])
