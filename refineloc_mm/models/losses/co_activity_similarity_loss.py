# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's co-activity similarity loss (CASL; Paul et al., ECCV 2018,
``train.CASL`` of ``sujoyp/wtalc-pytorch``), for all pairs at once."""
import torch
import torch.nn as nn

from mmaction.registry import MODELS
from ..utils.snippet_ops import masked_softmax_over_time


@MODELS.register_module()
class CoActivitySimilarityLoss(nn.Module):
    """Videos that share a class should have similar high-attention
    features of that class, and dissimilar high- vs low-attention ones.

    The batch starts with ``num_similar`` pairs of videos, (0, 1), (2, 3),
    ... (W-TALC's batch sampler, :class:`WTALCBatchSampler`, puts two
    videos sharing a random class there). For a video with embedding h
    [T, D] and CAS [T, C]: a = softmax over time of the CAS, per class;
    high feature ``Hf = h^T a`` and low feature
    ``Lf = h^T (1 - a) / max(T - 1, 1)`` (both [D, C]); distance
    ``d(u, v) = 1 - cosine(u, v)`` per class. A pair (1, 2) contributes
    ``sum_c y1c y2c * 0.5 * [max(0, d(H1, H2) - d(H1, L2) + m) +
    max(0, d(H1, H2) - d(H2, L1) + m)]`` (margin m = 0.5); the loss is the
    sum over pairs divided by ``sum_pairs sum_c y1c y2c``.

    Differences from the original, outside its domain only: a batch with
    fewer than ``2 * num_similar`` videos uses the ``B // 2`` pairs it has
    (the original indexes past the batch), and a batch whose pairs share no
    class gives 0 (the original divides 0 by 0).

    Args:
        num_similar (int): Pairs at the start of the batch. Defaults to 3.
        margin (float): Hinge margin. Defaults to 0.5.
        loss_weight (float): Multiplier (W-TALC's 1 - lambda = 0.5).
            Defaults to 0.5.
    """

    def __init__(self,
                 num_similar: int = 3,
                 margin: float = 0.5,
                 loss_weight: float = 0.5) -> None:
        super().__init__()
        if num_similar < 1:
            raise ValueError(f'num_similar must be >= 1, got {num_similar}')
        self.num_similar = num_similar
        self.margin = margin
        self.loss_weight = loss_weight

    @staticmethod
    def distance(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """1 - cosine similarity over D: [P, D, C] x 2 -> [P, C]."""
        return 1 - (u * v).sum(1) / (u.norm(dim=1) * v.norm(dim=1))

    def forward(self, embedding: torch.Tensor, cas: torch.Tensor,
                mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The weighted loss.

        Args:
            embedding (Tensor): h [B, T, D] (zero on padding).
            cas (Tensor): Class activation sequence (logits) [B, T, C].
            mask (Tensor): [B, T] bool, True on real snippets.
            labels (Tensor): Multi-hot video labels [B, C].

        Returns:
            Tensor: Scalar (zero, still in the graph, without pairs that
            share a class).
        """
        n = 2 * min(self.num_similar, embedding.shape[0] // 2)
        zero = cas.sum() * 0.
        if n == 0:
            return zero
        h, cas, mask, labels = embedding[:n], cas[:n], mask[:n], labels[:n]
        valid = mask[..., None].to(cas.dtype)
        # softmax over time per class: [n, T, C], zero on padding
        attn = masked_softmax_over_time(
            cas.transpose(1, 2).flatten(0, 1),
            mask.repeat_interleave(cas.shape[2], 0)).view(
                n, cas.shape[2], -1).transpose(1, 2)
        lengths = mask.sum(1).clamp(min=2) - 1
        high = torch.einsum('btd,btc->bdc', h, attn)
        low = torch.einsum('btd,btc->bdc', h,
                           (1 - attn) * valid) / lengths[:, None,
                                                         None].to(h.dtype)
        h1, h2, l1, l2 = high[0::2], high[1::2], low[0::2], low[1::2]
        d_pos = self.distance(h1, h2)
        shared = labels[0::2] * labels[1::2]
        hinge = (torch.relu(d_pos - self.distance(h1, l2) + self.margin) +
                 torch.relu(d_pos - self.distance(h2, l1) + self.margin))
        count = shared.sum()
        if not bool(count > 0):
            return zero
        return self.loss_weight * (0.5 * hinge * shared).sum() / count
