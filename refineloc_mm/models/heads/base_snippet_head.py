# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The head template of every base model of the refinement (modeled on
MMDetection's ``BaseDenseHead``).

A base model's head subclasses :class:`BaseSnippetHead` and writes four
methods; the template does the rest::

    loss(x, mask, data_samples)
        -> forward(x, mask)                       # outs, model-specific
        -> loss_by_feat(outs, mask, data_samples) # the model's own losses
        +  loss_pseudo_gt: pseudo_gt_loss on pseudo_label_output(outs, ...)
    snippet_scores(x, mask, data_samples)
        -> forward(x, mask)
        -> scores_by_feat(outs, mask, data_samples)  # the scores dict
    post_process(scores, data_samples, post_processor=None)
        -> post_processor.predict_segments(scores, data_samples)

``x`` is the packed snippet features [S, D] of a batch (S = mask.sum())
and ``mask`` the [B, T] bool mask of its real snippets.

The scores dict has at least ``cas_softmax`` [B, T, N] (per-snippet class
probabilities) and ``video_score`` [B, N], and ``foreground`` [B, T] (a
class-agnostic foreground probability) *where the model has one*, plus
any entry the model's own post-processor reads (e.g. raw logits); the
localizer adds ``mask``. Post-processors (``TASK_UTILS``) read that dict
through ``predict_segments(scores, data_samples)``.

The pseudo ground truth loss of the refinement is built from ONE config
key, ``cls_head.pseudo_gt_loss`` (a :class:`PseudoGTLoss` config, None for
none), and applied to every tensor :meth:`pseudo_label_output` returns
(averaged), as ``loss_pseudo_gt``: zero (still in the graph) in round 0.
"""
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS, TASK_UTILS
from mmaction.utils import OptConfigType, SampleList
from ..utils.snippet_ops import no_autocast, stack_pseudo_labels


class BaseSnippetHead(BaseModule, metaclass=ABCMeta):
    """Template of a base model's head (see the module docstring).

    Subclasses implement :meth:`forward`, :meth:`loss_by_feat`,
    :meth:`scores_by_feat` and, when the pseudo labels supervise an
    output, :meth:`pseudo_label_output`; they set ``pseudo_label_branch``
    (the name of the submodule that the pseudo ground truth loss trains)
    and may override :meth:`init_layers` (their own initialization, run
    at build time by the subclass and again by :meth:`init_weights` and
    :meth:`reset_parameters`).

    Args:
        num_classes (int): Action classes N (no background).
        in_channels (int): Snippet feature width D.
        pseudo_gt_loss (dict, optional): :class:`PseudoGTLoss` config of
            the refinement's extra supervision; None: no such loss.
        post_processor (dict, optional): The model's own post-processor
            (a ``TASK_UTILS`` config with ``predict_segments``).
        init_cfg (dict, optional): Initialization config; None keeps the
            head's own initialization (:meth:`init_layers`).
    """

    # the submodule the pseudo ground truth loss supervises
    pseudo_label_branch: str = ''

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 pseudo_gt_loss: OptConfigType = None,
                 post_processor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.pseudo_gt_loss = MODELS.build(pseudo_gt_loss) \
            if pseudo_gt_loss else None
        self.post_processor = TASK_UTILS.build(post_processor) \
            if post_processor else None

    # ------------------------------------------------------- initialization
    def init_layers(self) -> None:
        """The head's own initialization (default: none, i.e. PyTorch's
        defaults as the layers were built)."""

    def init_weights(self) -> None:
        """The ``init_cfg``'s initialization, or the head's own
        (:meth:`init_layers`, again e.g. after a model reset)."""
        if self.init_cfg:
            super().init_weights()
        else:
            self.init_layers()

    def reset_parameters(self) -> None:
        """Fresh head layers for a new refinement round (the layers'
        own ``reset_parameters`` are called by the localizer's reset)."""
        self.init_layers()

    # ------------------------------------------------------------- the model
    @abstractmethod
    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Any:
        """The model's raw outputs (``tensor`` mode) of a batch."""

    @abstractmethod
    def loss_by_feat(self, outs: Any, mask: torch.Tensor,
                     data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The model's own ``loss_*`` terms from :meth:`forward`'s
        outputs (without the pseudo ground truth loss)."""

    @abstractmethod
    def scores_by_feat(self, outs: Any, mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """The scores dict (see the module docstring) from
        :meth:`forward`'s outputs."""

    def pseudo_label_output(self, outs: Any, mask: torch.Tensor,
                            data_samples: SampleList
                            ) -> Optional[Sequence[torch.Tensor]]:
        """The outputs the pseudo ground truth loss supervises ([B, T] or
        [B, T, 2] each, as its ``input_type`` says), or None (no such
        output: no ``loss_pseudo_gt``). Defaults to None."""
        return None

    # ------------------------------------------------------------ template
    def loss(self, x: torch.Tensor, mask: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Losses of a batch: :meth:`loss_by_feat`'s terms, then
        ``loss_pseudo_gt`` (see :meth:`loss_pseudo_gt`).

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [N]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg).
        """
        outs = self(x, mask)
        losses = self.loss_by_feat(outs, mask, data_samples)
        losses.update(self.loss_pseudo_gt(outs, mask, data_samples))
        return losses

    def loss_pseudo_gt(self, outs: Any, mask: torch.Tensor,
                       data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """``{'loss_pseudo_gt': ...}``: ``pseudo_gt_loss`` on each output
        of :meth:`pseudo_label_output`, averaged, in float32; empty
        without a ``pseudo_gt_loss`` or a supervised output."""
        if self.pseudo_gt_loss is None:
            return {}
        preds = self.pseudo_label_output(outs, mask, data_samples)
        if preds is None:
            return {}
        pseudo = stack_pseudo_labels(data_samples, mask)
        fg_weight = data_samples[0].metainfo.get('fg_weight', None)
        with no_autocast(mask):
            terms = [
                self.pseudo_gt_loss(p, pseudo, mask, fg_weight)
                for p in preds
            ]
            loss = terms[0] if len(terms) == 1 else sum(terms) / len(terms)
        return dict(loss_pseudo_gt=loss)

    def snippet_scores(self, x: torch.Tensor, mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """The scores dict of a batch (:meth:`scores_by_feat`)."""
        return self.scores_by_feat(self(x, mask), mask, data_samples)

    def post_process(self, scores: Dict[str, torch.Tensor],
                     data_samples: SampleList,
                     post_processor=None) -> List[np.ndarray]:
        """Segments per video, ``[M_i, 4]`` rows ``(t_start, t_end,
        class, score)`` in seconds, by ``post_processor`` (a built
        ``TASK_UTILS`` component with ``predict_segments``, e.g. the
        refinement's) or the head's own."""
        post = post_processor or self.post_processor
        if post is None:
            raise ValueError(f'{type(self).__name__} has no post_processor')
        if not hasattr(post, 'predict_segments'):
            raise TypeError(
                f'{type(post).__name__} is not a segment post-processor: '
                'it needs predict_segments(scores, data_samples)')
        return post.predict_segments(scores, data_samples)


__all__ = ['BaseSnippetHead']
