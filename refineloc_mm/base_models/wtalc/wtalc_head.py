# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC head (Paul et al., *W-TALC: Weakly-supervised Temporal Activity
Localization and Classification*, ECCV 2018; ``model.py`` of
``sujoyp/wtalc-pytorch`` @ 81ea982), plus an optional RefineLoc-style
background/foreground attention branch for the refinement.

W-TALC, for snippet features x [T, D] (I3D RGB + flow, 1024 each, 16-frame
snippets at 25 fps = 0.64 s):

* embedding ``h = ReLU(fc(x))`` (``fc``: D -> D, or D -> E with
  ``embedding_channels``), dropout p = 0.7 on h in training only
  (:class:`UniformDropout`: ``nn.Dropout``'s distribution, drawn 3 times
  faster on CPU);
* class activation sequence (CAS) ``classifier(h)`` (D -> C logits, no
  background class);
* Xavier-uniform weights and zero biases (the original's ``weights_init``;
  its unused second layer ``fc1`` is not built: drop ``fc1.*`` from an
  original state dict before loading it);
* losses: :class:`MILLoss` (lambda = 0.5) + :class:`CoActivitySimilarityLoss`
  (1 - lambda = 0.5) on h after dropout and the CAS;
* video score: softmax over classes of the mean of the top ``ceil(T/8)``
  CAS logits over time (``test.py``);
* segments: :class:`WTALCPostProcessor` (``detectionMAP.py``).

What the refinement's pseudo labels supervise (ours; the RefineLoc paper's
exact recipe for W-TALC is not known here), ``pseudo_gt_target``:

* ``'cas_margin'`` (the refinement configs; no branch): per snippet, the
  max over the video's labelled classes of the CAS normalized over the
  video to [0, 1], minus W-TALC's threshold on that scale, times
  ``margin_scale`` (:meth:`WTALCHead.cas_margin`), as the logit of
  :class:`PseudoGTLoss`: it trains what W-TALC's threshold reads and is
  the same for any shift or positive scale of the logits, so the level
  that W-TALC's class filter reads is left to the MIL loss; the test is
  W-TALC's own post-processing. Left free, that level drifts: each round
  trained with the margin scores more classes the test video does not have
  above W-TALC's filter (``docs/wtalc.md``). ``level_loss`` (the
  refinement configs: ``BCELossWithLogits``, weight 0.2) pins it on the
  batches that carry pseudo labels: a BCE of the top-k pooled logits
  (:meth:`WTALCHead.video_score`, > 0 is what the filter keeps) against
  the video labels;
* ``'attention'`` (the default): the attention branch below.

