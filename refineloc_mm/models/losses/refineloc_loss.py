# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc loss: video label loss + pseudo ground truth loss (+ L1 and
group sparsity regularizers), computed for a padded batch without a Python
loop over videos.

Every term is first computed per video and then averaged over the videos
of the batch, as in the authors' implementation.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from .pseudo_gt_loss import PseudoGTLoss


@MODELS.register_module()
class RefineLocLoss(nn.Module):
    """Total = video label loss + alpha_l1 * L1 + alpha_gs * group sparsity
    + alpha_pgt * pseudo ground truth loss.

    Args:
        alpha_l1 (float): Weight of the L1 term (mean of raw attention
            logits' absolute values). Defaults to 0.
        alpha_gs (float): Weight of the group sparsity term (mean absolute
            change of the temporal attention between adjacent snippets).
            Defaults to 0.
        alpha_pgt (float): Weight of the pseudo ground truth loss.
            Defaults to 1.
        weighted (bool): Weight the pseudo ground truth loss by w_fg
            (k = 2: class weights [1 - w_fg, w_fg]; k = 1: BCE
            ``pos_weight = sqrt(w_fg)``). Defaults to False.
        attention_dim (int): k, 2 (cross-entropy) or 1 (BCE with logits).
            Set by the head. Defaults to 2.
    """

    def __init__(self,
                 alpha_l1: float = 0.0,
                 alpha_gs: float = 0.0,
                 alpha_pgt: float = 1.0,
                 weighted: bool = False,
                 attention_dim: int = 2) -> None:
        super().__init__()
        self.alpha_l1 = alpha_l1
        self.alpha_gs = alpha_gs
        self.alpha_pgt = alpha_pgt
        self.weighted = weighted
        self.attention_dim = attention_dim
        self.pseudo_gt = PseudoGTLoss(
            input_type='two_class_logits' if attention_dim == 2 else 'logits',
            weighting='class_balanced'
            if attention_dim == 2 else 'sqrt_pos_weight')

    def terms(self,
              cas: torch.Tensor,
              attention: torch.Tensor,
              attention_time: torch.Tensor,
              mask: torch.Tensor,
              video_labels: torch.Tensor,
              pseudo_labels: Optional[torch.Tensor] = None,
              fg_weight: Optional[float] = None,
              skip_unweighted: bool = False) -> Dict[str, torch.Tensor]:
        """The unweighted loss terms, each averaged over the videos.

        Args:
            cas (Tensor): Class activation sequence C (logits), [B, T, N].
            attention (Tensor): Attention logits A, [B, T, k].
            attention_time (Tensor): A-bar-time, [B, T] (zero on padding).
            mask (Tensor): [B, T] bool, True on real snippets.
            video_labels (Tensor): Multi-hot video labels [B, N]; the
                target is their normalized distribution.
            pseudo_labels (Tensor, optional): [B, T] long in {-1, 0, 1};
                -1 (and padding) is ignored. None means no pseudo labels.
            fg_weight (float, optional): w_fg of the current pseudo labels.
            skip_unweighted (bool): Return zeros for the regularizers whose
                weight is 0 instead of computing them. Defaults to False.

        Returns:
            dict[str, Tensor]: scalars ``video_label``, ``l1``,
            ``group_sparsity`` and ``pseudo_gt``.
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
            group_sparsity=group_sparsity,
            pseudo_gt=self.pseudo_gt_loss(attention, mask, pseudo_labels,
                                          fg_weight))

    def pseudo_gt_loss(self, attention: torch.Tensor, mask: torch.Tensor,
                       pseudo_labels: Optional[torch.Tensor],
                       fg_weight: Optional[float]) -> torch.Tensor:
        """Pseudo ground truth loss on the attention logits A, mean over the
        videos that have labels (see :class:`PseudoGTLoss`): k = 2
        cross-entropy, weighted ``[1 - w_fg, w_fg]``; k = 1 BCE with
        logits, ``pos_weight = sqrt(w_fg)``. Zero when no snippet of the
        batch carries a pseudo label."""
        pred = attention if self.attention_dim == 2 else attention[..., 0]
        return self.pseudo_gt(pred, pseudo_labels, mask,
                              fg_weight if self.weighted else None)

    def forward(self, **kwargs) -> Dict[str, torch.Tensor]:
        """The weighted terms, named so that mmengine logs each of them and
        sums them into ``loss`` (see :meth:`terms` for the arguments)."""
        t = self.terms(**kwargs, skip_unweighted=True)
        return dict(
            loss_video_label=t['video_label'],
            loss_l1=self.alpha_l1 * t['l1'],
            loss_group_sparsity=self.alpha_gs * t['group_sparsity'],
            loss_pseudo_gt=self.alpha_pgt * t['pseudo_gt'])
