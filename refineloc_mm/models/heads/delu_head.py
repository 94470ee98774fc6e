# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU head (Chen et al., *Dual-Evidential Learning for Weakly-supervised
Temporal Action Localization*, ECCV 2022; ``model.py`` class ``DELU`` with
``--AWM BWA_fusion_dropout_feat_v2`` of ``MengyuanChen21/ECCV2022-DELU`` @
a60e46d).

For snippet features x [T, D] (I3D RGB then flow, 1024 each in the
original), LReLU = LeakyReLU(0.2), convolutions 1-D over time ("k3": kernel
3, zero padding 1; "k1": kernel 1):

* two attention blocks (:class:`DELUAttentionBlock`, the original's
  ``BWA_fusion_dropout_feat_v2``): ``vAttn`` reads the RGB half gated by
  the flow half, ``fAttn`` the flow half gated by the RGB half; each gives
  a foreground probability (``v_atn``, ``f_atn`` [B, T, 1]) and the gated
  ("filtered") features of its main stream;
* ``attn = (v_atn + f_atn) / 2``;
* ``feat = dropout 0.7(LReLU(k1 conv D -> D (concat(vfeat, ffeat))))``
  (``fusion``);
* ``cas = k1 conv E -> C + 1 (dropout 0.7(LReLU(k3 conv D -> E (dropout
  0.7(feat)))))`` (``classifier.1``, ``classifier.4``); the last column is
  the background class.

Parameter names are the original's (``vAttn.bit_wise_attn.0.weight``, ...,
``classifier.4.bias``), so its state dicts load one to one, except the
original's ``feat_encoder`` (built and saved, never used: 12.6 M of its
46.7 M parameters), which is not built here: drop ``feat_encoder.*`` from
an original state dict before loading it. Init: the original's
``weights_init``, kaiming-uniform weights (a = 0, fan-in) and zero biases
on every convolution.

Widths: the original hard-codes 1024 per stream and 2048 for the fusion;
here the stream split follows ``in_channels`` (``stream_channels``,
default two halves), and ``attention_channels`` (512), ``cls_channels``
(2048), ``fusion_channels`` (D) and ``bit_wise_kernel`` (3) default to the
original's, so that the same head runs on a backbone's output of any
(even) width or, shrunk, on CPUs (the synthetic config).

Padded batches (videos of different lengths, only at inference here: the
training pipeline resamples every video to 320 snippets): every hidden
activation is zeroed on padded snippets before a kernel-3 convolution reads
it, and the channel gate averages over the real snippets only, so each
video gets exactly the outputs it gets alone (the original feeds test
videos one at a time).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS, TASK_UTILS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..snippet_ops import (no_autocast, snippet_durations,
                           stack_pseudo_labels, stack_video_labels,
                           topk_counts, topk_mean_over_time, unpack)

PSEUDO_GT_TARGETS = ('stream_logits', 'attn')


