# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Keep every value derived from the refinement schedule consistent."""
from typing import Optional

from mmengine.config import Config


def refinement_hooks(cfg: Config) -> list:
    """The RefinementHook entries of ``cfg.custom_hooks``."""
    return [
        h for h in cfg.get('custom_hooks', None) or []
        if h.get('type') in ('RefinementHook', 'refineloc_mm.RefinementHook')
    ]


def set_refinement_schedule(cfg: Config,
                            rounds: Optional[int] = None,
                            epochs_per_round: Optional[int] = None) -> Config:
    """Set ``rounds`` x ``epochs_per_round`` everywhere it matters.

    Updates the RefinementHook, ``train_cfg.max_epochs`` and
    ``val_interval`` (validate once per round), the checkpoint interval and
    the ``end`` of epoch-based parameter schedulers (each round rebuilds
    them, so they span one round). Values left as None keep the config's.

    Raises:
        ValueError: If the config has no RefinementHook.
    """
    hooks = refinement_hooks(cfg)
    if not hooks:
        raise ValueError('--rounds/--epochs-per-round need a config with a '
                         'RefinementHook in custom_hooks.')
    epr = epochs_per_round or cfg.get('epochs_per_round') or hooks[0][
        'epochs_per_round']
    n = rounds or cfg.get('num_rounds') or max(
        1, cfg.train_cfg.max_epochs // epr)
    cfg.num_rounds, cfg.epochs_per_round = n, epr
    for hook in hooks:
        hook['epochs_per_round'] = epr
    cfg.train_cfg.max_epochs = n * epr
    cfg.train_cfg.val_interval = epr
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None:
        checkpoint['interval'] = min(checkpoint.get('interval', epr), epr)
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for sched in schedulers:
        if sched.get('by_epoch', True) and sched.get('end', 0) > epr:
            sched['end'] = epr
    return cfg
