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
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS, TASK_UTILS
from mmaction.utils import ConfigType, SampleList
from ..snippet_ops import (ROW_MULTIPLE, autocast_input,  # noqa: F401
                           masked_softmax_over_time, no_autocast,
                           snippet_durations, stack_pseudo_labels,
                           stack_video_labels, unpack)



class SnippetMLP(nn.Module):
    """L linear layers with ReLU between them (none after the last).

    Hidden widths halve: ``width[i+1] = max(width[i] // 2, out_channels)``.

    Args:
        in_channels (int): Input feature width D.
        out_channels (int): Output width.
        num_layers (int): Number of linear layers L >= 1.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 num_layers: int) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.num_layers = num_layers
        width = in_channels
        for i in range(num_layers):
            out = out_channels if i == num_layers - 1 else max(
                width // 2, out_channels)
            self.add_module(f'linear_{i}', nn.Linear(width, out))
            width = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., D] -> [..., out_channels]."""
        for i in range(self.num_layers):
            if i > 0:
                x = F.relu(x)
            x = getattr(self, f'linear_{i}')(x)
        return x


@MODELS.register_module()
class RefineLocHead(BaseModule):
    """Snippet classification, background-foreground attention and video
    label prediction of RefineLoc.

    Args:
        num_classes (int): Number of action classes N (no background).
        in_channels (int): Snippet feature width D.
        num_layers (int): Layers L of both MLPs. Defaults to 2.
        attention_dim (int): k, 2 (softmax attention) or 1 (sigmoid).
            Defaults to 2.
        loss (dict): Config of the RefineLoc loss.
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
                 post_processor: ConfigType = dict(
                     type='ActionSegmentPredictor'),
                 init_cfg: Optional[ConfigType] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if attention_dim not in (1, 2):
            raise ValueError(
                f'attention_dim (k) must be 1 or 2, got {attention_dim}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_layers = num_layers
        self.attention_dim = attention_dim
        self.fc_cas = SnippetMLP(in_channels, num_classes, num_layers)
        self.fc_attention = SnippetMLP(in_channels, attention_dim, num_layers)
        loss = dict(loss)
        loss.setdefault('attention_dim', attention_dim)
        self.loss_module = MODELS.build(loss)
        self.post_processor = TASK_UTILS.build(post_processor)

    def init_weights(self) -> None:
        """Default PyTorch init unless an ``init_cfg`` asks otherwise."""
        if self.init_cfg:
            super().init_weights()

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

    def loss(self, x: torch.Tensor, mask: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Loss of a batch.

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [N]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg).

        Returns:
            dict[str, Tensor]: The loss terms, see :class:`RefineLocLoss`.
        """
        cas, attention = self(x, mask)
        video = self.video_level(cas, attention, mask)
        labels = stack_video_labels(data_samples, self.num_classes,
                                    x.device, cas.dtype)
        pseudo = stack_pseudo_labels(data_samples, mask)
        fg_weight = data_samples[0].metainfo.get('fg_weight', None)
        with no_autocast(cas):
            return self.loss_module(
                cas=cas,
                attention=attention,
                attention_time=video['attention_time'],
                mask=mask,
                video_labels=labels,
                pseudo_labels=pseudo,
                fg_weight=fg_weight)

    def snippet_scores(self, x: torch.Tensor, mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """Scores of the base-model contract: :meth:`video_level`'s
        ``cas_softmax`` [B, T, N], ``attention_time`` [B, T],
        ``foreground`` [B, T] and ``video_score`` [B, N]."""
        cas, attention = self(x, mask)
        out = self.video_level(cas, attention, mask)
        out['mask'] = mask
        return out

    def post_process(self, scores: Dict[str, torch.Tensor],
                     data_samples: SampleList,
                     post_processor=None) -> List[np.ndarray]:
        """Segments per video by the action segment prediction module
        (``post_processor``, by default the head's inference thresholds;
        the refinement passes its own thresholds)."""
        post = post_processor or self.post_processor
        return post(
            cas_softmax=scores['cas_softmax'],
            foreground=scores['foreground'],
            video_score=scores['video_score'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples))
