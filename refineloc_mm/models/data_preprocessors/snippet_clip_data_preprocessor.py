# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Packing and normalization of raw snippet clips."""
from typing import Dict, Sequence

import torch

from mmaction.registry import MODELS
from .snippet_data_preprocessor import SnippetDataPreprocessor


@MODELS.register_module()
class SnippetClipDataPreprocessor(SnippetDataPreprocessor):
    """Packs snippet clips like :class:`SnippetDataPreprocessor` and
    normalizes them: ``(x - mean) / std`` per colour channel, as float32.

    Args:
        mean, std (Sequence[float]): Per channel, in the pixel range of
            the decoded frames (0-255 by default, ImageNet values).
        format_shape (str): ``'NCTHW'`` for [S, C, s', H, W] clips (3D
            backbones) or ``'NTCHW'`` for [S, s', C, H, W] frames (2D
            backbones, see :class:`PackSnippetClips`).
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 format_shape: str = 'NCTHW') -> None:
        super().__init__()
        if format_shape not in ('NCTHW', 'NTCHW'):
            raise ValueError(
                f'format_shape must be NCTHW or NTCHW, got {format_shape}')
        self.format_shape = format_shape
        self.channel_dim = 1 if format_shape == 'NCTHW' else 2
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32),
                             False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32),
                             False)

    def forward(self, data: Dict, training: bool = False) -> Dict:
        data = super().forward(data, training)
        x = data['inputs']
        if x.dim() != 5:
            raise ValueError(
                f'expected packed snippet clips [S, ...] of 5 dims '
                f'({self.format_shape}), got shape {tuple(x.shape)}')
        shape = [1] * x.dim()
        shape[self.channel_dim] = -1
        x = (x.float() - self.mean.view(shape)) / self.std.view(shape)
        data['inputs'] = x
        return data
