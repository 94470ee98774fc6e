# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's original training arithmetic, for the iteration benchmark
(``tools/benchmark_iteration.py``): the benchmark
(:mod:`refineloc_mm.utils.benchmark.iteration`) finds this file next to
the model's class and calls its :func:`benchmark_step`.

Written from the description in ``shared/BASE_MODELS.md``
(``sujoyp/wtalc-pytorch`` @ 81ea982), not from the original's code and not
from this project's model: this file imports ``torch`` only (no
``refineloc_mm``, not even this folder; the benchmark's "original" processes
load it by path), so that a change to the port cannot change its
reference. Parameter names follow the original's state dict, so the
original's fixtures (``tests/data/reference/base_models``) load as they are.

The model takes the original's input layout, ``[B, T, D]`` zero-padded
videos (time-major), and :func:`benchmark_step` returns one training
iteration as the original's ``train()`` does it: forward, loss, zero_grad,
backward and ``torch.optim.Adam`` with the original's settings and its
default implementation (on CPU: the per-parameter loop).
"""
import math
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Tensor = torch.Tensor


class WTALCOriginal(nn.Module):
    """W-TALC's model: h = ReLU(Linear D -> D (x)), dropout 0.7 on h in
    training, CAS = Linear D -> C (h). ``fc1`` is built and never used, as
    in the original. Xavier-uniform weights, zero biases.
    ``embedding_channels`` E (None: D, the original's) sizes h as the
    project's shrunk configs do (fc: D -> E)."""

    def __init__(self, in_channels: int = 2048, num_classes: int = 20,
                 dropout: float = 0.7,
                 embedding_channels: Optional[int] = None) -> None:
        super().__init__()
        width = embedding_channels or in_channels
        self.fc = nn.Linear(in_channels, width)
        self.fc1 = nn.Linear(width, width)
        self.classifier = nn.Linear(width, num_classes)
        self.dropout = nn.Dropout(dropout)
        for m in (self.fc, self.fc1, self.classifier):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """x: [B, T, D] -> (h [B, T, D], CAS logits [B, T, C])."""
        h = F.relu(self.fc(x))
        h = self.dropout(h)
        return h, self.classifier(h)


def wtalc_mil_loss(cas: Tensor, labels: Tensor, seq_len: Tensor) -> Tensor:
    """Mean over videos of -sum_c y_c/sum(y) * log softmax(s_i)_c, s_i the
    mean of the top ceil(T_i / 8) CAS values of video i per class."""
    scores = []
    for i in range(cas.shape[0]):
        t = int(seq_len[i])
        k = int(math.ceil(t / 8))
        scores.append(torch.topk(cas[i, :t], k, dim=0)[0].mean(0))
    s = torch.stack(scores)
    target = labels / labels.sum(1, keepdim=True)
    return -(target * F.log_softmax(s, dim=1)).sum(1).mean()


def co_activity_loss(feat: Tensor, cas: Tensor, labels: Tensor,
                     seq_len: Tensor, num_pairs: int,
                     margin: float = 0.5) -> Tensor:
    """W-TALC's co-activity similarity loss over the pairs (0, 1), (2, 3),
    ...

    Per video: a = softmax over time of the CAS (per class), H = feat^T a,
    L = feat^T (1 - a) / max(T - 1, 1); d = 1 - cosine per class. Per pair
    sum_c y1c y2c (hinge(d(H1, H2) - d(H1, L2) + m) + hinge(d(H1, H2) -
    d(H2, L1) + m)) / 2, summed over pairs, divided by sum y1c y2c.
    """
    high, low = [], []
    for i in range(2 * num_pairs):
        t = int(seq_len[i])
        a = F.softmax(cas[i, :t], dim=0)  # [T, C]
        high.append(feat[i, :t].t() @ a)  # [D, C]
        low.append(feat[i, :t].t() @ (1 - a) / max(t - 1, 1))
    loss, count = 0., 0.
    for p in range(num_pairs):
        i, j = 2 * p, 2 * p + 1
        d_hh = 1 - F.cosine_similarity(high[i], high[j], dim=0)
        d_hl = 1 - F.cosine_similarity(high[i], low[j], dim=0)
        d_lh = 1 - F.cosine_similarity(high[j], low[i], dim=0)
        common = labels[i] * labels[j]
        loss = loss + 0.5 * (common * (
            F.relu(d_hh - d_hl + margin) + F.relu(d_hh - d_lh + margin))
                             ).sum()
        count = count + common.sum()
    return loss / count


def wtalc_loss(h: Tensor, cas: Tensor, labels: Tensor, seq_len: Tensor,
               num_pairs: int = 3, lam: float = 0.5) -> Dict[str, Tensor]:
    """``milloss``, ``casloss`` and ``total_loss`` = lam MIL + (1 - lam)
    CASL."""
    mil = wtalc_mil_loss(cas, labels, seq_len)
    casl = co_activity_loss(h, cas, labels, seq_len, num_pairs)
    return dict(milloss=mil, casloss=casl,
                total_loss=lam * mil + (1 - lam) * casl)


def benchmark_step(labels: Tensor, num_snippets: int, in_channels: int,
                   num_pairs: int = 3,
                   embedding_channels: Optional[int] = None,
                   **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One W-TALC training iteration on ``labels`` ([B, C], the first
    ``num_pairs`` pairs sharing a class) and random ``[B, T, D]`` features:
    non-zero rows -> seq_len, crop to the longest, forward, loss, Adam lr
    1e-4 / weight decay 5e-4. Returns (the iteration, the model)."""
    batch, num_classes = labels.shape
    model = WTALCOriginal(
        in_channels, num_classes,
        embedding_channels=embedding_channels).train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=5e-4)
    x = torch.randn(batch, num_snippets, in_channels)

    def step() -> Tensor:
        seq_len = (x.abs().max(dim=2)[0] > 0).sum(1)
        feats = x[:, :int(seq_len.max())]
        h, cas = model(feats)
        loss = wtalc_loss(h, cas, labels, seq_len, num_pairs)['total_loss']
        optim.zero_grad()
        loss.backward()
        optim.step()
        return loss

    return step, model
