# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's video-level evidential loss (Chen et al., ECCV 2022;
``DELU.edl_loss`` and ``edl_loss.EvidenceLoss`` with evidence 'exp', loss
type 'log', no KL term, of ``MengyuanChen21/ECCV2022-DELU`` @ a60e46d)."""
import torch
import torch.nn as nn

from mmaction.registry import MODELS
from refineloc_mm.models.utils.snippet_ops import NEG_INF


@MODELS.register_module()
class VideoEvidentialLoss(nn.Module):
    """Evidential (Dirichlet) classification loss on a video logit pooled
    over the snippets of highest attention.

    Per video of L snippets: the k = max(1, L // ``topk_ratio``) snippets
    with the highest attention (35 of 320 for the original's ratio 9);
    z = mean of their suppressed CAS over the C action columns [C];
    alpha = exp(clamp(z, -10, 10)) + 1, S = sum_c alpha_c, uncertainty
    u = C / S (a constant for the gradients); with the video's n_y labels,
    ``w_c = (1 - u) n_y (y_c / alpha_c) / sum_c' (y_c' / alpha_c')``
    (not detached) and the loss ``sum_c w_c (log S - log alpha_c)``; mean
    over videos. (The original's annealing coefficient is computed and
    unused; so is its KL term's option, off.)

    Args:
        topk_ratio (int): k = max(1, L // topk_ratio). Defaults to 9 (the
            original's ``rat_atn``).
        clamp (float): The evidence's logit clamp. Defaults to 10.
        loss_weight (float): Multiplier (``alpha_edl``). Defaults to 1.3.
    """

    def __init__(self,
                 topk_ratio: int = 9,
                 clamp: float = 10.,
                 loss_weight: float = 1.3) -> None:
        super().__init__()
        if topk_ratio < 1:
            raise ValueError(f'topk_ratio must be >= 1, got {topk_ratio}')
        self.topk_ratio = topk_ratio
        self.clamp = clamp
        self.loss_weight = loss_weight

    def video_logits(self, supp: torch.Tensor, attn: torch.Tensor,
                     mask: torch.Tensor) -> torch.Tensor:
        """z: mean suppressed CAS over the top-k attention snippets.

        Args:
            supp (Tensor): Suppressed CAS [B, T, C + 1].
            attn (Tensor): Attention [B, T, 1].
            mask (Tensor): [B, T] bool.

        Returns:
            Tensor: [B, C] (the background column dropped).
        """
        k = (mask.sum(1) // self.topk_ratio).clamp(min=1)  # [B]
        kmax = int(k.max())
        scores = attn[..., 0].masked_fill(~mask, NEG_INF)
        idx = torch.topk(scores, kmax, dim=1)[1]  # [B, kmax]
        top = torch.gather(supp, 1, idx[..., None].expand(
            -1, -1, supp.shape[-1]))[..., :-1]
        if bool((k == kmax).all()):
            return top.mean(dim=1)
        keep = torch.arange(kmax, device=supp.device)[None] < k[:, None]
        return (top * keep[..., None]).sum(1) / k[:, None].to(top.dtype)

    def forward(self, supp: torch.Tensor, attn: torch.Tensor,
                mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The weighted loss.

        Args:
            supp (Tensor): Suppressed CAS [B, T, C + 1].
            attn (Tensor): Attention [B, T, 1].
            mask (Tensor): [B, T] bool.
            labels (Tensor): Multi-hot [B, C].

        Returns:
            Tensor: Scalar.
        """
        z = self.video_logits(supp, attn, mask)
        num_classes = z.shape[1]
        alpha = torch.exp(torch.clamp(z, -self.clamp, self.clamp)) + 1
        total = alpha.sum(1, keepdim=True)
        uncertainty = num_classes / total
        label_num = labels.sum(1, keepdim=True)
        temp = 1 / alpha * labels
        g = (1 - uncertainty.detach()) * label_num * torch.div(
            temp, temp.sum(1, keepdim=True))
        loss = (g * (torch.log(total) - torch.log(alpha))).sum(1)
        return self.loss_weight * loss.mean()
