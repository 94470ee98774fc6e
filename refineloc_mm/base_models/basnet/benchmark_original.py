# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net's original training arithmetic, for the iteration benchmark
(``tools/benchmark_iteration.py``): the benchmark
(:mod:`refineloc_mm.utils.benchmark.iteration`) finds this file next to
the model's class and calls its :func:`benchmark_step`.

Written from the description in ``shared/BASE_MODELS.md``
(``Pilhyeon/BaSNet-pytorch`` @ c8c6bbd), not from the original's code and
not from this project's model: this file imports ``torch`` only (no
``refineloc_mm``, not even this folder; the benchmark's "original" processes
load it by path), so that a change to the port cannot change its
reference. Parameter names follow the original's state dict, so the
original's fixtures (``tests/data/reference/base_models``) load as they are.

The model takes the original's input layout, ``[B, T, D]`` videos
(time-major), and :func:`benchmark_step` returns one training iteration as
the original's ``train()`` does it: forward, loss, zero_grad, backward and
``torch.optim.Adam`` with the original's settings and its default
implementation (on CPU: the per-parameter loop).
"""
from typing import Callable, Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Tensor = torch.Tensor


class BaSNetFilterOriginal(nn.Module):
    """Filtering module: Conv1d D -> 512 (k1) + LeakyReLU, Conv1d 512 -> 1
    (k1) + sigmoid."""

    def __init__(self, in_channels: int, hidden: int = 512) -> None:
        super().__init__()
        self.conv_1 = nn.Sequential(nn.Conv1d(in_channels, hidden, 1),
                                    nn.LeakyReLU())
        self.conv_2 = nn.Sequential(nn.Conv1d(hidden, 1, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """x: [B, D, T] -> w [B, 1, T]."""
        return self.conv_2(self.conv_1(x))


class BaSNetCASOriginal(nn.Module):
    """CAS module: Conv1d D -> 2048 (k3) + LeakyReLU, Conv1d 2048 -> 2048
    (k3) + LeakyReLU, dropout 0.7, Conv1d 2048 -> C + 1 (k1, no bias)."""

    def __init__(self, in_channels: int, num_classes: int,
                 hidden: int = 2048, dropout: float = 0.7) -> None:
        super().__init__()
        self.conv_1 = nn.Sequential(
            nn.Conv1d(in_channels, hidden, 3, padding=1), nn.LeakyReLU())
        self.conv_2 = nn.Sequential(
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.LeakyReLU())
        self.conv_3 = nn.Sequential(
            nn.Conv1d(hidden, num_classes + 1, 1, bias=False))
        self.drop_out = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """x: [B, D, T] -> CAS [B, T, C + 1]."""
        out = self.drop_out(self.conv_2(self.conv_1(x)))
        return self.conv_3(out).permute(0, 2, 1)


class BaSNetOriginal(nn.Module):
    """BaS-Net: filtering module, CAS module shared by the base branch
    (on x) and the suppression branch (on w x); video score = softmax over
    C + 1 of the mean of the top T // 8 values over time."""

    def __init__(self, in_channels: int = 2048, num_classes: int = 20,
                 cas_channels: int = 2048, filter_channels: int = 512,
                 topk_ratio: int = 8) -> None:
        super().__init__()
        self.topk_ratio = topk_ratio
        self.filter_module = BaSNetFilterOriginal(in_channels,
                                                  filter_channels)
        self.cas_module = BaSNetCASOriginal(in_channels, num_classes,
                                            cas_channels)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """x: [B, T, D] -> (score_base [B, C+1], cas_base [B, T, C+1],
        score_supp, cas_supp, w [B, T, 1])."""
        k = x.shape[1] // self.topk_ratio
        inp = x.permute(0, 2, 1)
        w = self.filter_module(inp)  # [B, 1, T]
        cas_base = self.cas_module(inp)
        cas_supp = self.cas_module(w * inp)
        score_base = F.softmax(
            torch.topk(cas_base, k, dim=1)[0].mean(1), dim=1)
        score_supp = F.softmax(
            torch.topk(cas_supp, k, dim=1)[0].mean(1), dim=1)
        return score_base, cas_base, score_supp, cas_supp, w.permute(0, 2, 1)


def basnet_loss(score_base: Tensor, score_supp: Tensor, w: Tensor,
                labels: Tensor, alpha: float = 1e-4) -> Dict[str, Tensor]:
    """BCE on the softmax probabilities (mean over B x (C + 1)) with targets
    [y, 1] / sum (base) and [y, 0] / sum (suppression); norm = batch mean of
    sum_t |w_t|; total = base + supp + alpha norm."""
    ones = labels.new_ones(labels.shape[0], 1)
    target_base = torch.cat([labels, ones], 1)
    target_supp = torch.cat([labels, 0 * ones], 1)
    loss_base = F.binary_cross_entropy(
        score_base, target_base / target_base.sum(1, keepdim=True))
    loss_supp = F.binary_cross_entropy(
        score_supp, target_supp / target_supp.sum(1, keepdim=True))
    loss_norm = w.abs().sum(1).mean()
    return dict(loss_base=loss_base, loss_supp=loss_supp,
                loss_norm=loss_norm,
                loss_total=loss_base + loss_supp + alpha * loss_norm)


def benchmark_step(labels: Tensor, num_snippets: int, in_channels: int,
                   cas_channels: int = 2048, filter_channels: int = 512,
                   topk_ratio: int = 8, alpha: float = 1e-4,
                   **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One BaS-Net training iteration on ``labels`` ([B, C]) and random
    ``[B, T, D]`` features: forward, loss, Adam lr 1e-4, betas (0.9,
    0.999), weight decay 5e-4. Returns (the iteration, the model)."""
    batch, num_classes = labels.shape
    model = BaSNetOriginal(in_channels, num_classes, cas_channels,
                           filter_channels, topk_ratio).train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4,
                             betas=(0.9, 0.999), weight_decay=5e-4)
    x = torch.randn(batch, num_snippets, in_channels)

    def step() -> Tensor:
        score_base, _, score_supp, _, w = model(x)
        loss = basnet_loss(score_base, score_supp, w, labels,
                           alpha)['loss_total']
        optim.zero_grad()
        loss.backward()
        optim.step()
        return loss

    return step, model
