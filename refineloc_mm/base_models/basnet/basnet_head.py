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
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from refineloc_mm.models.utils.snippet_ops import (max_over_labelled_classes,
                                                   no_autocast,
                                                   stack_video_labels,
                                                   topk_mean_over_time, unpack)
from refineloc_mm.models.heads.base_snippet_head import BaseSnippetHead

# pseudo_gt_target -> the PseudoGTLoss input_type it needs
PSEUDO_GT_TARGETS = dict(
    foreground_weights='probs', suppression_cas='logits', base_cas='logits')
TARGET_WORDS = dict(
    foreground_weights='the foreground weights w, which are probabilities',
    suppression_cas="the suppression CAS's logits",
    base_cas="the base CAS's logits")
# pseudo_gt_target -> the index of the CAS it reads in forward's outputs
CAS_OUTPUT = dict(suppression_cas=3, base_cas=1)


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
class BaSNetHead(BaseSnippetHead):
    """BaS-Net: filtering module, shared CAS module, base and suppression
    branches (see the module docstring).

    ``forward`` returns the original's outputs, padded to [B, T, ...]:
    ``(score_base [B, C+1], cas_base [B, T, C+1], score_supp [B, C+1],
    cas_supp [B, T, C+1], w [B, T, 1])``.

    The pseudo ground truth of the refinement (``pseudo_gt_loss``, ours:
    the original has no pseudo labels) supervises, after
    ``pseudo_gt_target``:

    - ``'foreground_weights'``: the foreground weights ``w``
      (``filter_module``; probabilities, ``input_type='probs'``);
    - ``'suppression_cas'``: the suppression branch's CAS logit of the
      video's labelled classes (their max at every snippet,
      ``cas_module``), i.e. what BaS-Net's test thresholds
      (``input_type='logits'``: a logit cannot saturate). A snippet
      labelled background pushes every labelled class's logit below 0,
      so that the test's min-max normalisation (which clips its min at 0)
      puts it below every threshold.
    - ``'base_cas'``: the same logit of the base branch's CAS. The CAS
      module is shared, so the labels train the classifier the test reads
      as with ``'suppression_cas'``, but their loss cannot reach ``w``
      (the base branch reads ``x``, not ``w * x``): ``w`` is trained by
      BaS-Net's own losses only, in every round, as in round 0.

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
        pseudo_gt_loss (dict, optional): Config of :class:`PseudoGTLoss`;
            ``input_type`` must be ``'probs'`` for ``'foreground_weights'``
            and ``'logits'`` for the two CAS targets (its default is set
            from the target). Defaults to an unweighted BCE with weight 1.
        pseudo_gt_target (str): What the pseudo labels supervise (above).
            Defaults to ``'foreground_weights'``.
        post_processor (dict): Config of :class:`BaSNetPostProcessor`.
        init_cfg (dict, optional): Initialization config. Defaults to None,
            i.e. PyTorch's default initialization, as the original.
    """

    @property
    def pseudo_label_branch(self) -> str:
        """The submodule the pseudo ground truth loss supervises: the
        filtering module (w) or the CAS module (either CAS target), after
        ``pseudo_gt_target``."""
        return 'cas_module' if self.pseudo_gt_target in CAS_OUTPUT \
            else 'filter_module'

    def __init__(self,
                 num_classes: int = 20,
                 in_channels: int = 2048,
                 cas_channels: int = 2048,
                 filter_channels: int = 512,
                 dropout: float = 0.7,
                 topk_ratio: int = 8,
                 loss: ConfigType = dict(type='BaSNetLoss'),
                 pseudo_gt_loss: OptConfigType = dict(
                     type='PseudoGTLoss', weighting='none',
                     loss_weight=1.0),
                 pseudo_gt_target: str = 'foreground_weights',
                 post_processor: ConfigType = dict(
                     type='BaSNetPostProcessor'),
                 init_cfg: Optional[ConfigType] = None) -> None:
        if topk_ratio < 1:
            raise ValueError(f'topk_ratio must be >= 1, got {topk_ratio}')
        if pseudo_gt_target not in PSEUDO_GT_TARGETS:
            raise ValueError(
                f'pseudo_gt_target must be one of {PSEUDO_GT_TARGETS}, '
                f'got {pseudo_gt_target!r}')
        if pseudo_gt_loss:
            expected = PSEUDO_GT_TARGETS[pseudo_gt_target]
            pseudo_gt_loss = dict(pseudo_gt_loss)
            if pseudo_gt_loss.setdefault('input_type', expected) != expected:
                raise ValueError(
                    f"BaSNetHead(pseudo_gt_target='{pseudo_gt_target}') "
                    f"supervises {TARGET_WORDS[pseudo_gt_target]}: "
                    f"pseudo_gt_loss.input_type must be '{expected}', got "
                    f"{pseudo_gt_loss['input_type']!r}")
        super().__init__(
            num_classes,
            in_channels,
            pseudo_gt_loss=pseudo_gt_loss,
            post_processor=post_processor,
            init_cfg=init_cfg)
        self.pseudo_gt_target = pseudo_gt_target
        self.topk_ratio = topk_ratio
        self.filter_module = BaSNetFilterModule(in_channels, filter_channels)
        self.cas_module = BaSNetCASModule(in_channels, num_classes,
                                          cas_channels, dropout)
        self.loss_module = MODELS.build(loss)

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

    def loss_by_feat(self, outs: Tuple[torch.Tensor, ...],
                     mask: torch.Tensor,
                     data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """BaS-Net's losses of a batch (see :class:`BaSNetLoss`) from
        :meth:`forward`'s outputs; ``data_samples`` with ``gt_label``
        (multi-hot [C])."""
        score_base, _, score_supp, _, w = outs
        labels = stack_video_labels(data_samples, self.num_classes,
                                    score_base.device)
        # float32 losses (CUDA autocast refuses binary_cross_entropy)
        with no_autocast(score_base):
            return self.loss_module(
                score_base=score_base,
                score_supp=score_supp,
                fore_weights=w[..., 0],
                mask=mask,
                video_labels=labels)

    def pseudo_label_output(self, outs: Tuple[torch.Tensor, ...],
                            mask: torch.Tensor, data_samples: SampleList
                            ) -> Tuple[torch.Tensor]:
        """The foreground weights w [B, T] or the labelled classes'
        suppression / base CAS logit [B, T] (``pseudo_gt_target``)."""
        if self.pseudo_gt_target in CAS_OUTPUT and all(
                'pseudo_label' in ds for ds in data_samples):
            labels = stack_video_labels(data_samples, self.num_classes,
                                        mask.device)
            cas = outs[CAS_OUTPUT[self.pseudo_gt_target]]
            with no_autocast(mask):
                return (max_over_labelled_classes(cas, labels), )
        return (outs[4][..., 0], )

    def scores_by_feat(self, outs: Tuple[torch.Tensor, ...],
                       mask: torch.Tensor,
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
        score_base, cas_base, score_supp, cas_supp, w = outs
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
