# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's uncertainty-guided (curriculum) guide loss (Chen et al., ECCV
2022; ``DELU.uct_guide_loss`` and ``DELU.course_function`` of
``MengyuanChen21/ECCV2022-DELU`` @ a60e46d)."""
import torch
import torch.nn as nn

from mmaction.registry import MODELS

ORDERINGS = ('original', 'rank')


@MODELS.register_module()
class UncertaintyGuideLoss(nn.Module):
    """The background/foreground guide loss of every snippet, weighted by a
    curriculum over the snippets ordered by their evidential uncertainty.

    Per snippet t of a video of L snippets: uncertainty
    ``u_t = C / sum_{c=0..C} (exp(clamp(supp_tc, -10, 10)) + 1)`` (all C + 1
    columns, numerator C); guide ``g_t = (|1 - attn_t - p_bg,t| +
    |1 - v_atn_t - p_bg,t| + |1 - f_atn_t - p_bg,t|) / 3`` with p_bg the
    background probability of the softmax over the C + 1 CAS columns;
    curriculum ``curve_j = amplitude * tanh(theta_j * delta) + 1`` with
    ``theta_j = 2 (j + 0.5) / L - 1`` and ``delta = 1 - 2 itr / max_iter``
    (rising with j before max_iter / 2, flat at it, falling after it);
    pi = the ascending order of u (``torch.sort``); loss = mean over
    videos and snippets of ``w_j * g_j``.

    ``ordering`` chooses w_j:

    * ``'original'`` (default, the original's code): ``w_j =
      curve[pi(j)]``: snippet j (in time order) is weighted by the curve at
      the *time index* of the j-th least uncertain snippet, not by its own
      uncertainty rank (``gather(curve, 1, sort_indices)`` multiplied with
      the guide in time order);
    * ``'rank'`` (what the paper describes): ``w_{pi(j)} = curve[j]``: the
      j-th least uncertain snippet gets curve_j.

    Args:
        amplitude (float): Defaults to 0.7.
        max_iter (int): Iterations of the curriculum. Defaults to 5000
            (the THUMOS14 script's).
        clamp (float): The evidence's logit clamp. Defaults to 10.
        ordering (str): See above. Defaults to ``'original'``.
        stable_sort (bool): ``torch.sort(stable=...)``; the original uses
            the default, ``False`` (equal uncertainties then come in an
            implementation-defined order). Defaults to False.
        loss_weight (float): Multiplier (``alpha_uct_guide``). Defaults to
            0.4.
    """

    def __init__(self,
                 amplitude: float = 0.7,
                 max_iter: int = 5000,
                 clamp: float = 10.,
                 ordering: str = 'original',
                 stable_sort: bool = False,
                 loss_weight: float = 0.4) -> None:
        super().__init__()
        if ordering not in ORDERINGS:
            raise ValueError(
                f'ordering must be one of {ORDERINGS}, got {ordering!r}')
        if max_iter < 1:
            raise ValueError(f'max_iter must be >= 1, got {max_iter}')
        self.amplitude = amplitude
        self.max_iter = max_iter
        self.clamp = clamp
        self.ordering = ordering
        self.stable_sort = stable_sort
        self.loss_weight = loss_weight

    def curve(self, iteration: int, lengths: torch.Tensor,
              num_snippets: int) -> torch.Tensor:
        """The curriculum of every video (``course_function``).

        Args:
            iteration (int): Training iteration.
            lengths (Tensor): [B] video lengths L_b.
            num_snippets (int): T >= max L_b.

        Returns:
            Tensor: [B, T] float32 (values past L_b are meaningless).
        """
        idx = torch.arange(num_snippets, device=lengths.device)
        theta = 2 * (idx[None] + 0.5) / lengths[:, None] - 1
        delta = -2 * iteration / self.max_iter + 1
        return self.amplitude * torch.tanh(theta * delta) + 1

    def snippet_uncertainty(self, supp: torch.Tensor) -> torch.Tensor:
        """u [B, T] of the suppressed CAS [B, T, C + 1] (C = columns - 1)."""
        evidence = torch.exp(torch.clamp(supp, -self.clamp, self.clamp))
        return (supp.shape[-1] - 1) / torch.sum(evidence + 1, dim=-1)

    def forward(self, cas: torch.Tensor, supp: torch.Tensor,
                attn: torch.Tensor, v_atn: torch.Tensor, f_atn: torch.Tensor,
                mask: torch.Tensor, iteration: int) -> torch.Tensor:
        """The weighted loss.

        Args:
            cas (Tensor): CAS logits [B, T, C + 1].
            supp (Tensor): Suppressed CAS [B, T, C + 1].
            attn, v_atn, f_atn (Tensor): Attentions [B, T, 1].
            mask (Tensor): [B, T] bool.
            iteration (int): Training iteration (the curriculum's).

        Returns:
            Tensor: Scalar.
        """
        b, t = mask.shape
        p_bg = cas.softmax(-1)[..., [-1]]
        guide = ((1 - attn - p_bg).abs() + (1 - v_atn - p_bg).abs() +
                 (1 - f_atn - p_bg).abs())[..., 0] / 3  # [B, T]
        uncertainty = self.snippet_uncertainty(supp)
        padded = not bool(mask.all())
        if padded:  # padding sorts last
            uncertainty = uncertainty.masked_fill(~mask, float('inf'))
        order = torch.sort(uncertainty, dim=1, stable=self.stable_sort)[1]
        curve = self.curve(iteration, mask.sum(1), t)
        if self.ordering == 'original':
            weight = torch.gather(curve, 1, order)
        else:
            weight = torch.empty_like(curve).scatter_(1, order, curve)
        loss = weight * guide
        if padded:
            return self.loss_weight * loss[mask].mean()
        return self.loss_weight * loss.mean()
