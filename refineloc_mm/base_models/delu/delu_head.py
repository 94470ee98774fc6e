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
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from refineloc_mm.models.utils.snippet_ops import (no_autocast,
                                                   stack_video_labels,
                                                   topk_counts,
                                                   topk_mean_over_time, unpack)
from refineloc_mm.models.heads.base_snippet_head import BaseSnippetHead
from .delu_attention_block import DELUAttentionBlock

PSEUDO_GT_TARGETS = ('stream_logits', 'attn')


@MODELS.register_module()
class DELUHead(BaseSnippetHead):
    """DELU: two attention blocks, fusion and classifier (see the module
    docstring), its losses (:class:`DELULoss`), video score and
    post-processing (:class:`DELUPostProcessor`).

    ``forward`` returns a dict, time-major like the original's:
    ``feat`` [B, T, D], ``cas`` [B, T, C + 1] (logits), ``attn``,
    ``v_atn``, ``f_atn`` [B, T, 1] (probabilities) and ``v_logit``,
    ``f_logit`` [B, T] (the blocks' attention logits), float32, zero on
    padding.

    The pseudo ground truth of the refinement supervises DELU's attention
    (ours; the original has no pseudo labels) with ``pseudo_gt_loss``: by
    default the logits of both blocks (``pseudo_gt_target='stream_logits'``,
    each with :class:`PseudoGTLoss` on logits, averaged), or the fused
    probability ``attn`` (``'attn'``, the loss on probabilities).
    ``pseudo_label_branch`` names ``vAttn``; ``fAttn`` gets the same loss.

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
        pseudo_gt_loss (dict, optional): :class:`PseudoGTLoss` config of
            the refinement (RefineLoc's THUMOS14 loss by default: BCE with
            logits, ``pos_weight`` sqrt(w_fg), weight 2).
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
                 pseudo_gt_loss: OptConfigType = dict(
                     type='PseudoGTLoss', input_type='logits',
                     weighting='sqrt_pos_weight', loss_weight=2.),
                 post_processor: ConfigType = dict(
                     type='DELUPostProcessor'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            num_classes,
            in_channels,
            pseudo_gt_loss=pseudo_gt_loss,
            post_processor=post_processor,
            init_cfg=init_cfg)
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
        # training iterations since the last reset: DELU's curriculum
        # (float: SyncBuffersHook averages buffers over ranks)
        self.register_buffer('iteration', torch.zeros(()), persistent=True)
        self.init_layers()

    def init_layers(self) -> None:
        """The original's ``weights_init``: kaiming-uniform weights (a = 0,
        fan-in, gain sqrt(2)), zero biases, on every convolution."""
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def reset_parameters(self) -> None:
        """Fresh layers and a curriculum that starts again at iteration 0
        (a refinement round is one DELU training)."""
        super().reset_parameters()
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
        """Loss of a batch (:meth:`BaseSnippetHead.loss`, see
        :class:`DELULoss` and ``loss_pseudo_gt``); advances the
        curriculum's iteration counter in training mode.

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [C]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg). The first
                ``2 * num_similar`` videos are the co-activity pairs.
        """
        losses = super().loss(x, mask, data_samples)
        if self.training:
            self.iteration += 1
        return losses

    def loss_by_feat(self, outs: Dict[str, torch.Tensor],
                     mask: torch.Tensor,
                     data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """DELU's own losses (:class:`DELULoss`) at the curriculum's
        current iteration."""
        labels = stack_video_labels(
            data_samples, self.num_classes, outs['cas'].device,
            outs['cas'].dtype, require_label="DELU's losses need")
        with no_autocast(outs['cas']):
            return self.loss_module(outs, labels, mask,
                                    int(self.iteration.item()))

    def pseudo_label_output(self, outs: Dict[str, torch.Tensor],
                            mask: torch.Tensor, data_samples: SampleList
                            ) -> Tuple[torch.Tensor, ...]:
        """Both blocks' attention logits [B, T] (``'stream_logits'``) or
        the fused probability ``attn`` [B, T] (``'attn'``)."""
        if self.pseudo_gt_target == 'stream_logits':
            return (outs['v_logit'], outs['f_logit'])
        return (outs['attn'][..., 0], )

    def scores_by_feat(self, outs: Dict[str, torch.Tensor],
                       mask: torch.Tensor,
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
        n = self.num_classes
        cas = outs['cas']
        with no_autocast(cas):
            return dict(
                cas_softmax=torch.softmax(cas[..., :n], dim=-1) *
                mask[..., None],
                video_score=self.video_score(cas, mask)[:, :n],
                foreground=outs['attn'][..., 0],
                cas=cas,
                attn=outs['attn'][..., 0],
                mask=mask)