class DELUAttentionBlock(nn.Module):
    """One stream's attention block (``BWA_fusion_dropout_feat_v2``).

    For a main stream M [B, Dm, T] and the other stream O [B, Do, T]:
    channel gate ``g = dropout(LReLU(k3 conv Dm -> Dm (mean_t M)))`` (a
    length-1 sequence: only the centre tap acts) [B, Dm, 1]; bit-wise term
    ``b = dropout(LReLU(k3 conv Do -> Dm (O)))`` [B, Dm, T]; filtered
    ``sigmoid(b * g) * M``; attention logit ``dropout(k1 conv H -> 1
    (LReLU(k3 conv H -> H (dropout(LReLU(k3 conv Dm -> H (filtered)))))))``
    (the dropout sits on the logit, before the sigmoid).

    Args:
        main_channels (int): Dm (1024 in the original).
        other_channels (int): Do (1024 in the original).
        hidden_channels (int): H. Defaults to 512.
        dropout (float): Every dropout of the block. Defaults to 0.5.
        bit_wise_kernel (int): Temporal kernel of the bit-wise convolution
            (odd). Defaults to 3 (the original's).
    """

    def __init__(self,
                 main_channels: int,
                 other_channels: int,
                 hidden_channels: int = 512,
                 dropout: float = 0.5,
                 bit_wise_kernel: int = 3) -> None:
        super().__init__()
        if bit_wise_kernel < 1 or bit_wise_kernel % 2 == 0:
            raise ValueError(
                f'bit_wise_kernel must be odd, got {bit_wise_kernel}')
        self.bit_wise_attn = nn.Sequential(
            nn.Conv1d(other_channels, main_channels, bit_wise_kernel,
                      padding=bit_wise_kernel // 2),
            nn.LeakyReLU(0.2), nn.Dropout(dropout))
        self.channel_conv = nn.Sequential(
            nn.Conv1d(main_channels, main_channels, 3, padding=1),
            nn.LeakyReLU(0.2), nn.Dropout(dropout))
        self.attention = nn.Sequential(
            nn.Conv1d(main_channels, hidden_channels, 3, padding=1),
            nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv1d(hidden_channels, hidden_channels, 3, padding=1),
            nn.LeakyReLU(0.2), nn.Conv1d(hidden_channels, 1, 1),
            nn.Dropout(dropout), nn.Sigmoid())

    def forward(self, main: torch.Tensor, other: torch.Tensor,
                valid: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Attention of the main stream.

        Args:
            main (Tensor): M [B, Dm, T], zero on padding.
            other (Tensor): O [B, Do, T], zero on padding.
            valid (Tensor, optional): [B, 1, T], 1 on real snippets; None
                when no video is padded.

        Returns:
            tuple[Tensor]: attention probability [B, 1, T], its logit
            [B, 1, T] (after the dropout) and the filtered main stream
            [B, Dm, T].
        """
        if valid is None:
            mean = main.mean(-1, keepdim=True)
        else:
            mean = main.sum(-1, keepdim=True) / valid.sum(-1, keepdim=True)
        gate = self.channel_conv(mean)
        filtered = torch.sigmoid(self.bit_wise_attn(other) * gate) * main
        att = self.attention
        hidden = att[1](att[0](filtered))
        if valid is not None:
            hidden = hidden * valid
        hidden = att[4](att[3](att[2](hidden)))
        if valid is not None:
            hidden = hidden * valid
        logit = att[6](att[5](hidden))
        return att[7](logit), logit, filtered


@MODELS.register_module()
class DELUHead(BaseModule):
    """DELU: two attention blocks, fusion and classifier (see the module
    docstring), its losses (:class:`DELULoss`), video score and
    post-processing (:class:`DELUPostProcessor`).

    ``forward`` returns a dict, time-major like the original's:
    ``feat`` [B, T, D], ``cas`` [B, T, C + 1] (logits), ``attn``,
    ``v_atn``, ``f_atn`` [B, T, 1] (probabilities) and ``v_logit``,
    ``f_logit`` [B, T] (the blocks' attention logits), float32, zero on
    padding.

    The pseudo ground truth of the refinement supervises DELU's attention
    (ours; the original has no pseudo labels): by default the logits of
    both blocks (``pseudo_gt_target='stream_logits'``, each with
    :class:`PseudoGTLoss` on logits, averaged), or the fused probability
    ``attn`` (``'attn'``, the loss on probabilities). ``pseudo_label_branch``
    names ``vAttn``; ``fAttn`` gets the same loss.

    Args:
        num_classes (int): Action classes C (no background). Defaults to 20.
        in_channels (int): Snippet feature width D (2048: I3D RGB + flow).
        stream_channels (Sequence[int], optional): Widths of the RGB and
            flow parts of a snippet feature (the first and second part);
            they must sum to D. Defaults to the two halves of D (1024 +
            1024 for I3D). A single-stream backbone's output is split the
            same way: its two halves then play the two streams.
        attention_channels (int): Hidden width H of the attention blocks.
            Defaults to 512.
        cls_channels (int): Hidden width E of the classifier. Defaults to
            2048 (the original's).
        fusion_channels (int, optional): Output width F of the fusion
            (``feat``). Defaults to None: D, the original's.
        bit_wise_kernel (int): Temporal kernel of the attention blocks'
            bit-wise convolution. Defaults to 3, the original's (the CPU
            synthetic config uses 1).
        dropout (float): Dropout of the fusion and the classifier.
            Defaults to 0.7.
        attention_dropout (float): Dropout of the attention blocks.
            Defaults to 0.5.
        video_score_topk (str): The video score of the contract (and of
            the classification mAP): softmax over the C + 1 classes of the
            mean of the top-k CAS logits over time, first C columns.
            ``'one'`` (default, the original's test: k = ceil(len(features)
            / 8) on a [1, T, D] array, i.e. k = 1, the max over time) or
            ``'eighth'`` (k = ceil(T / 8), what the code meant).
        pseudo_gt_target (str): See above. Defaults to
            ``'stream_logits'``.
        loss (dict): :class:`DELULoss` config.
        post_processor (dict): :class:`DELUPostProcessor` config.
        init_cfg (dict, optional): Initialization config; None applies the
            original's kaiming-uniform / zero-bias init.
    """

    # the submodule the pseudo ground truth loss supervises (with fAttn)
    pseudo_label_branch = 'vAttn'

    def __init__(self,
                 num_classes: int = 20,
                 in_channels: int = 2048,
                 stream_channels: Optional[Sequence[int]] = None,
                 attention_channels: int = 512,
                 cls_channels: int = 2048,
                 fusion_channels: Optional[int] = None,
                 bit_wise_kernel: int = 3,
                 dropout: float = 0.7,
                 attention_dropout: float = 0.5,
                 video_score_topk: str = 'one',
                 pseudo_gt_target: str = 'stream_logits',
                 loss: ConfigType = dict(type='DELULoss'),
                 post_processor: ConfigType = dict(
                     type='DELUPostProcessor'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if stream_channels is None:
            if in_channels % 2:
                raise ValueError(
                    f'DELUHead: in_channels={in_channels} is odd: set '
                    'stream_channels=(rgb, flow) explicitly')
            stream_channels = (in_channels // 2, in_channels // 2)
        stream_channels = tuple(int(c) for c in stream_channels)
        if len(stream_channels) != 2 or min(stream_channels) < 1 or sum(
                stream_channels) != in_channels:
            raise ValueError(
                f'DELUHead: stream_channels={stream_channels} must be two '
                f'positive widths summing to in_channels={in_channels}')
        if video_score_topk not in ('one', 'eighth'):
            raise ValueError("video_score_topk must be 'one' or 'eighth', "
                             f'got {video_score_topk!r}')
        if pseudo_gt_target not in PSEUDO_GT_TARGETS:
            raise ValueError(f'pseudo_gt_target must be one of '
                             f'{PSEUDO_GT_TARGETS}, got {pseudo_gt_target!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.stream_channels = stream_channels
        self.video_score_topk = video_score_topk
        self.pseudo_gt_target = pseudo_gt_target
        rgb, flow = stream_channels
        self.vAttn = DELUAttentionBlock(rgb, flow, attention_channels,
                                        attention_dropout, bit_wise_kernel)
        self.fAttn = DELUAttentionBlock(flow, rgb, attention_channels,
                                        attention_dropout, bit_wise_kernel)
        fusion_channels = fusion_channels or in_channels
        self.fusion = nn.Sequential(
            nn.Conv1d(in_channels, fusion_channels, 1), nn.LeakyReLU(0.2),
            nn.Dropout(dropout))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Conv1d(fusion_channels, cls_channels, 3, padding=1),
            nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv1d(cls_channels, num_classes + 1, 1))
        self.loss_module = MODELS.build(loss)
        self.post_processor = TASK_UTILS.build(post_processor)
        # training iterations since the last reset: DELU's curriculum
        # (float: SyncBuffersHook averages buffers over ranks)
        self.register_buffer('iteration', torch.zeros(()), persistent=True)
        self._init_layers()

    def _init_layers(self) -> None:
        """The original's ``weights_init``: kaiming-uniform weights (a = 0,
        fan-in, gain sqrt(2)), zero biases, on every convolution."""
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """DELU's init (again, e.g. after a model reset), or the
        ``init_cfg``'s."""
        if self.init_cfg:
            super().init_weights()
        else:
            self._init_layers()

    def reset_parameters(self) -> None:
        """Fresh layers and a curriculum that starts again at iteration 0
        (a refinement round is one DELU training)."""
        self._init_layers()
        self.iteration.zero_()

    def forward(self, x: torch.Tensor,
                mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """DELU's outputs.

        Args:
            x (Tensor): Packed snippet features [S, D], S = mask.sum().
            mask (Tensor): [B, T] bool, True on real snippets.

        Returns:
            dict[str, Tensor]: ``feat`` [B, T, F], ``cas`` [B, T, C + 1],
            ``attn``, ``v_atn``, ``f_atn`` [B, T, 1], ``v_logit``,
            ``f_logit`` [B, T]; float32, zero on padding.
        """
        if x.shape[-1] != self.in_channels:
            raise ValueError(
                f'DELUHead: snippet features are {x.shape[-1]} wide, the '
                f'head expects in_channels={self.in_channels}')
        feats = unpack(x, mask).transpose(1, 2).contiguous()  # [B, D, T]
        valid = None if bool(mask.all()) else mask[:, None].to(feats.dtype)
        rgb = feats[:, :self.stream_channels[0]]
        flow = feats[:, self.stream_channels[0]:]
        v_atn, v_logit, vfeat = self.vAttn(rgb, flow, valid)
        f_atn, f_logit, ffeat = self.fAttn(flow, rgb, valid)
        attn = (f_atn + v_atn) / 2
        feat = self.fusion(torch.cat((vfeat, ffeat), 1))
        if valid is not None:
            feat = feat * valid
        cls = self.classifier
        hidden = cls[2](cls[1](cls[0](feat)))
        if valid is not None:
            hidden = hidden * valid
        cas = cls[4](cls[3](hidden))
        out = dict(
            feat=feat, cas=cas, attn=attn, v_atn=v_atn, f_atn=f_atn)
        out = {k: v.float().transpose(1, 2) for k, v in out.items()}
        out['v_logit'] = v_logit.float()[:, 0]
        out['f_logit'] = f_logit.float()[:, 0]
        if valid is not None:
            m = mask[..., None].float()
            for key in ('cas', 'attn', 'v_atn', 'f_atn'):
                out[key] = out[key] * m
            out['v_logit'] = out['v_logit'] * mask
            out['f_logit'] = out['f_logit'] * mask
        return out

    def video_score(self, cas: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        """The original's test-time video score (``test.test``).

        Args:
            cas (Tensor): [B, T, C + 1] logits.
            mask (Tensor): [B, T] bool.

        Returns:
            Tensor: [B, C + 1], softmax over the C + 1 classes of the top-k
            mean over time (k = 1, or ceil(T / 8) with
            ``video_score_topk='eighth'``).
        """
        lengths = mask.sum(1)
        if self.video_score_topk == 'one':
            k = torch.ones_like(lengths)
        else:
            k = topk_counts(mask, 8, 'ceil')
        return torch.softmax(topk_mean_over_time(cas, mask, k), dim=-1)

    def loss(self, x: torch.Tensor, mask: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Loss of a batch; advances the curriculum's iteration counter in
        training mode.

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [C]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg). The first
                ``2 * num_similar`` videos are the co-activity pairs.

        Returns:
            dict[str, Tensor]: See :class:`DELULoss`.
        """
        out = self(x, mask)
        labels = stack_video_labels(
            data_samples, self.num_classes, out['cas'].device,
            out['cas'].dtype, require_label="DELU's losses need")
        pseudo = stack_pseudo_labels(data_samples, mask)
        fg_weight = data_samples[0].metainfo.get('fg_weight', None)
        if self.pseudo_gt_target == 'stream_logits':
            pgt_inputs = (out['v_logit'], out['f_logit'])
        else:
            pgt_inputs = (out['attn'][..., 0], )
        with no_autocast(out['cas']):
            losses = self.loss_module(
                out, labels, mask, int(self.iteration.item()),
                pseudo_labels=pseudo, pseudo_inputs=pgt_inputs,
                fg_weight=fg_weight)
        if self.training:
            self.iteration += 1
        return losses

    def snippet_scores(self, x: torch.Tensor, mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """Scores of the base-model contract.

        Returns:
            dict[str, Tensor]: ``cas_softmax`` [B, T, C]: softmax over the
            C action columns of the CAS (the background column left out:
            ``foreground`` carries the class-agnostic part);
            ``video_score`` [B, C] (see :meth:`video_score`);
            ``foreground`` [B, T]: ``attn``; and what the post-processing
            reads: ``cas`` [B, T, C + 1] and ``attn`` [B, T]; ``mask``.
        """
        out = self(x, mask)
        n = self.num_classes
        cas = out['cas']
        with no_autocast(cas):
            return dict(
                cas_softmax=torch.softmax(cas[..., :n], dim=-1) *
                mask[..., None],
                video_score=self.video_score(cas, mask)[:, :n],
                foreground=out['attn'][..., 0],
                cas=cas,
                attn=out['attn'][..., 0],
                mask=mask)

    def post_process(self, scores: Dict[str, torch.Tensor],
                     data_samples: SampleList,
                     post_processor=None) -> List[np.ndarray]:
        """DELU's segments per video (``post_processor``, a
        :class:`DELUPostProcessor`, or the head's own), in seconds."""
        post = post_processor or self.post_processor
        if not hasattr(post, 'soft_nms'):
            raise TypeError(
                f'DELUHead.post_process needs a DELUPostProcessor, got '
                f'{post!r}: for the refinement thresholds (top_k, '
                "min_attention_score, ...) use source='attention' or "
                "'cas', or give no thresholds with source='predictions'")
        return post(
            cas=scores['cas'],
            attn=scores['attn'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples),
            video_names=[ds.metainfo.get('video_name')
                         for ds in data_samples])
