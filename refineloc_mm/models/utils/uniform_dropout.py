# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Dropout whose mask is drawn from a uniform sample (fast on CPU)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class UniformDropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with the same distribution, faster on CPU.

    In training each element is kept with probability ``1 - p`` and scaled
    by ``1 / (1 - p)``, independently, as :class:`torch.nn.Dropout` does;
    in eval mode it is the identity. On CPU the keep mask is
    ``rand >= p`` of one float32 uniform draw per element: PyTorch's CPU
    ``bernoulli_`` (what ``nn.Dropout`` draws) runs on one thread at about
    8 ns per element, about a fifth of a W-TALC training step on 2 cores;
    the uniform draw is about 3 times faster and saves 12 % of the step
    (``docs/wtalc.md``, "Time on 2 idle cores"). On other devices it calls
    ``F.dropout`` (fused there). The random stream differs from
    ``nn.Dropout``'s, so a run with the same seed draws other masks; there
    are no parameters, so checkpoints are the same.

    Args:
        p (float): Probability of an element to be zeroed. Defaults to 0.5.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p=p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: any shape -> same shape and dtype."""
        if not self.training or self.p == 0:
            return x
        if x.device.type != 'cpu' or self.p == 1:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, device=x.device).ge_(self.p)
        return x * keep.to(x.dtype).mul_(1. / (1. - self.p))
