# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net loss (``train.BaS_Net_loss`` of ``Pilhyeon/BaSNet-pytorch``)
plus the refinement's pseudo ground truth loss on the foreground weights.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.registry import MODELS
from mmaction.utils import ConfigType

# pseudo_gt_target -> the PseudoGTLoss input_type it needs
PSEUDO_GT_TARGETS = dict(foreground_weights='probs', suppression_cas='logits')
TARGET_WORDS = dict(
    foreground_weights='the foreground weights w, which are probabilities',
    suppression_cas="the suppression CAS's logits")


@MODELS.register_module()
class BaSNetLoss(nn.Module):
    """Total = base + supp + alpha * norm + pseudo ground truth loss.

    * ``loss_base``: binary cross-entropy on the base branch's video
      *probabilities* (softmax over C + 1) with target [y, 1] / sum, mean
      over B x (C + 1) (``nn.BCELoss``: logs clamped at -100);
    * ``loss_supp``: the same on the suppression branch with target
      [y, 0] / sum (a video without any label gets the all-zero target
      instead of the original's 0 / 0);
    * ``loss_norm``: alpha times the batch mean of the L1 norm over time of
      the foreground weights, sum_t |w_t| over the real snippets;
    * ``loss_pseudo_gt``: :class:`PseudoGTLoss` with the pseudo labels
      on the output named by ``pseudo_gt_target``; zero without labels.
      Ours: the original has no pseudo labels. Targets:

      - ``'foreground_weights'``: the foreground weights ``w``
        (probabilities, ``input_type='probs'``);
      - ``'suppression_cas'``: the suppression branch's CAS logit of the
        video's labelled classes (their max at every snippet), i.e. what
        BaS-Net's test thresholds (``input_type='logits'``: a logit cannot
        saturate). A snippet labelled background pushes every labelled
        class's logit below 0, so that the test's min-max normalisation
        (which clips its min at 0) puts it below every threshold.

    Args:
        alpha (float): Weight of the norm loss. Defaults to 1e-4 (the
            original).
        pseudo_gt_loss (dict): Config of :class:`PseudoGTLoss`;
            ``input_type`` must be ``'probs'`` for ``'foreground_weights'``
            and ``'logits'`` for ``'suppression_cas'`` (its default is set
            from the target). Defaults to an unweighted BCE with weight 1.
        pseudo_gt_target (str): What the pseudo labels supervise (above).
            Defaults to ``'foreground_weights'``.
    """

    def __init__(self,
                 alpha: float = 1e-4,
                 pseudo_gt_loss: ConfigType = dict(
                     type='PseudoGTLoss', weighting='none',
                     loss_weight=1.0),
                 pseudo_gt_target: str = 'foreground_weights') -> None:
        super().__init__()
        if pseudo_gt_target not in PSEUDO_GT_TARGETS:
            raise ValueError(
                f'pseudo_gt_target must be one of {PSEUDO_GT_TARGETS}, '
                f'got {pseudo_gt_target!r}')
        self.alpha = alpha
        self.pseudo_gt_target = pseudo_gt_target
        expected = PSEUDO_GT_TARGETS[pseudo_gt_target]
        pgt = dict(pseudo_gt_loss)
        if pgt.setdefault('input_type', expected) != expected:
            raise ValueError(
                f"BaSNetLoss(pseudo_gt_target='{pseudo_gt_target}') "
                f"supervises {TARGET_WORDS[pseudo_gt_target]}: "
                f"pseudo_gt_loss.input_type must be '{expected}', got "
                f"{pgt['input_type']!r}")
        self.pseudo_gt_loss = MODELS.build(pgt)

    @staticmethod
    def labelled_class_logit(cas: torch.Tensor,
                             video_labels: torch.Tensor) -> torch.Tensor:
        """Per snippet, the max CAS logit over the video's labelled classes.

        Args:
            cas (Tensor): [B, T, C + 1] CAS logits.
            video_labels (Tensor): [B, C] multi-hot. A video without any
                label takes the max over all C action classes.

        Returns:
            Tensor: [B, T].
        """
        num_classes = video_labels.shape[1]
        labelled = video_labels > 0
        labelled = labelled | ~labelled.any(1, keepdim=True)
        logits = cas[..., :num_classes].masked_fill(
            ~labelled[:, None], float('-inf'))
        return logits.amax(-1)

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
              video_labels: torch.Tensor,
              pseudo_labels: Optional[torch.Tensor] = None,
              fg_weight: Optional[float] = None,
              cas_supp: Optional[torch.Tensor] = None
              ) -> Dict[str, torch.Tensor]:
        """The unweighted terms (``base``, ``supp``, ``norm``) and the
        pseudo ground truth loss (with its ``loss_weight``).

        Args:
            score_base (Tensor): [B, C + 1] base-branch video scores.
            score_supp (Tensor): [B, C + 1] suppression-branch scores.
            fore_weights (Tensor): [B, T] foreground weights w.
            mask (Tensor): [B, T] bool, True on real snippets.
            video_labels (Tensor): [B, C] multi-hot.
            pseudo_labels (Tensor, optional): [B, T] long in {-1, 0, 1}.
            fg_weight (float, optional): w_fg of the pseudo labels.
            cas_supp (Tensor, optional): [B, T, C + 1] suppression-branch
                CAS logits; needed for ``pseudo_gt_target='suppression_cas'``.

        Returns:
            dict[str, Tensor]: Scalars ``base``, ``supp``, ``norm`` (the
            batch mean of sum_t |w_t|) and ``pseudo_gt``.
        """
        if self.pseudo_gt_target == 'suppression_cas' and \
                pseudo_labels is not None:
            if cas_supp is None:
                raise ValueError(
                    "BaSNetLoss(pseudo_gt_target='suppression_cas') needs "
                    'cas_supp')
            pgt_input = self.labelled_class_logit(cas_supp, video_labels)
        else:
            pgt_input = fore_weights
        return dict(
            base=self.video_bce(score_base, video_labels, 1.),
            supp=self.video_bce(score_supp, video_labels, 0.),
            norm=(fore_weights.abs() * mask).sum(1).mean(),
            pseudo_gt=self.pseudo_gt_loss(pgt_input, pseudo_labels, mask,
                                          fg_weight))

    def forward(self, **kwargs) -> Dict[str, torch.Tensor]:
        """The weighted terms, named so that mmengine logs and sums them:
        ``loss_base``, ``loss_supp``, ``loss_norm`` (alpha * norm) and
        ``loss_pseudo_gt`` (see :meth:`terms` for the arguments)."""
        t = self.terms(**kwargs)
        return dict(
            loss_base=t['base'],
            loss_supp=t['supp'],
            loss_norm=self.alpha * t['norm'],
            loss_pseudo_gt=t['pseudo_gt'])
