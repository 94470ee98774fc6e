# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Mixed precision training on CPUs (bfloat16 autocast)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BFloat16OptimWrapper(OptimWrapper):
    """Run the forward pass under ``torch.autocast(dtype=torch.bfloat16)``.

    mmengine's ``AmpOptimWrapper`` requires CUDA; this wrapper gives
    ``--amp`` a meaning on CPUs with bfloat16 matrix units (AVX-512 BF16,
    AMX): the snippet MLPs run in bfloat16 while the weights, the optimizer
    and everything after the MLPs (softmaxes, losses) stay in float32. No
    loss scaling is needed, bfloat16 has float32's exponent range.

    Args:
        device_type (str): Autocast device. Defaults to ``'cpu'``.
        **kwargs: See :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, device_type: str = 'cpu', **kwargs) -> None:
        super().__init__(**kwargs)
        self.device_type = device_type
        # the attribute name of mmengine's AmpOptimWrapper
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield


def is_mixed_precision(optim_wrapper: object) -> bool:
    """Whether ``optim_wrapper`` trains under autocast (``--amp``):
    mmengine's ``AmpOptimWrapper`` or :class:`BFloat16OptimWrapper`."""
    return isinstance(optim_wrapper, (AmpOptimWrapper, BFloat16OptimWrapper))
