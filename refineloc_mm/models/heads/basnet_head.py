# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net head (Lee et al., *Background Suppression Network for Weakly-
supervised Temporal Action Localization*, AAAI 2020).

A port of ``model.py`` of ``Pilhyeon/BaSNet-pytorch`` @ c8c6bbd:

* Filtering module (:class:`BaSNetFilterModule`): Conv1d D -> 512 (kernel 1)
  + LeakyReLU, Conv1d 512 -> 1 (kernel 1) + sigmoid: the foreground weights
  ``w`` [B, T, 1], a class-agnostic per-snippet foreground probability.
* CAS module (:class:`BaSNetCASModule`), shared by both branches: Conv1d
  D -> 2048 (kernel 3, padding 1) + LeakyReLU, Conv1d 2048 -> 2048 (kernel
  3, padding 1) + LeakyReLU, dropout 0.7 (training only), Conv1d
  2048 -> C + 1 (kernel 1, no bias); the last class is the background.
* Base branch: CAS of ``x``; suppression branch: CAS of ``w * x``.
* Video scores: softmax over the C + 1 classes of the mean of the top
  k = T // 8 values over time (93 for the authors' T = 750 snippets).

Parameter names (``filter_module.conv_1.0.weight``, ...,
``cas_module.conv_3.0.weight``) are the original's, so its state dicts load
one to one into ``cls_head``. PyTorch default initialization, as the
original.

Batches of videos of different lengths (only possible without
:class:`ResampleSnippets`) are padded: the activations of padded snippets
are zeroed after every convolution, so each video sees the zero padding of
its own boundaries, exactly as when run alone, and the top-k uses each
video's own length.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS, TASK_UTILS
from mmaction.utils import ConfigType, SampleList
from ..snippet_ops import (no_autocast, snippet_durations,
                           stack_pseudo_labels, stack_video_labels,
                           topk_mean_over_time, unpack)


class BaSNetFilterModule(nn.Module):
    """Filtering module: foreground weights of every snippet.

    Args:
        in_channels (int): Snippet feature width D.
        hidden_channels (int): Width of the hidden layer. Defaults to 512.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 512) -> None:
        super().__init__()
        self.conv_1 = nn.Sequential(
            nn.Conv1d(in_channels, hidden_channels, kernel_size=1),
            nn.LeakyReLU())
        self.conv_2 = nn.Sequential(
            nn.Conv1d(hidden_channels, 1, kernel_size=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, D, T] -> foreground weights [B, 1, T] in (0, 1)."""
        return self.conv_2(self.conv_1(x))


class BaSNetCASModule(nn.Module):
    """CAS module: class activation sequence over C + 1 classes.

    Args:
        in_channels (int): Snippet feature width D.
        num_classes (int): Action classes C (the module outputs C + 1).
        hidden_channels (int): Width of both temporal convolutions.
            Defaults to 2048.
        dropout (float): Dropout before the classifier (training only).
            Defaults to 0.7.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: int = 2048,
                 dropout: float = 0.7) -> None:
        super().__init__()
        self.conv_1 = nn.Sequential(
            nn.Conv1d(in_channels, hidden_channels, kernel_size=3,
                      padding=1), nn.LeakyReLU())
        self.conv_2 = nn.Sequential(
            nn.Conv1d(hidden_channels, hidden_channels, kernel_size=3,
                      padding=1), nn.LeakyReLU())
        self.conv_3 = nn.Sequential(
            nn.Conv1d(hidden_channels, num_classes + 1, kernel_size=1,
                      bias=False))
        self.drop_out = nn.Dropout(p=dropout)

    def forward(self, x: torch.Tensor,
                valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Class activation sequence.

        Args:
            x (Tensor): [B, D, T] features (zero on padding).
            valid (Tensor, optional): [B, 1, T] float, 1 on real snippets:
                the hidden activations of padded snippets are zeroed so
                that they act as the zero padding of the convolutions.
                None when no video is padded.

        Returns:
            Tensor: [B, C + 1, T] logits.
        """
        out = self.conv_1(x)
        if valid is not None:
            out = out * valid
        out = self.conv_2(out)
        out = self.drop_out(out)
        return self.conv_3(out)


