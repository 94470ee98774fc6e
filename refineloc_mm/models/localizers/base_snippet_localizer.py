# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The base-model contract of the refinement.

Every weakly-supervised localizer that the refinement wraps (RefineLoc,
W-TALC, BaS-Net, DELU, or a model you add) is a :class:`BaseSnippetLocalizer`:
an optional backbone (identity for pre-extracted features) plus a head
(``cls_head``), a :class:`BaseSnippetHead` (the template of ``loss``,
``snippet_scores``, ``post_process``, the pseudo ground truth loss and the
initialization; see ``models/heads/base_snippet_head.py``) whose
post-processors are :class:`BaseSegmentPostProcessor` s reading the scores
dict.

The refinement hook, :class:`PseudoLabelDataset`, the pseudo ground truth
generator, the metric and the tools only use this interface
(``snippet_scores``, ``post_process``, ``predict``, ``reset_parameters``),
never the model's type. See ``docs/adding_a_base_model.md``.
"""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.model import BaseModel, BaseModule

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from ..backbones.snippet_clip_backbone import (ClipStreams,
                                               SnippetClipBackbone,
                                               is_clip_streams)
from ..utils.snippet_ops import length_mask, snippet_mask

Inputs = Union[torch.Tensor, ClipStreams]


# layout of the packed clips (the data preprocessor's format_shape) ->
# SnippetClipBackbone mode
FORMAT_MODES = {'NCTHW': '3d', 'NTCHW': '2d', 'NCHW': '2d'}


def snippet_backbone_config(backbone: ConfigType,
                            neck: OptConfigType = None,
                            backbone_wrapper: OptConfigType = None,
                            format_shape: Optional[str] = None) -> dict:
    """Config of the :class:`SnippetClipBackbone` that encodes snippets.

    A bare MMAction2 backbone (any registered type that is not a
    :class:`SnippetClipBackbone`) is wrapped, with ``neck`` and the
    wrapper settings ``backbone_wrapper``; an explicit wrapper gets
    ``neck`` unless it has its own. Without a ``mode``, it follows the
    data preprocessor's ``format_shape`` (``'NCTHW'`` -> ``'3d'``,
    ``'NCHW'``/``'NTCHW'`` -> ``'2d'``).

    Args:
        backbone (dict): Backbone config.
        neck (dict, optional): Neck config.
        backbone_wrapper (dict, optional): Keyword arguments of the
            wrapper of a bare backbone (``mode``, ``chunk_size``,
            ``with_cp``, ``multi_output``, ``init_cfg``).
        format_shape (str, optional): The data preprocessor's.

    Returns:
        dict: A ``SnippetClipBackbone`` config.
    """
    kind = backbone['type']
    cls = kind if isinstance(kind, type) else MODELS.get(kind)
    if cls is not None and issubclass(cls, SnippetClipBackbone):
        if backbone_wrapper:
            raise ValueError(
                'backbone_wrapper is for a bare backbone; set '
                f'{dict(backbone_wrapper)} in the SnippetClipBackbone '
                'config itself')
        cfg = dict(backbone)
        if neck:
            if cfg.get('neck'):
                raise ValueError('two necks: the SnippetClipBackbone has a '
                                 'neck and RefineLoc got another one')
            cfg['neck'] = neck
    else:
        cfg = dict(type='SnippetClipBackbone', backbone=backbone, neck=neck)
        cfg.update(backbone_wrapper or {})
    inferred = FORMAT_MODES.get(format_shape)
    if 'mode' not in cfg:
        if inferred is None:
            raise ValueError(
                f'cannot tell whether backbone {kind} is 2d or 3d: give '
                "backbone_wrapper=dict(mode='2d' or '3d'), or a data "
                "preprocessor with format_shape 'NCTHW' (3d) or "
                "'NCHW'/'NTCHW' (2d) such as SnippetClipDataPreprocessor")
        cfg['mode'] = inferred
    elif inferred is not None and cfg['mode'] != inferred:
        raise ValueError(
            f"backbone mode '{cfg['mode']}' does not match the data "
            f"preprocessor's format_shape '{format_shape}' "
            f"('{inferred}' clips)")
    return cfg


class BaseSnippetLocalizer(BaseModel):
    """A weakly-supervised temporal action localizer on snippets: the
    contract every base model of the refinement fulfils (see the module
    docstring).

    Inputs are the snippets of a batch of videos, packed. With
    pre-extracted features the backbone is the identity; any registered
    MMAction2 backbone (2D or 3D) may be given instead, with an optional
    neck: it is wrapped in a :class:`SnippetClipBackbone` (unless it is
    one already), which encodes the snippet clips chunk by chunk,
    normalized with the data preprocessor's mean/std one chunk at a time,
    to one feature vector per snippet.

    Args:
        cls_head (dict): Config of the model's head.
        backbone (dict, optional): Backbone config: an MMAction2 backbone
            (e.g. ``dict(type='X3D')``) or a ``SnippetClipBackbone``.
            None for features.
        neck (dict, optional): Neck config applied after the backbone
            (inside the wrapper, before pooling).
        backbone_wrapper (dict, optional): Settings of the
            ``SnippetClipBackbone`` around a bare backbone, e.g.
            ``dict(chunk_size=32, with_cp=True, init_cfg=...)``; ``mode``
            defaults to the data preprocessor's ``format_shape``
            (``'NCTHW'`` -> 3d, ``'NCHW'``/``'NTCHW'`` -> 2d).
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='SnippetDataPreprocessor')``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 cls_head: ConfigType,
                 backbone: OptConfigType = None,
                 neck: OptConfigType = None,
                 backbone_wrapper: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SnippetDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = None
        if backbone:
            self.backbone = MODELS.build(
                snippet_backbone_config(
                    backbone, neck, backbone_wrapper,
                    getattr(self.data_preprocessor, 'format_shape', None)))
        elif neck or backbone_wrapper:
            raise ValueError('neck and backbone_wrapper need a backbone')
        self.cls_head = MODELS.build(cls_head)

    def reset_parameters(self) -> None:
        """Fresh weights for a new refinement round (model reset): every
        layer (and every module with a ``reset_parameters``) is re-drawn as
        when built, then the ``init_cfg``s (e.g. pretrained backbone
        weights) are applied again."""
        for m in self.modules():
            if m is not self and hasattr(m, 'reset_parameters'):
                m.reset_parameters()
            if isinstance(m, BaseModule):
                m.is_init = False  # let init_weights run again
        self.init_weights()

    def extract_feat(self, inputs: Inputs) -> torch.Tensor:
        """Snippet features of packed snippets.

        Args:
            inputs (Tensor | list[SnippetClipStream]): [S, D] features, or
                [S, *clip_shape] snippet clips (uint8 pixels, as packed by
                the data preprocessor) when a backbone is set (S snippets
                of all videos), or, in eval mode, one clip stream per
                video (``DecodeSnippetChunks(lazy=True)``), decoded and
                encoded chunk by chunk.

        Returns:
            Tensor: [S, D'].
        """
        if self.backbone is None:
            if is_clip_streams(inputs):
                raise ValueError('streamed snippet clips need a backbone')
            return inputs
        return self.backbone(
            inputs, getattr(self.data_preprocessor, 'normalize', None))

    def _packed_features(self, inputs: Inputs,
                         data_samples: Optional[SampleList]
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Packed snippet features [S, D'] and the [B, T] snippet mask.

        ``inputs`` are packed ([S, ...], as the data preprocessor makes
        them) or padded ([B, T, ...], e.g. a user tensor); without data
        samples a padded input is taken as B full-length videos. B clip
        streams (inference) give their S snippets' features in order; the
        lengths come from the data samples (or the streams).
        """
        if is_clip_streams(inputs):
            return self._streamed_features(inputs, data_samples)
        if data_samples is None:
            b, t = inputs.shape[:2]
            mask = inputs.new_ones((b, t), dtype=torch.bool)
            return self.extract_feat(inputs.flatten(0, 1)), mask
        lengths = [ds.metainfo['num_snippets'] for ds in data_samples]
        mask = snippet_mask(data_samples, max(lengths), inputs.device)
        if inputs.shape[0] != sum(lengths):
            inputs = inputs[mask]  # padded [B, T, ...] -> packed
        return self.extract_feat(inputs), mask

    def _streamed_features(self, streams: ClipStreams,
                           data_samples: Optional[SampleList]
                           ) -> Tuple[torch.Tensor, torch.Tensor]:
        """[S, D'] features of B clip streams and the [B, T] mask."""
        lengths = [len(s) for s in streams] if data_samples is None else [
            ds.metainfo['num_snippets'] for ds in data_samples
        ]  # type: ignore[arg-type]
        x = self.extract_feat(streams)
        if x.shape[0] != sum(lengths):
            raise ValueError(f'{x.shape[0]} snippets streamed for '
                             f'{sum(lengths)} in the data samples')
        return x, length_mask(lengths, max(lengths), x.device)

    # ------------------------------------------------ the refinement's view
    @torch.no_grad()
    def snippet_scores(self, inputs: Inputs,
                       data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Snippet- and video-level scores of a batch, as the pseudo ground
        truth generators and the visualization read them.

        Returns:
            dict[str, Tensor]: The head's scores (``cas_softmax``
            [B, T, N], ``video_score`` [B, N], ``foreground`` [B, T] where
            the model has one, and its own extra entries) plus the snippet
            ``mask`` [B, T].
        """
        x, mask = self._packed_features(inputs, data_samples)
        out = self.cls_head.snippet_scores(x, mask, data_samples)
        out['mask'] = mask
        return out

    def post_process(self,
                     scores: Dict[str, torch.Tensor],
                     data_samples: SampleList,
                     post_processor=None) -> List[np.ndarray]:
        """Segments of every video from :meth:`snippet_scores`' output,
        by the model's own post-processing (or ``post_processor``, a built
        component of the same kind).

        Returns:
            list[np.ndarray]: Per video, [M_i, 4] float64 rows
            ``(t_start, t_end, class_index, score)`` in seconds.
        """
        return self.cls_head.post_process(scores, data_samples,
                                          post_processor)

    def predict(self, inputs: Inputs,
                data_samples: SampleList) -> SampleList:
        """Sets ``pred_segments`` ([M, 4]: t_start, t_end, class, score)
        and ``pred_video_score`` ([N]) on each data sample."""
        scores = self.snippet_scores(inputs, data_samples)
        segments = self.post_process(scores, data_samples)
        for ds, seg, score in zip(data_samples, segments,
                                  scores['video_score']):
            ds.pred_segments = seg
            ds.pred_video_score = score.detach().float().cpu()
        return data_samples

    def forward(self,
                inputs: Inputs,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'):
        """``loss`` -> dict of losses; ``predict`` -> data samples with
        ``pred_segments``; ``tensor`` -> the head's raw outputs.

        Args:
            inputs (Tensor | list[SnippetClipStream]): Packed snippets
                [S, ...] (from :class:`SnippetDataPreprocessor`), padded
                [B, T, ...], or B clip streams (inference only).
            data_samples (list[ActionDataSample], optional): Give each
                video's ``num_snippets``; required for loss and predict.
        """
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        x, mask = self._packed_features(inputs, data_samples)
        if mode == 'tensor':
            return self.cls_head(x, mask)
        if mode == 'loss':
            return self.cls_head.loss(x, mask, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". '
                           'Only supports loss, predict and tensor mode')
