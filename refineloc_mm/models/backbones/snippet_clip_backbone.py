# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Any MMAction2 backbone applied to snippet clips, one vector per snippet.

``RefineLoc(backbone=...)`` applies its backbone to the packed snippets;
this wrapper makes that work for 2D (per-frame) and 3D (per-clip)
backbones alike and bounds memory on long videos:

- ``mode='3d'``: [S, C, s', H, W] -> backbone (+ neck) -> global average
  pooling -> [S, D];
- ``mode='2d'``: [S, s', C, H, W] -> the S * s' frames through the
  backbone (+ neck) -> global average pooling -> mean over each snippet's
  s' frames -> [S, D];
- ``chunk_size``: snippets are encoded ``chunk_size`` at a time (all
  videos of the batch are packed, so a long video is split as well);
  clips stay uint8 until a chunk is normalized (``normalize``, the data
  preprocessor's, see :class:`SnippetClipDataPreprocessor`), so only one
  chunk is float32 at once; with ``with_cp=True`` each chunk is
  gradient-checkpointed in training, so the uint8 chunks are all that is
  kept for backward and only the chunk being recomputed holds
  activations.

``RefineLoc(backbone=dict(type=<any MMAction2 backbone>), neck=...)``
wraps a bare backbone in this class itself (see :class:`RefineLoc`).

Pretrained weights: ``init_cfg=dict(type='Pretrained', checkpoint=...)``
on this wrapper loads a recognizer checkpoint (keys ``backbone.*``,
``neck.*``; the recognizer's head is ignored) from a local path, and is
applied again whenever the refinement hook resets the model.
"""
from typing import Callable, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType

# snippet clips of a batch: packed [S, ...] tensor, or one stream per video
# (each an iterable of [n, ...] uint8 numpy chunks with len() snippets)
ClipStreams = Sequence[Iterable[np.ndarray]]


def is_clip_streams(inputs: object) -> bool:
    """Whether ``inputs`` are per-video clip streams (a list of
    :class:`SnippetClipStream`, as collated by ``pseudo_collate``) rather
    than tensors."""
    return isinstance(inputs, (list, tuple)) and len(inputs) > 0 and not any(
        isinstance(x, torch.Tensor) for x in inputs)


def pool_features(x: Union[torch.Tensor, Tuple[torch.Tensor, ...]],
                  multi_output: str = 'last') -> torch.Tensor:
    """Output of a backbone/neck, globally average-pooled to [N, D].

    Several outputs (a tuple: stages, or SlowFast's two pathways) give the
    last one (``multi_output='last'``) or all, pooled and concatenated
    (``'concat'``, e.g. slow + fast pathway features).

    Args:
        x (Tensor | tuple[Tensor]): [N, D, ...] output(s).
        multi_output (str): ``'last'`` or ``'concat'``.

    Returns:
        Tensor: [N, D] float32 (pooled in float32 also when the backbone
        ran under autocast), D summed over the outputs for ``'concat'``.
    """
    if isinstance(x, (tuple, list)):
        if multi_output == 'concat':
            return torch.cat([pool_features(y) for y in x], dim=1)
        x = x[-1]
    x = x.float()
    return x.flatten(2).mean(-1) if x.dim() > 2 else x


def apply_neck(neck: Optional[torch.nn.Module],
               x: Union[torch.Tensor, Tuple[torch.Tensor, ...]]
               ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
    """The neck's features of backbone output ``x`` (``x`` itself without
    a neck). MMAction2 necks (e.g. ``TPN``) return ``(features,
    auxiliary losses)``; the auxiliary losses need the recognizer's data
    samples and are not used here."""
    if neck is None:
        return x
    out = neck(x)
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        out = out[0]
    return out


def encode_snippets(backbone: torch.nn.Module,
                    neck: Optional[torch.nn.Module], clips: torch.Tensor,
                    mode: str, multi_output: str = 'last') -> torch.Tensor:
    """Snippet clips -> one feature vector per snippet.

    Args:
        backbone (nn.Module): An MMAction2 backbone.
        neck (nn.Module, optional): Applied to the backbone's output.
        clips (Tensor): [S, C, s', H, W] (``mode='3d'``) or
            [S, s', C, H, W] (``mode='2d'``), normalized.
        mode (str): ``'2d'`` or ``'3d'``.
        multi_output (str): See :func:`pool_features`.

    Returns:
        Tensor: [S, D].
    """
    if mode == '2d':
        s, t = clips.shape[:2]
        x = apply_neck(neck, backbone(clips.flatten(0, 1)))
        return pool_features(x, multi_output).view(s, t, -1).mean(1)
    return pool_features(apply_neck(neck, backbone(clips)), multi_output)


@MODELS.register_module()
class SnippetClipBackbone(BaseModule):
    """Wraps an MMAction2 backbone (and neck) for snippet clips.

    Args:
        backbone (dict): Any registered MMAction2 backbone.
        neck (dict, optional): Neck applied after the backbone.
        mode (str): ``'2d'`` (per frame, averaged per snippet) or
            ``'3d'`` (per clip). Defaults to ``'3d'``.
        chunk_size (int, optional): Snippets encoded at a time. None: all.
        with_cp (bool): Gradient checkpointing per chunk in training.
        multi_output (str): For backbones with several outputs: ``'last'``
            (default) or ``'concat'`` (e.g. ``ResNet3dSlowFast``).
        init_cfg (dict, optional): E.g. pretrained recognizer weights.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 mode: str = '3d',
                 chunk_size: Optional[int] = None,
                 with_cp: bool = False,
                 multi_output: str = 'last',
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in ('2d', '3d'):
            raise ValueError(f'mode must be "2d" or "3d", got {mode!r}')
        self.mode = mode
        self.chunk_size = chunk_size
        self.with_cp = with_cp
        if multi_output not in ('last', 'concat'):
            raise ValueError(f'multi_output must be "last" or "concat", '
                             f'got {multi_output!r}')
        self.multi_output = multi_output
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck else None

    def _encode(self, clips: torch.Tensor,
                normalize: Optional[Callable] = None) -> torch.Tensor:
        """One chunk: normalize (float32) and encode to [n, D]."""
        if normalize is not None:
            clips = normalize(clips)
        elif not clips.is_floating_point():
            clips = clips.float()
        return encode_snippets(self.backbone, self.neck, clips, self.mode,
                               self.multi_output)

    def forward(self,
                clips: Union[torch.Tensor, ClipStreams],
                normalize: Optional[Callable] = None) -> torch.Tensor:
        """Encode packed snippet clips ``chunk_size`` snippets at a time.

        Args:
            clips (Tensor | list[SnippetClipStream]): [S, C, s', H, W]
                (3d) or [S, s', C, H, W] (2d), uint8 pixels (or float);
                or, in eval mode, B per-video streams of such chunks
                (decoded here, one chunk at a time, S = their total
                length).
            normalize (callable, optional): Chunk [n, ...] -> normalized
                float32 chunk, applied to one chunk at a time (e.g.
                :meth:`SnippetClipDataPreprocessor.normalize`). None:
                clips are only cast to float32.

        Returns:
            Tensor: [S, D], the videos' snippets in order.
        """
        if not isinstance(clips, torch.Tensor):
            return self._encode_streams(clips, normalize)
        size = self.chunk_size or clips.shape[0]
        out = []
        for chunk in clips.split(max(int(size), 1)):
            if self.with_cp and self.training and torch.is_grad_enabled():
                out.append(checkpoint(self._encode, chunk, normalize,
                                      use_reentrant=False))
            else:
                out.append(self._encode(chunk, normalize))
        return torch.cat(out) if len(out) > 1 else out[0]

    def _encode_streams(self, streams: ClipStreams,
                        normalize: Optional[Callable] = None
                        ) -> torch.Tensor:
        """B per-video streams -> [S, D]: every chunk of every stream, in
        order, is moved to the device, normalized and encoded (split
        further by ``chunk_size``) before the next one is decoded."""
        if self.training:
            raise RuntimeError(
                'streamed snippet clips (DecodeSnippetChunks(lazy=True)) '
                'are for inference; the model is in training mode: call '
                "model.eval(), or decode training samples (lazy=False or "
                "lazy='inference' in the training pipeline)")
        device = next(self.parameters()).device
        out = [
            self(torch.from_numpy(chunk).to(device), normalize)
            for stream in streams for chunk in stream
        ]
        return torch.cat(out) if len(out) > 1 else out[0]