The attention branch: an MLP on h (after dropout in training) giving one
foreground logit per snippet, trained by the pseudo ground truth loss only
(:class:`PseudoGTLoss`, RefineLoc's k = 1 setting by default: BCE with
logits, ``pos_weight = sqrt(w_fg)``, weight 2). A persistent buffer
``attention_trained`` records whether a loss step has seen labelled
snippets since the last reset; until then (round 0 of the refinement, or
a fresh model) the head is plain W-TALC: ``snippet_scores`` has no
``foreground`` and the segments are W-TALC's. Afterwards ``foreground`` =
sigmoid(logit) and the post-processor uses it with alpha_A
(``WTALCPostProcessor.min_foreground``) as its ``foreground_mode`` says
(gate before or after W-TALC's threshold, or the foreground runs).
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from refineloc_mm.models.utils.snippet_mlp import SnippetMLP
from refineloc_mm.models.utils.uniform_dropout import UniformDropout
from refineloc_mm.models.utils.snippet_ops import (autocast_input, no_autocast,
                                                   max_over_labelled_classes,
                                                   stack_pseudo_labels,
                                                   stack_video_labels,
                                                   topk_counts,
                                                   topk_mean_over_time, unpack)
from refineloc_mm.models.heads.base_snippet_head import BaseSnippetHead

ATTENTION_KEYS = ('num_layers', 'detach_embedding')
# what the pseudo labels supervise (WTALCHead.pseudo_gt_target)
PSEUDO_GT_TARGETS = ('attention', 'cas_margin')


@MODELS.register_module()
class WTALCHead(BaseSnippetHead):
    """W-TALC's embedding + classifier, losses, video score and
    post-processing; optional foreground attention branch.

    Args:
        num_classes (int): Number of action classes C (no background).
        in_channels (int): Snippet feature width D (2048 for I3D RGB +
            flow).
        embedding_channels (int, optional): Width E of the embedding h
            (fc: D -> E). None (default): E = D, W-TALC's; a smaller E is
            a shrinking of compute (the synthetic configs).
        dropout_ratio (float): Dropout on the embedding in training.
            Defaults to 0.7.
        topk_divisor (int): k = ceil(T / topk_divisor) of the MIL loss and
            the video score. Defaults to 8.
        mil_loss (dict): :class:`MILLoss` config.
        casl_loss (dict): :class:`CoActivitySimilarityLoss` config; its
            ``num_similar`` must be the batch sampler's.
        pseudo_gt_target (str): What the pseudo labels supervise:
            ``'attention'`` (the branch; default) or ``'cas_margin'``
            (the CAS, no branch allowed); see the module docstring.
        margin_scale (float): Scale of the normalized CAS margin (the
            logits lie in [-margin_scale / 2, margin_scale / 2] for
            threshold_ratio 0.5). Defaults to 10.
        level_loss (dict, optional): Only with ``pseudo_gt_target=
            'cas_margin'``: a loss ``(logits [B, C], labels [B, C])`` (e.g.
            ``dict(type='BCELossWithLogits', loss_weight=0.2)``) of the
            top-k pooled logits against the multi-hot video labels,
            ``loss_level``, on the batches that carry pseudo labels.
            Defaults to None (no such term).
        attention (dict, optional): The foreground attention branch:
            ``num_layers`` (linear layers of the MLP on h, hidden widths
            halving, PyTorch default init; default 2) and
            ``detach_embedding`` (True: the pseudo ground truth loss trains
            the branch only, not the embedding; default False). None
            (default): plain W-TALC.
        pseudo_gt_loss (dict): :class:`PseudoGTLoss` config of the branch
            (used only with the branch).
        post_processor (dict): :class:`WTALCPostProcessor` config.
        init_cfg (dict, optional): Initialization config; None applies the
            original's Xavier-uniform / zero-bias init to ``fc`` and
            ``classifier``.
    """

    @property
    def pseudo_label_branch(self) -> str:
        """The submodule the pseudo ground truth loss trains: the branch,
        or the classifier for ``pseudo_gt_target='cas_margin'``."""
        return 'classifier' if self.pseudo_gt_target == 'cas_margin' \
            else 'fc_attention'

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embedding_channels: Optional[int] = None,
                 dropout_ratio: float = 0.7,
                 topk_divisor: int = 8,
                 mil_loss: ConfigType = dict(type='MILLoss', loss_weight=0.5),
                 casl_loss: ConfigType = dict(
                     type='CoActivitySimilarityLoss',
                     num_similar=3,
                     loss_weight=0.5),
                 attention: OptConfigType = None,
                 pseudo_gt_loss: ConfigType = dict(
                     type='PseudoGTLoss',
                     input_type='logits',
                     weighting='sqrt_pos_weight',
                     loss_weight=2.0),
                 post_processor: ConfigType = dict(
                     type='WTALCPostProcessor'),
                 pseudo_gt_target: str = 'attention',
                 margin_scale: float = 10.,
                 level_loss: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if pseudo_gt_target not in PSEUDO_GT_TARGETS:
            raise ValueError(f'pseudo_gt_target must be one of '
                             f'{PSEUDO_GT_TARGETS}, got {pseudo_gt_target!r}')
        if pseudo_gt_target == 'attention' and attention is None:
            pseudo_gt_loss = None
        if pseudo_gt_target == 'cas_margin' and attention is not None:
            raise ValueError(
                "WTALCHead(pseudo_gt_target='cas_margin') supervises the "
                'CAS: an attention branch would never be trained (set '
                'attention=None)')
        if level_loss is not None and pseudo_gt_target != 'cas_margin':
            raise ValueError(
                'WTALCHead(level_loss=...) pins the logits\' level that '
                "pseudo_gt_target='cas_margin' leaves free; got "
                f'pseudo_gt_target={pseudo_gt_target!r}')
        super().__init__(
            num_classes,
            in_channels,
            pseudo_gt_loss=pseudo_gt_loss,
            post_processor=post_processor,
            init_cfg=init_cfg)
        self.topk_divisor = topk_divisor
        self.pseudo_gt_target = pseudo_gt_target
        self.margin_scale = margin_scale
        if embedding_channels is None:
            embedding_channels = in_channels
        if int(embedding_channels) != embedding_channels or \
                embedding_channels < 1:
            raise ValueError('WTALCHead: embedding_channels must be an '
                             f'integer >= 1, got {embedding_channels!r}')
        self.embedding_channels = int(embedding_channels)
        self.fc = nn.Linear(in_channels, self.embedding_channels)
        self.dropout = UniformDropout(dropout_ratio)
        self.classifier = nn.Linear(self.embedding_channels, num_classes)
        self.mil_loss = MODELS.build(mil_loss)
        self.casl_loss = MODELS.build(casl_loss)
        self.level_loss = None if level_loss is None else MODELS.build(
            level_loss)
        self.fc_attention = None
        self.detach_embedding = False
        if attention is not None:
            unknown = set(attention) - set(ATTENTION_KEYS)
            if unknown:
                raise ValueError(f'unknown attention keys {sorted(unknown)};'
                                 f' expected some of {ATTENTION_KEYS}')
            self.fc_attention = SnippetMLP(self.embedding_channels, 1,
                                           attention.get('num_layers', 2))
            self.detach_embedding = bool(
                attention.get('detach_embedding', False))
            # float (not bool): SyncBuffersHook averages buffers over ranks
            self.register_buffer(
                'attention_trained', torch.zeros(()), persistent=True)
        self.init_layers()

    @property
    def with_attention(self) -> bool:
        """Whether the head has the foreground attention branch."""
        return self.fc_attention is not None

    @property
    def uses_attention(self) -> bool:
        """Whether the branch exists and has been trained by pseudo labels
        since the last reset (then its foreground gates the segments)."""
        return self.with_attention and bool(self.attention_trained > 0.5)

    def init_layers(self) -> None:
        """The original's init: Xavier-uniform weights, zero biases."""
        for layer in (self.fc, self.classifier):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def reset_parameters(self) -> None:
        """Fresh W-TALC layers and an untrained attention branch (the
        branch's own linear layers are reset by the localizer's reset)."""
        super().reset_parameters()
        if self.with_attention:
            self.attention_trained.zero_()

    def forward(self, x: torch.Tensor, mask: torch.Tensor
                ) -> Tuple[torch.Tensor, ...]:
        """Snippet-level outputs of a batch, computed on the packed real
        snippets and scattered into the padded layout.

        Args:
            x (Tensor): Packed snippet features [S, D], S = mask.sum().
            mask (Tensor): [B, T] bool, True on real snippets.

        Returns:
            tuple[Tensor]: embedding h [B, T, E] (after dropout in
            training), CAS logits [B, T, C] and, with the attention branch,
            foreground logits [B, T]; all float32, zero on padding.
        """
        num = x.shape[0]
        x = autocast_input(x)
        h = self.dropout(torch.relu(self.fc(x)))
        outputs = [h, self.classifier(h)]
        if self.with_attention:
            outputs.append(
                self.fc_attention(
                    h.detach() if self.detach_embedding else h))
        sizes = [o.shape[-1] for o in outputs]
        padded = unpack(torch.cat(outputs, -1)[:num].float(), mask)
        out = padded.split(sizes, dim=-1)
        if self.with_attention:
            return out[0], out[1], out[2][..., 0]
        return tuple(out)

    def video_score(self, cas: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        """Top-k pooled logits, k = ceil(T_i / 8): [B, T, C] -> [B, C]."""
        return topk_mean_over_time(
            cas, mask, topk_counts(mask, self.topk_divisor, 'ceil'))

    def loss(self, x: torch.Tensor, mask: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Loss of a batch (:meth:`BaseSnippetHead.loss`): ``loss_mil``,
        ``loss_casl`` and, with the attention branch, ``loss_pseudo_gt``;
        the branch counts as trained once a training step has seen
        labelled snippets.

        Args:
            x (Tensor): Packed snippet features [S, D].
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [C]) and optionally ``pseudo_label`` ([T_i],
                -1/0/1) and metainfo ``fg_weight`` (w_fg). The first
                ``2 * num_similar`` videos are the co-activity pairs.
        """
        losses = super().loss(x, mask, data_samples)
        # (a branch exists only with pseudo_gt_target='attention')
        if self.training and self.with_attention and \
                self._labelled(data_samples, mask):
            self.attention_trained.fill_(1.)
        return losses

    @staticmethod
    def _labelled(data_samples: SampleList, mask: torch.Tensor) -> bool:
        """Whether a snippet of the batch carries a pseudo label."""
        pseudo = stack_pseudo_labels(data_samples, mask)
        return pseudo is not None and bool(((pseudo >= 0) & mask).any())

    def loss_by_feat(self, outs: Tuple[torch.Tensor, ...],
                     mask: torch.Tensor,
                     data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """W-TALC's ``loss_mil`` and ``loss_casl`` from :meth:`forward`'s
        h and CAS; pseudo labels without the attention branch are an
        error."""
        h, cas = outs[0], outs[1]
        labels = stack_video_labels(
            data_samples, self.num_classes, cas.device, cas.dtype,
            require_label="W-TALC's MIL loss needs")
        if self.pseudo_gt_loss is None and \
                self._labelled(data_samples, mask):
            raise ValueError(
                'the videos carry pseudo labels (e.g. '
                f'"{data_samples[0].metainfo.get("video_name")}") '
                'but WTALCHead has nothing to learn them with: set '
                "cls_head.pseudo_gt_target='cas_margin' or "
                'cls_head.attention=dict(num_layers=2)')
        with no_autocast(cas):
            return dict(
                loss_mil=self.mil_loss(cas, mask, labels,
                                       self.video_score(cas, mask)),
                loss_casl=self.casl_loss(h, cas, mask, labels))

    def loss_pseudo_gt(self, outs: Tuple[torch.Tensor, ...],
                       mask: torch.Tensor,
                       data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """``loss_pseudo_gt`` (:meth:`BaseSnippetHead.loss_pseudo_gt`) and,
        with ``level_loss``, ``loss_level``: ``level_loss`` of the top-k
        pooled logits [B, C] against the video labels [B, C] on a batch
        that carries pseudo labels, zero (still in the graph) on one that
        does not (round 0)."""
        losses = super().loss_pseudo_gt(outs, mask, data_samples)
        if self.level_loss is None:
            return losses
        cas = outs[1]
        labels = stack_video_labels(data_samples, self.num_classes,
                                    cas.device, cas.dtype)
        with no_autocast(cas):
            loss = self.level_loss(
                self.video_score(cas, mask), (labels > 0).to(cas.dtype))
        labelled = self._labelled(data_samples, mask)
        losses['loss_level'] = loss if labelled else loss * 0.
        return losses

    def pseudo_label_output(self, outs: Tuple[torch.Tensor, ...],
                            mask: torch.Tensor, data_samples: SampleList
                            ) -> Optional[Tuple[torch.Tensor]]:
        """The logits [B, T] the pseudo ground truth loss supervises: the
        CAS margin (:meth:`cas_margin`) or the attention branch's
        foreground logits (None without the branch)."""
        if self.pseudo_gt_target == 'cas_margin':
            return (self.cas_margin(outs[1], mask, data_samples), )
        return (outs[2], ) if self.with_attention else None

    def cas_margin(self, cas: torch.Tensor, mask: torch.Tensor,
                   data_samples: SampleList) -> torch.Tensor:
        """Per snippet, the max over the video's labelled classes of the
        CAS normalized to [0, 1] over the video (min -> 0, max -> 1) minus
        W-TALC's threshold on that scale (1 - threshold_ratio), times
        ``margin_scale``: positive where W-TALC's post-processing keeps the
        snippet, whatever the logits' level and range.

        Args:
            cas (Tensor): [B, T, C] CAS logits.
            mask (Tensor): [B, T] bool.
            data_samples (list[ActionDataSample]): With ``gt_label``
                (multi-hot [C]).

        Returns:
            Tensor: [B, T] logits of the pseudo ground truth loss (0 on
            padding).
        """
        labels = stack_video_labels(data_samples, self.num_classes,
                                    cas.device)
        valid = mask[..., None]
        top = cas.masked_fill(~valid, float('-inf')).amax(1, True)
        low = cas.masked_fill(~valid, float('inf')).amin(1, True)
        level = (cas - low) / (top - low).clamp_min(1e-6)
        margin = level - (1 - self.post_processor.threshold_ratio)
        return (self.margin_scale * max_over_labelled_classes(
            margin, labels)).masked_fill(~mask, 0.)

    def scores_by_feat(self, outs: Tuple[torch.Tensor, ...],
                       mask: torch.Tensor,
                       data_samples: Optional[SampleList] = None
                       ) -> Dict[str, torch.Tensor]:
        """Scores of the base-model contract.

        Returns:
            dict[str, Tensor]: ``cas`` (logits [B, T, C], for the
            post-processor), ``cas_softmax`` (softmax over classes [B, T,
            C]), ``video_score`` (softmax over classes of the top-k pooled
            logits [B, C]), ``mask`` and, only when the attention branch
            has been trained by pseudo labels, ``foreground`` (sigmoid of
            its logit, [B, T]).
        """
        cas = outs[1]
        with no_autocast(cas):
            out = dict(
                cas=cas,
                cas_softmax=torch.softmax(cas, dim=-1),
                video_score=torch.softmax(self.video_score(cas, mask), -1),
                mask=mask)
            if self.uses_attention:
                out['foreground'] = torch.sigmoid(outs[2]) * mask
        return out
