# Copyright (c) refineloc-mm contributors. All rights reserved.
"""What ``--amp`` means for the tools: mixed precision on CUDA and CPU."""
import torch
from mmengine.config import Config

AMP_OPTIM_WRAPPERS = ('OptimWrapper', 'AmpOptimWrapper',
                      'BFloat16OptimWrapper')


def enable_amp(cfg: Config, train: bool = True) -> Config:
    """Mixed precision for training, validation and testing.

    - Training (``train=True``): ``AmpOptimWrapper`` with dynamic loss
      scaling on CUDA; on a CPU, where mmengine's wrapper needs CUDA,
      :class:`BFloat16OptimWrapper` (bfloat16 autocast, no loss scaling).
      The refinement hook then scores the training split under the same
      autocast (its ``fp16=None`` default follows the optim wrapper).
    - Validation and testing: ``ValLoop``/``TestLoop`` with ``fp16=True``,
      i.e. mmengine's autocast (float16 on CUDA, bfloat16 on CPU).

    Softmaxes, losses, post-processing and the metric stay in float32 (the
    head returns float32 snippet outputs).
    """
    if train:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in AMP_OPTIM_WRAPPERS:
            raise ValueError(
                f'`--amp` is not supported for optimizer wrapper {wrapper}')
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = 'BFloat16OptimWrapper'
    for key in ('val_cfg', 'test_cfg') if train else ('test_cfg', ):
        if cfg.get(key):
            cfg[key]['fp16'] = True
    return cfg
