# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Analytic FLOPs of a training epoch and the arithmetic floor of an epoch
on this machine (the head's two MLPs alone)."""
from typing import Callable, Tuple

from .timer import median, timed


def train_flops(model, num_snippets: int) -> Tuple[int, int]:
    """(FLOPs per snippet forward, FLOPs of one training epoch)."""
    import torch.nn as nn
    forward = sum(2 * m.in_features * m.out_features
                  for m in model.modules() if isinstance(m, nn.Linear))
    return forward, 3 * forward * num_snippets


def gemm_floor(model, num_snippets: int, batches: int, fp16: bool,
               sync: Callable[[], None], repeats: int = 3) -> float:
    """Seconds of one training epoch's arithmetic alone on this machine.

    The head's two snippet MLPs, forward and backward, on random features
    of the epoch's size (``num_snippets`` rows in ``batches`` equal
    batches), under the training precision (bfloat16 autocast when
    ``fp16``); no data loading, no optimizer step, no softmaxes or losses.
    The median of ``repeats``. An epoch cannot be faster than this with
    these kernels, whatever the framework around them does.
    """
    import torch
    from mmengine.runner.amp import autocast

    from refineloc_mm.models.utils.snippet_ops import autocast_input
    head = model.cls_head
    param = next(head.parameters())
    rows = -(-num_snippets // batches)
    x = torch.randn(rows, head.in_channels, device=param.device)

    def epoch():
        for _ in range(batches):
            with autocast(device_type=param.device.type, enabled=fp16):
                xi = autocast_input(x)
                out = head.fc_cas(xi).float().sum() + head.fc_attention(
                    xi).float().sum()
            out.backward()
        head.zero_grad(set_to_none=True)

    epoch()  # warm-up
    return median([timed(epoch, sync)[0] for _ in range(repeats)])
