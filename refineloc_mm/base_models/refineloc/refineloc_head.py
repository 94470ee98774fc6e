# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc head: the three modules of the WSTAL base model.

* Snippet-level classification module: MLP ``fc_cas`` -> class activation
  sequence ``C`` of shape [B, T, N].
* Background-foreground attention module: MLP ``fc_attention`` ->
  attention logits ``A`` of shape [B, T, k] (k = 2: background/foreground
  logits, index 1 is foreground; k = 1: a single foreground logit).
* Video label prediction module: softmax over classes, attention over time
  and the attention-weighted video score ``y_hat`` of shape [B, N].

Parameter names (``fc_cas.linear_{i}``, ``fc_attention.linear_{i}``) are
those of the authors' implementation, so their checkpoints map one to one.
"""
from typing import Dict, Optional, Tuple

import torch

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from refineloc_mm.models.utils.snippet_mlp import SnippetMLP
from refineloc_mm.models.utils.snippet_ops import (autocast_input,
                                                   masked_softmax_over_time,
                                                   no_autocast,
                                                   stack_video_labels, unpack)
from refineloc_mm.models.heads.base_snippet_head import BaseSnippetHead


@MODELS.register_module()
class RefineLocHead(BaseSnippetHead):
    """Snippet classification, background-foreground attention and video
    label prediction of RefineLoc.

    Args:
        num_classes (int): Number of action classes N (no background).
        in_channels (int): Snippet feature width D.
        num_layers (int): Layers L of both MLPs. Defaults to 2.
        attention_dim (int): k, 2 (softmax attention) or 1 (sigmoid).
            Defaults to 2.
        loss (dict): Config of the RefineLoc loss (video label loss and
            regularizers).
        pseudo_gt_loss (dict, optional): :class:`PseudoGTLoss` config on
            the attention A; its ``input_type`` defaults to the one of k
            (``'two_class_logits'`` for k = 2, ``'logits'`` for k = 1).
            The authors' ``alpha_pgt`` is its ``loss_weight``; their
            weighted loss is ``weighting='class_balanced'`` (k = 2) or
            ``'sqrt_pos_weight'`` (k = 1), unweighted ``'none'``.
        post_processor (dict): Config of the action segment predictor used
            at inference (the inference thresholds).
        init_cfg (dict, optional): Initialization config. Defaults to None,
            i.e. PyTorch's default ``nn.Linear`` initialization, as the
            reference.
    """

    # the output the pseudo ground truth loss supervises
    pseudo_label_branch = 'fc_attention'

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_layers: int = 2,
                 attention_dim: int = 2,
                 loss: ConfigType = dict(type='RefineLocLoss'),
                 pseudo_gt_loss: OptConfigType = dict(type='PseudoGTLoss'),
                 post_processor: ConfigType = dict(
                     type='ActionSegmentPredictor'),
                 init_cfg: Optional[ConfigType] = None) -> None:
        if attention_dim not in (1, 2):
            raise ValueError(
                f'attention_dim (k) must be 1 or 2, got {attention_dim}')
        if pseudo_gt_loss:
            pseudo_gt_loss = dict(pseudo_gt_loss)
            pseudo_gt_loss.setdefault(
                'input_type',
                'two_class_logits' if attention_dim == 2 else 'logits')
        super().__init__(
            num_classes,
            in_channels,
            pseudo_gt_loss=pseudo_gt_loss,
            post_processor=post_processor,
            init_cfg=init_cfg)
        self.num_layers = num_layers
        self.attention_dim = attention_dim
        self.fc_cas = SnippetMLP(in_channels, num_classes, num_layers)
        self.fc_attention = SnippetMLP(in_channels, attention_dim, num_layers)
        loss = dict(loss)
        loss.setdefault('attention_dim', attention_dim)
        self.loss_module = MODELS.build(loss)

    def forward(self, x: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Snippet-level outputs of a batch.

        The MLPs run on the real snippets only (packed, no padding); their
        small outputs are then scattered into padded [B, T, ...] tensors.

        Args:
            x (Tensor): Packed snippet features [S, D], S = mask.sum().
            mask (Tensor): [B, T] bool, True on real snippets.

        Returns:
            tuple[Tensor, Tensor]: class activation sequence C [B, T, N] and
            attention logits A [B, T, k], zero on padding.
        """
        num = x.shape[0]
        x = autocast_input(x)
        # float32 from here on (the MLPs may run under autocast); both
        # outputs are scattered into the padded layout in one pass
        packed = torch.cat([self.fc_cas(x), self.fc_attention(x)], dim=-1)
        padded = unpack(packed[:num].float(), mask)
        return padded.split([self.num_classes, self.attention_dim], dim=-1)

    def video_level(self, cas: torch.Tensor, attention: torch.Tensor,
                    mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Video label prediction module.

        Args:
            cas (Tensor): C, [B, T, N].
            attention (Tensor): A, [B, T, k].
            mask (Tensor): [B, T] bool, True on real snippets.

        Returns:
            dict[str, Tensor]: ``cas_softmax`` C-bar [B, T, N],
            ``attention_time`` A-bar-time [B, T], ``foreground`` a_t [B, T]
            and ``video_score`` y-hat [B, N], all float32 (autocast is
            off here).
        """
        with no_autocast(cas):
            cas_softmax = torch.softmax(cas, dim=-1)
            if self.attention_dim == 2:
                foreground = torch.softmax(attention, dim=-1)[..., 1]
                # softmax over time of the foreground *probabilities*
                attention_time = masked_softmax_over_time(foreground, mask)
            else:
                logit = attention[..., 0]
                foreground = torch.sigmoid(logit)
                attention_time = masked_softmax_over_time(logit, mask)
            video_score = torch.einsum('bt,btn->bn', attention_time,
                                       cas_softmax)
        return dict(
            cas_softmax=cas_softmax,
            attention_time=attention_time,
            foreground=foreground,
            video_score=video_score)

    def loss_by_feat(self, outs: Tuple[torch.Tensor, torch.Tensor],
                     mask: torch.Tensor,
                     data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The RefineLoc loss of a batch (see :class:`RefineLocLoss`).

        Args:
            outs (tuple[Tensor, Tensor]): :meth:`forward`'s C and A.
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [N]).
        """
        cas, attention = outs
        video = self.video_level(cas, attention, mask)
        labels = stack_video_labels(data_samples, self.num_classes,
                                    cas.device, cas.dtype)
        with no_autocast(cas):
            return self.loss_module(
                cas=cas,
                attention=attention,
                attention_time=video['attention_time'],
                mask=mask,
                video_labels=labels)

    def pseudo_label_output(self, outs: Tuple[torch.Tensor, torch.Tensor],
                            mask: torch.Tensor, data_samples: SampleList
                            ) -> Tuple[torch.Tensor]:
        """The attention logits A: [B, T, 2] (k = 2) or [B, T] (k = 1)."""
        attention = outs[1]
        return (attention if self.attention_dim == 2 else attention[..., 0],
                )

    def scores_by_feat(self, outs: Tuple[torch.Tensor, torch.Tensor],
                       mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """Scores of the base-model contract: :meth:`video_level`'s
        ``cas_softmax`` [B, T, N], ``attention_time`` [B, T],
        ``foreground`` [B, T] and ``video_score`` [B, N]."""
        out = self.video_level(outs[0], outs[1], mask)
        out['mask'] = mask
        return out
