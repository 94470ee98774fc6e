# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's original training arithmetic, for the iteration benchmark
(``tools/benchmark_iteration.py``): the benchmark
(:mod:`refineloc_mm.utils.benchmark.iteration`) finds this file next to
the model's class and calls its :func:`benchmark_step`.

Written from the description in ``shared/DELU.md``
(``MengyuanChen21/ECCV2022-DELU`` @ a60e46d), not from the original's code
and not from this project's model: this file imports ``torch`` only (no
``refineloc_mm``, not even this folder or W-TALC's, whose co-activity loss
DELU's ``Contrastive`` restates; the benchmark's "original" processes load
it by path), so that a change to the port cannot change its reference.
Parameter names follow the original's state dict, so the original's
fixtures (``tests/data/reference/base_models/delu``) load as they are.

The model takes the original's input layout, ``[B, T, D]`` zero-padded
videos (time-major), and :func:`benchmark_step` returns one training
iteration as the original's ``train()`` does it: forward, loss, zero_grad,
backward and ``torch.optim.Adam`` with the original's settings and its
default implementation (on CPU: the per-parameter loop).
"""
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Tensor = torch.Tensor


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2)


class DELUAttentionOriginal(nn.Module):
    """DELU's attention block on a main stream M and another stream O
    ([B, S, T], S = the stream width, 1024 in the original): channel gate
    from the time mean of M, bit-wise term from O, filtered =
    sigmoid(bit * gate) * M, attention = sigmoid(dropout(Conv k1 -> 1 (...)))
    [B, 1, T]; returns (attention, filtered)."""

    def __init__(self, channels: int = 1024, hidden: int = 512,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.channel_conv = nn.Sequential(
            nn.Conv1d(channels, channels, 3, padding=1), _lrelu())
        self.bit_wise_attn = nn.Sequential(
            nn.Conv1d(channels, channels, 3, padding=1), _lrelu())
        self.attention = nn.Sequential(
            nn.Conv1d(channels, hidden, 3, padding=1), _lrelu(),
            nn.Dropout(dropout), nn.Conv1d(hidden, hidden, 3, padding=1),
            _lrelu(), nn.Conv1d(hidden, 1, 1), nn.Dropout(dropout),
            nn.Sigmoid())
        self.dropout = nn.Dropout(dropout)

    def forward(self, main: Tensor, other: Tensor) -> Tuple[Tensor, Tensor]:
        gate = self.dropout(
            self.channel_conv(main.mean(2, keepdim=True)))  # [B, S, 1]
        bit = self.dropout(self.bit_wise_attn(other))  # [B, S, T]
        filtered = torch.sigmoid(bit * gate) * main
        return self.attention(filtered), filtered


class DELUOriginal(nn.Module):
    """DELU (``BWA_fusion_dropout_feat_v2``): attention blocks for RGB
    (main) / flow (other) and flow / RGB, attn = their mean, fusion Conv k1
    2 S -> W + LReLU + dropout 0.7, classifier dropout 0.7, Conv k3 W -> W,
    LReLU, dropout 0.7, Conv k1 W -> C + 1 (2 S = F = W = 2048 in the
    original; F = ``fusion_channels``, default 2 S). ``feat_encoder`` (Conv
    k3 2 S -> 2 S) is built and never used, as in the original.
    Kaiming-uniform weights, zero biases. Returns time-major outputs."""

    def __init__(self, in_channels: int = 2048, num_classes: int = 20,
                 attention_channels: int = 512, cls_channels: int = 2048,
                 fusion_channels: Optional[int] = None,
                 dropout: float = 0.7, attention_dropout: float = 0.5) -> None:
        super().__init__()
        stream = in_channels // 2
        fusion = fusion_channels or in_channels
        self.vAttn = DELUAttentionOriginal(stream, attention_channels,
                                           attention_dropout)
        self.fAttn = DELUAttentionOriginal(stream, attention_channels,
                                           attention_dropout)
        self.feat_encoder = nn.Sequential(
            nn.Conv1d(in_channels, in_channels, 3, padding=1), _lrelu(),
            nn.Dropout(dropout))
        self.fusion = nn.Sequential(
            nn.Conv1d(in_channels, fusion, 1), _lrelu(), nn.Dropout(dropout))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Conv1d(fusion, cls_channels, 3, padding=1), _lrelu(),
            nn.Dropout(dropout), nn.Conv1d(cls_channels, num_classes + 1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        """x: [B, T, D] -> feat [B, T, W], cas [B, T, C + 1], attn, v_atn,
        f_atn [B, T, 1]."""
        inp = x.transpose(-1, -2)
        half = inp.shape[1] // 2
        rgb, flow = inp[:, :half], inp[:, half:]
        v_atn, vfeat = self.vAttn(rgb, flow)
        f_atn, ffeat = self.fAttn(flow, rgb)
        attn = (v_atn + f_atn) / 2
        feat = self.fusion(torch.cat((vfeat, ffeat), 1))
        cas = self.classifier(feat)
        return dict(feat=feat.transpose(-1, -2), cas=cas.transpose(-1, -2),
                    attn=attn.transpose(-1, -2),
                    v_atn=v_atn.transpose(-1, -2),
                    f_atn=f_atn.transpose(-1, -2))


def co_activity_loss(feat: Tensor, cas: Tensor, labels: Tensor,
                     seq_len: Tensor, num_pairs: int,
                     margin: float = 0.5) -> Tensor:
    """DELU's ``Contrastive``, W-TALC's co-activity similarity loss, on the
    fusion output and the suppressed CAS over the pairs (0, 1), (2, 3), ...

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