@MODELS.register_module()
class BaSNetHead(BaseModule):
    """BaS-Net: filtering module, shared CAS module, base and suppression
    branches (see the module docstring).

    ``forward`` returns the original's outputs, padded to [B, T, ...]:
    ``(score_base [B, C+1], cas_base [B, T, C+1], score_supp [B, C+1],
    cas_supp [B, T, C+1], w [B, T, 1])``.

    The pseudo ground truth of the refinement supervises the foreground
    weights ``w`` (``filter_module``) or the suppression CAS of the video's
    labelled classes (``cas_module``), after the loss's
    ``pseudo_gt_target`` (see :class:`BaSNetLoss`).

    Args:
        num_classes (int): Action classes C (no background). Defaults to 20.
        in_channels (int): Snippet feature width D. Defaults to 2048
            (I3D RGB + flow).
        cas_channels (int): Width of the CAS module's convolutions.
            Defaults to 2048 (the original).
        filter_channels (int): Hidden width of the filtering module.
            Defaults to 512 (the original).
        dropout (float): Dropout of the CAS module. Defaults to 0.7.
        topk_ratio (int): k = max(T_i // topk_ratio, 1) snippets per video
            make its video score. Defaults to 8 (the original's
            ``num_segments // 8``; every video has T = num_segments
            snippets after :class:`ResampleSnippets`).
        loss (dict): Config of :class:`BaSNetLoss`.
        post_processor (dict): Config of :class:`BaSNetPostProcessor`.
        init_cfg (dict, optional): Initialization config. Defaults to None,
            i.e. PyTorch's default initialization, as the original.
    """

    @property
    def pseudo_label_branch(self) -> str:
        """The submodule the pseudo ground truth loss supervises: the
        filtering module (w) or the CAS module (the suppression CAS), after
        ``loss.pseudo_gt_target``."""
        target = getattr(self.loss_module, 'pseudo_gt_target',
                         'foreground_weights')
        return 'cas_module' if target == 'suppression_cas' \
            else 'filter_module'

    def __init__(self,
                 num_classes: int = 20,
                 in_channels: int = 2048,
                 cas_channels: int = 2048,
                 filter_channels: int = 512,
                 dropout: float = 0.7,
                 topk_ratio: int = 8,
                 loss: ConfigType = dict(type='BaSNetLoss'),
                 post_processor: ConfigType = dict(
                     type='BaSNetPostProcessor'),
                 init_cfg: Optional[ConfigType] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if topk_ratio < 1:
            raise ValueError(f'topk_ratio must be >= 1, got {topk_ratio}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.topk_ratio = topk_ratio
        self.filter_module = BaSNetFilterModule(in_channels, filter_channels)
        self.cas_module = BaSNetCASModule(in_channels, num_classes,
                                          cas_channels, dropout)
        self.loss_module = MODELS.build(loss)
        self.post_processor = TASK_UTILS.build(post_processor)

    def init_weights(self) -> None:
        """Default PyTorch init unless an ``init_cfg`` asks otherwise."""
        if self.init_cfg:
            super().init_weights()

    def video_score(self, cas: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        """Softmax over C + 1 classes of the top-k mean over time.

        Args:
            cas (Tensor): [B, T, C + 1].
            mask (Tensor): [B, T] bool.

        Returns:
            Tensor: [B, C + 1].
        """
        k = (mask.sum(1) // self.topk_ratio).clamp(min=1)
        return torch.softmax(topk_mean_over_time(cas, mask, k), dim=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor
                ) -> Tuple[torch.Tensor, ...]:
        """Outputs of both branches.

        Args:
            x (Tensor): Packed snippet features [S, D], S = mask.sum().
            mask (Tensor): [B, T] bool, True on real snippets.

        Returns:
            tuple[Tensor]: ``score_base`` [B, C+1], ``cas_base``
            [B, T, C+1], ``score_supp`` [B, C+1], ``cas_supp`` [B, T, C+1]
            and the foreground weights ``w`` [B, T, 1] (zero on padding),
            float32.
        """
        # the convolutions may run under autocast (--amp); the outputs, the
        # top-k and the softmaxes are float32
        full = bool(mask.all())
        # [B, D, T], contiguous (faster convolutions); without padding the
        # packed rows are already [B, T, D] (a view, no scatter)
        padded = x.view(mask.shape + x.shape[1:]) if full \
            else unpack(x, mask)
        feats = padded.transpose(1, 2).contiguous()
        valid = None if full else mask[:, None].to(feats.dtype)
        w = self.filter_module(feats).float()  # [B, 1, T]
        if valid is not None:
            w = w * valid
        # the branches through the shared CAS module one after the other,
        # as the original: in one concatenated pass the base half would
        # need the input gradient of the first convolution too (its input
        # is concatenated with w * x, which needs it), which costs as much
        # as that convolution's forward
        cas_base = self.cas_module(feats, valid).float().transpose(1, 2)
        cas_supp = self.cas_module(w.to(feats.dtype) * feats,
                                   valid).float().transpose(1, 2)
        with no_autocast(cas_base):
            score_base = self.video_score(cas_base, mask)
            score_supp = self.video_score(cas_supp, mask)
        return score_base, cas_base, score_supp, cas_supp, w.transpose(1, 2)

    def loss(self, x: torch.Tensor, mask: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Loss of a batch.

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [C]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg).

        Returns:
            dict[str, Tensor]: See :class:`BaSNetLoss`.
        """
        score_base, _, score_supp, cas_supp, w = self(x, mask)
        labels = stack_video_labels(data_samples, self.num_classes,
                                    x.device)
        # float32 losses (CUDA autocast refuses binary_cross_entropy)
        with no_autocast(score_base):
            return self.loss_module(
                score_base=score_base,
                score_supp=score_supp,
                fore_weights=w[..., 0],
                mask=mask,
                video_labels=labels,
                pseudo_labels=stack_pseudo_labels(data_samples, mask),
                fg_weight=data_samples[0].metainfo.get('fg_weight', None),
                cas_supp=cas_supp)

    def snippet_scores(self, x: torch.Tensor, mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """Scores of the base-model contract.

        Returns:
            dict[str, Tensor]: ``cas_softmax`` [B, T, C]: softmax over the C
            action classes of the suppression branch's CAS (its background
            logit left out: the suppression branch is trained to give the
            background no mass, and ``foreground`` carries the
            class-agnostic part); ``video_score`` [B, C]: the suppression
            branch's video scores of the C action classes (softmax over
            C + 1, as the original's test); ``foreground`` [B, T]: ``w``;
            and the raw outputs the post-processing reads: ``cas_supp``
            [B, T, C+1], ``score_supp`` [B, C+1], ``cas_base``,
            ``score_base``.
        """
        score_base, cas_base, score_supp, cas_supp, w = self(x, mask)
        n = self.num_classes
        return dict(
            cas_softmax=torch.softmax(cas_supp[..., :n], dim=-1),
            video_score=score_supp[:, :n],
            foreground=w[..., 0],
            cas_supp=cas_supp,
            score_supp=score_supp,
            cas_base=cas_base,
            score_base=score_base,
            mask=mask)

    def post_process(self, scores: Dict[str, torch.Tensor],
                     data_samples: SampleList,
                     post_processor=None) -> List[np.ndarray]:
        """Segments per video by the multi-threshold outer-inner-contrast
        post-processing (``post_processor``, by default the head's)."""
        post = post_processor or self.post_processor
        return post(
            cas=scores['cas_supp'],
            video_score=scores['score_supp'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples),
            foreground=scores.get('foreground'))
