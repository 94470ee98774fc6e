# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Pseudo ground truth loss: the extra supervision of the refinement.

A snippet-level binary (background/foreground) loss between one output of
the base model and the pseudo labels of the previous rounds (-1 ignore,
0 background, 1 foreground). Shared by every base model: RefineLoc's
attention, W-TALC's attention branch and BaS-Net's foreground weights.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS

INPUT_TYPES = ('logits', 'probs', 'two_class_logits')
WEIGHTINGS = ('none', 'class_balanced', 'sqrt_pos_weight')


@MODELS.register_module()
class PseudoGTLoss(nn.Module):
    """Weighted binary cross-entropy with the pseudo labels.

    Per video, the (weighted) mean over its labelled snippets; then the
    mean over the videos of the batch that have labels.

    Args:
        input_type (str): What the supervised output is: ``'logits'``
            ([B, T] foreground logits, BCE with logits), ``'probs'``
            ([B, T] foreground probabilities, e.g. after a sigmoid) or
            ``'two_class_logits'`` ([B, T, 2] background/foreground logits,
            cross-entropy). Defaults to ``'logits'``.
        weighting (str): With the labels' w_fg = #bg / (#bg + #fg):
            ``'class_balanced'`` weighs background snippets by 1 - w_fg and
            foreground ones by w_fg (the weighted mean divides by the sum of
            the weights; RefineLoc's k = 2 loss); ``'sqrt_pos_weight'``
            multiplies the foreground term by sqrt(w_fg) (RefineLoc's
            k = 1 loss, ``pos_weight`` of the authors' BCE); ``'none'``.
            Without a w_fg (None) the loss is unweighted.
            Defaults to ``'none'``.
        loss_weight (float): Multiplier of the loss (the paper's
            alpha_pgt). Defaults to 1.
    """

    def __init__(self,
                 input_type: str = 'logits',
                 weighting: str = 'none',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if input_type not in INPUT_TYPES:
            raise ValueError(
                f'input_type must be one of {INPUT_TYPES}, got {input_type}')
        if weighting not in WEIGHTINGS:
            raise ValueError(
                f'weighting must be one of {WEIGHTINGS}, got {weighting}')
        self.input_type = input_type
        self.weighting = weighting
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor,
                pseudo_labels: Optional[torch.Tensor], mask: torch.Tensor,
                fg_weight: Optional[float] = None) -> torch.Tensor:
        """The weighted loss.

        Args:
            pred (Tensor): [B, T] (``logits``, ``probs``) or [B, T, 2]
                (``two_class_logits``).
            pseudo_labels (Tensor, optional): [B, T] long in {-1, 0, 1};
                -1 is ignored. None: no pseudo labels (returns zero).
            mask (Tensor): [B, T] bool, True on real snippets.
            fg_weight (float, optional): w_fg of the current labels.

        Returns:
            Tensor: Scalar; zero (still part of the graph) when no snippet
            of the batch has a label.
        """
        zero = pred.sum() * 0.
        if pseudo_labels is None:
            return zero
        labelled = (pseudo_labels >= 0) & mask
        if not bool(labelled.any()):
            return zero
        # only the labelled snippets enter the arithmetic: an ignored
        # snippet whose output saturated can never turn into inf * 0 = NaN
        video_ind = labelled.nonzero(as_tuple=True)[0]  # [N]
        target = pseudo_labels[labelled]  # [N] in {0, 1}
        pred = pred[labelled]  # [N] or [N, 2]
        weighting = 'none' if fg_weight is None else self.weighting
        pos_weight = math.sqrt(fg_weight) \
            if weighting == 'sqrt_pos_weight' else 1.
        if self.input_type == 'two_class_logits':
            loss = F.cross_entropy(pred, target, reduction='none')
            if pos_weight != 1.:
                loss = loss * torch.where(target == 1, pos_weight, 1.)
        elif self.input_type == 'logits':
            loss = F.binary_cross_entropy_with_logits(
                pred,
                target.to(pred.dtype),
                pos_weight=pred.new_tensor(pos_weight)
                if pos_weight != 1. else None,
                reduction='none')
        else:
            loss = self.probs_bce(pred, target, pos_weight)
        if weighting == 'class_balanced':
            snippet_w = loss.new_tensor([1. - fg_weight, fg_weight])[target]
        else:
            snippet_w = torch.ones_like(loss)
        num_videos = len(labelled)
        num = loss.new_zeros(num_videos).index_add(0, video_ind,
                                                   loss * snippet_w)
        denom = loss.new_zeros(num_videos).index_add(0, video_ind, snippet_w)
        has_labels = denom > 0
        return self.loss_weight * (num[has_labels] / denom[has_labels]).mean()

    @staticmethod
    def probs_bce(prob: torch.Tensor, target: torch.Tensor,
                  pos_weight: float) -> torch.Tensor:
        """[N] BCE of probabilities, finite for probabilities of exactly 0
        or 1 (a saturated sigmoid).

        PyTorch's ``binary_cross_entropy`` clamps each log at -100 and
        bounds its gradient, where ``(1 - p).log()`` of a clamped ``p``
        would not: ``1 - 1e-12 == 1`` in float32. It runs in float32 with
        autocast off (it is not autocast-safe on CUDA).
        """
        with torch.autocast(device_type=prob.device.type, enabled=False):
            weight = torch.where(target == 1, pos_weight, 1.).to(
                torch.float32) if pos_weight != 1. else None
            return F.binary_cross_entropy(
                prob.float(), target.float(), weight=weight, reduction='none')
