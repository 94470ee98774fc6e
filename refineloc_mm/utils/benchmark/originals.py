# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The original base models' training arithmetic, for the iteration
benchmark (:mod:`.iteration`).

Written from the descriptions in ``shared/BASE_MODELS.md`` (W-TALC,
``sujoyp/wtalc-pytorch`` @ 81ea982; BaS-Net, ``Pilhyeon/BaSNet-pytorch`` @
c8c6bbd) and ``shared/DELU.md`` (``MengyuanChen21/ECCV2022-DELU`` @
a60e46d), not from the originals' code and not from this project's models:
this module imports ``torch`` only (no ``refineloc_mm``), so that the
benchmark's "original" processes carry no import of the package and a
change to a port cannot change its reference. Parameter names follow the
originals' state dicts, so the originals' fixtures
(``tests/data/reference/base_models``) load as they are.

Each model takes the original's input layout, ``[B, T, D]`` zero-padded
videos (time-major), and each ``*_step`` builder returns one training
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


# ---------------------------------------------------------------- W-TALC
class WTALCOriginal(nn.Module):
    """W-TALC's model: h = ReLU(Linear D -> D (x)), dropout 0.7 on h in
    training, CAS = Linear D -> C (h). ``fc1`` is built and never used, as
    in the original. Xavier-uniform weights, zero biases."""

    def __init__(self, in_channels: int = 2048, num_classes: int = 20,
                 dropout: float = 0.7) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, in_channels)
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.classifier = nn.Linear(in_channels, num_classes)
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
    """W-TALC's co-activity similarity loss (also DELU's, on its fusion
    output and suppressed CAS) over the pairs (0, 1), (2, 3), ...

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


def wtalc_step(batch: int, num_snippets: int, in_channels: int,
               num_classes: int, num_pairs: int = 3,
               **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One W-TALC training iteration: non-zero rows -> seq_len, crop to the
    longest, forward, loss, Adam lr 1e-4 / weight decay 5e-4."""
    model = WTALCOriginal(in_channels, num_classes).train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=5e-4)
    x = torch.randn(batch, num_snippets, in_channels)
    labels = benchmark_labels(batch, num_classes, num_pairs)

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


# --------------------------------------------------------------- BaS-Net
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


def basnet_step(batch: int, num_snippets: int, in_channels: int,
                num_classes: int, cas_channels: int = 2048,
                filter_channels: int = 512, topk_ratio: int = 8,
                alpha: float = 1e-4,
                **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One BaS-Net training iteration: forward, loss, Adam lr 1e-4, betas
    (0.9, 0.999), weight decay 5e-4."""
    model = BaSNetOriginal(in_channels, num_classes, cas_channels,
                           filter_channels, topk_ratio).train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4,
                             betas=(0.9, 0.999), weight_decay=5e-4)
    x = torch.randn(batch, num_snippets, in_channels)
    labels = benchmark_labels(batch, num_classes, 0)

    def step() -> Tensor:
        score_base, _, score_supp, _, w = model(x)
        loss = basnet_loss(score_base, score_supp, w, labels,
                           alpha)['loss_total']
        optim.zero_grad()
        loss.backward()
        optim.step()
        return loss

    return step, model


# ------------------------------------------------------------------ DELU
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


def delu_step(batch: int, num_snippets: int, in_channels: int,
              num_classes: int, attention_channels: int = 512,
              cls_channels: int = 2048,
              fusion_channels: Optional[int] = None, num_pairs: int = 3,
              **_) -> Tuple[Callable[[], Tensor], nn.Module]:
    """One DELU training iteration: non-zero rows -> seq_len, crop to the
    longest, forward, criterion at the current iteration, Adam lr 5e-5 /
    weight decay 1e-3."""
    model = DELUOriginal(in_channels, num_classes, attention_channels,
                         cls_channels, fusion_channels).train()
    optim = torch.optim.Adam(model.parameters(), lr=5e-5, weight_decay=1e-3)
    x = torch.randn(batch, num_snippets, in_channels)
    labels = benchmark_labels(batch, num_classes, num_pairs)
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


# ---------------------------------------------------------------- shared
def benchmark_labels(batch: int, num_classes: int,
                     num_pairs: int) -> Tensor:
    """One class per video: the pairs (0, 1), (2, 3), ... of the first
    ``num_pairs`` share class p; the other videos get class i mod C."""
    labels = torch.zeros(batch, num_classes)
    for i in range(batch):
        c = i // 2 if i < 2 * num_pairs else i
        labels[i, c % num_classes] = 1
    return labels


ORIGINAL_STEPS = dict(wtalc=wtalc_step, basnet=basnet_step, delu=delu_step)
