# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Packing of raw snippet clips; their normalization, chunk by chunk."""
from typing import Dict, Sequence

import torch

from mmaction.registry import MODELS
from ..backbones.snippet_clip_backbone import is_clip_streams
from .snippet_data_preprocessor import SnippetDataPreprocessor

# layout of the packed clips -> channel dimension
CHANNEL_DIMS = {'NCTHW': 1, 'NTCHW': 2, 'NCHW': 2}


def normalize_clips(clips: torch.Tensor, mean: torch.Tensor,
                    std: torch.Tensor, channel_dim: int) -> torch.Tensor:
    """``(clips - mean) / std`` per colour channel, as float32.

    Args:
        clips (Tensor): [N, ...] clips of any dtype (uint8 pixels).
        mean, std (Tensor): [C] per channel.
        channel_dim (int): Dimension of the C channels in ``clips``.

    Returns:
        Tensor: float32, the shape of ``clips``.
    """
    shape = [1] * clips.dim()
    shape[channel_dim] = -1
    mean = mean.to(clips.device, torch.float32).view(shape)
    std = std.to(clips.device, torch.float32).view(shape)
    return (clips.float() - mean) / std


@MODELS.register_module()
class SnippetClipDataPreprocessor(SnippetDataPreprocessor):
    """Packs snippet clips like :class:`SnippetDataPreprocessor` and
    keeps them in their dtype (uint8): the model normalizes them chunk by
    chunk with :meth:`normalize` inside :class:`SnippetClipBackbone`, so
    a long video is never held as float32 at once (and gradient
    checkpointing keeps only uint8 chunks).

    Args:
        mean, std (Sequence[float]): Per channel, in the pixel range of
            the decoded frames (0-255 by default, ImageNet values).
        format_shape (str): ``'NCTHW'`` for [S, C, s', H, W] clips (3D
            backbones) or ``'NTCHW'`` (alias ``'NCHW'``, as for
            MMAction2's 2D recognizers) for [S, s', C, H, W] frames (2D
            backbones, see :class:`PackSnippetClips`).

    A batch of clip streams (a list of :class:`SnippetClipStream`, from
    ``DecodeSnippetChunks(lazy=True)``, inference) is passed through as
    is: the model decodes, moves and normalizes them chunk by chunk.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 format_shape: str = 'NCTHW') -> None:
        super().__init__()
        if format_shape not in CHANNEL_DIMS:
            raise ValueError(f'format_shape must be one of '
                             f'{tuple(CHANNEL_DIMS)}, got {format_shape}')
        self.format_shape = format_shape
        self.channel_dim = CHANNEL_DIMS[format_shape]
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32),
                             False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32),
                             False)

    def normalize(self, clips: torch.Tensor) -> torch.Tensor:
        """[N, ...] packed clips (any N, e.g. one chunk) -> normalized
        float32 clips of the same shape."""
        return normalize_clips(clips, self.mean, self.std, self.channel_dim)

    def forward(self, data: Dict, training: bool = False) -> Dict:
        """Pack the batch to [S, ...] (5 dims, uint8 kept); clip streams
        stay a list of B streams."""
        if is_clip_streams(data['inputs']):
            return dict(
                inputs=list(data['inputs']),
                data_samples=self.cast_data(data.get('data_samples')))
        data = super().forward(data, training)
        x = data['inputs']
        if x.dim() != 5:
            raise ValueError(
                f'expected packed snippet clips [S, ...] of 5 dims '
                f'({self.format_shape}), got shape {tuple(x.shape)}')
        return data
