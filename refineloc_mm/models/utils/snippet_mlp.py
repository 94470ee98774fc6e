# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The snippet MLP shared by the heads (RefineLoc's two modules, the
foreground attention branch of W-TALC and of new base models)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SnippetMLP(nn.Module):
    """L linear layers with ReLU between them (none after the last).

    Hidden widths halve: ``width[i+1] = max(width[i] // 2, out_channels)``.
    Parameter names are ``linear_{i}`` (those of RefineLoc's authors).

    Args:
        in_channels (int): Input feature width D.
        out_channels (int): Output width.
        num_layers (int): Number of linear layers L >= 1.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 num_layers: int) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.num_layers = num_layers
        width = in_channels
        for i in range(num_layers):
            out = out_channels if i == num_layers - 1 else max(
                width // 2, out_channels)
            self.add_module(f'linear_{i}', nn.Linear(width, out))
            width = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., D] -> [..., out_channels]."""
        for i in range(self.num_layers):
            if i > 0:
                x = F.relu(x)
            x = getattr(self, f'linear_{i}')(x)
        return x
