# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's attention block (``BWA_fusion_dropout_feat_v2`` of
``MengyuanChen21/ECCV2022-DELU`` @ a60e46d), one per stream of
:class:`DELUHead`."""
from typing import Optional, Tuple

import torch
import torch.nn as nn


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


__all__ = ['DELUAttentionBlock']
