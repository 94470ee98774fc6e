# Copyright (c) refineloc-mm contributors. All rights reserved.
"""What ``--amp`` means: mixed precision on CUDA and CPU, for the tools'
flag and for a config that asks for it under any launcher."""
import torch
from mmengine.config import Config

AMP_OPTIM_WRAPPERS = ('OptimWrapper', 'AmpOptimWrapper',
                      'BFloat16OptimWrapper')
AMP_ONLY_ARGS = ('loss_scale', 'dtype', 'use_fsdp')


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
            # AmpOptimWrapper's own arguments (MMAction2's --amp writes
            # loss_scale): bfloat16 needs no loss scaling
            for key in AMP_ONLY_ARGS:
                cfg.optim_wrapper.pop(key, None)
    for key in ('val_cfg', 'test_cfg') if train else ('test_cfg', ):
        if cfg.get(key):
            cfg[key]['fp16'] = True
    return cfg


def apply_configured_amp(cfg: Config) -> bool:
    """Give a config that asks for mixed precision what ``--amp`` gives.

    A config asks for it with ``optim_wrapper.type='AmpOptimWrapper'``
    (what MMAction2's ``tools/train.py --amp`` writes) or
    ``'BFloat16OptimWrapper'``. mmengine's ``AmpOptimWrapper`` refuses to
    run without an accelerator; on a CPU it becomes
    :class:`BFloat16OptimWrapper`, and validation and testing run under
    autocast too (:func:`enable_amp`), under every launcher. Called by
    :class:`~refineloc_mm.engine.RefineLocRunner` before the runner is
    built.

    Returns:
        bool: Whether the config asked for mixed precision.
    """
    wrapper = cfg.get('optim_wrapper') or {}
    if wrapper.get('type') not in ('AmpOptimWrapper', 'BFloat16OptimWrapper'):
        return False
    enable_amp(cfg)
    return True