DELU_WEIGHTS = dict(edl_loss=1.3, uct_guide_loss=0.4, loss_mil_orig=1.,
                    loss_mil_supp=1., loss_supp_contrastive=1.,
                    mutual_loss=1., norm_loss=0.8, guide_loss=0.4)


def _delu_mil(cas: Tensor, labels: Tensor, background: float) -> Tensor:
    k = max(1, int(cas.shape[1] // 7))
    s = torch.topk(cas, k, dim=1)[0].mean(1)  # [B, C + 1]
    target = torch.cat([labels, labels.new_full((labels.shape[0], 1),
                                                background)], 1)
    target = target / (target.sum(1, keepdim=True) + 1e-4)
    return -(target * F.log_softmax(s, dim=1)).sum(1).mean()


def delu_loss(out: Dict[str, Tensor], labels: Tensor, itr: int,
              num_pairs: int = 3, max_iter: int = 5000,
              amplitude: float = 0.7) -> Dict[str, Tensor]:
    """DELU's criterion (``scripts/train_thumos.sh`` weights): the weighted
    terms and ``total_loss``, as the original's loss dict."""
    cas, attn = out['cas'], out['attn']
    v_atn, f_atn, feat = out['v_atn'], out['f_atn'], out['feat']
    b, t, c1 = cas.shape
    num_classes = c1 - 1
    # suppressed CAS: attn (cas - m) + m, m the per-snippet minimum
    m = cas.min(dim=2, keepdim=True)[0]
    supp = attn * (cas - m) + m
    p_bg = F.softmax(cas, dim=2)[..., -1:]  # [B, T, 1]
    # EDL on the top-k attention snippets of the suppressed CAS
    k = max(1, t // 9)
    idx = torch.topk(attn[..., 0], k, dim=1)[1]  # [B, k]
    z = torch.gather(supp[..., :num_classes], 1,
                     idx[..., None].expand(-1, -1, num_classes)).mean(1)
    alpha = torch.exp(torch.clamp(z, -10, 10)) + 1
    strength = alpha.sum(1, keepdim=True)
    unc = (num_classes / strength).detach()
    n_y = labels.sum(1, keepdim=True)
    ratio = labels / alpha
    weight = (1 - unc) * n_y * ratio / ratio.sum(1, keepdim=True)
    edl = (weight * (torch.log(strength) - torch.log(alpha))).sum(1).mean()
    # uncertainty-guided guide loss with the curriculum curve
    snippet_unc = num_classes / (torch.exp(torch.clamp(supp, -10, 10)) +
                                 1).sum(2)  # [B, T]
    guide = ((1 - attn - p_bg).abs() + (1 - v_atn - p_bg).abs() +
             (1 - f_atn - p_bg).abs())[..., 0] / 3  # [B, T]
    theta = 2 * (torch.arange(t, dtype=cas.dtype) + 0.5) / t - 1
    curve = amplitude * torch.tanh(theta * (1 - 2 * itr / max_iter)) + 1
    order = torch.sort(snippet_unc, dim=1)[1]
    uct_guide = (curve[order] * guide).mean()
    # MIL on the CAS ([y, 1]) and on the suppressed CAS ([y, 0])
    mil = _delu_mil(cas, labels, 1.)
    mil_supp = _delu_mil(supp, labels, 0.)
    # co-activity on the fusion output and the suppressed CAS
    seq_len = torch.full((b, ), t)
    labels_bg = torch.cat([labels, labels.new_zeros(b, 1)], 1)
    contrastive = co_activity_loss(feat, supp, labels_bg, seq_len,
                                   num_pairs)
    mutual = 0.5 * F.mse_loss(v_atn, f_atn.detach()) + 0.5 * F.mse_loss(
        f_atn, v_atn.detach())
    norm = (attn.mean() + v_atn.mean() + f_atn.mean()) / 3
    guide_plain = ((1 - attn - p_bg).abs().mean() +
                   (1 - v_atn - p_bg).abs().mean() +
                   (1 - f_atn - p_bg).abs().mean()) / 3
    raw = dict(edl_loss=edl, uct_guide_loss=uct_guide, loss_mil_orig=mil,
               loss_mil_supp=mil_supp, loss_supp_contrastive=contrastive,
               mutual_loss=mutual, norm_loss=norm, guide_loss=guide_plain)
    losses = {key: DELU_WEIGHTS[key] * value for key, value in raw.items()}
    losses['total_loss'] = sum(losses.values())
    return losses


def benchmark_step(labels: Tensor, num_snippets: int, in_channels: int,
                   attention_channels: int = 512, cls_channels: int = 2048,
                   fusion_channels: Optional[int] = None,
                   num_pairs: int = 3,
                   **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One DELU training iteration on ``labels`` ([B, C], the first
    ``num_pairs`` pairs sharing a class) and random ``[B, T, D]`` features:
    non-zero rows -> seq_len, crop to the longest, forward, criterion at
    the current iteration, Adam lr 5e-5 / weight decay 1e-3. Returns (the
    iteration, the model)."""
    batch, num_classes = labels.shape
    model = DELUOriginal(in_channels, num_classes, attention_channels,
                         cls_channels, fusion_channels).train()
    optim = torch.optim.Adam(model.parameters(), lr=5e-5, weight_decay=1e-3)
    x = torch.randn(batch, num_snippets, in_channels)
    itr = [0]

    def step() -> Tensor:
        seq_len = (x.abs().max(dim=2)[0] > 0).sum(1)
        out = model(x[:, :int(seq_len.max())])
        loss = delu_loss(out, labels, itr[0], num_pairs)['total_loss']
        optim.zero_grad()
        loss.backward()
        optim.step()
        itr[0] += 1
        return loss

    return step, model
