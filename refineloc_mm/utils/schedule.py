# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Keep every value derived from the refinement schedule consistent."""
import copy
import os.path as osp
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


def _derived_values(cfg: Config) -> dict:
    """The values :func:`set_refinement_schedule` derives, by key."""
    values = dict()
    train_cfg = cfg.get('train_cfg') or {}
    for name in ('max_epochs', 'val_interval'):
        if name in train_cfg:
            values[('train_cfg', name)] = train_cfg[name]
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint is not None and 'interval' in checkpoint:
        values[('checkpoint', 'interval')] = checkpoint['interval']
    for i, hook in enumerate(refinement_hooks(cfg)):
        values[('hook', i)] = hook.get('epochs_per_round')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers):
        values[('param_scheduler', i)] = sched.get('end')
    return values


def _assign(cfg: Config, key: tuple, value) -> None:
    """Set the derived value ``key`` of :func:`_derived_values`."""
    group, name = key
    if group == 'train_cfg':
        cfg.train_cfg[name] = value
    elif group == 'checkpoint':
        cfg.default_hooks.checkpoint.interval = value
    elif group == 'hook':
        refinement_hooks(cfg)[name]['epochs_per_round'] = value
    else:
        schedulers = cfg.param_scheduler
        sched = schedulers if isinstance(schedulers, dict) else \
            schedulers[name]
        sched['end'] = value


def apply_schedule_keys(cfg: Config) -> dict:
    """Derive the schedule from changed ``num_rounds`` /
    ``epochs_per_round`` keys, as ``--rounds`` / ``--epochs-per-round``
    do.

    What ``--cfg-options num_rounds=2 epochs_per_round=5`` means under any
    launcher (MMAction2's ``tools/train.py``, ``mim train``, ours): the
    config file is read again and, if its schedule keys differ from
    ``cfg``'s, every value derived from them (see
    :func:`set_refinement_schedule`) that still holds the file's value is
    set to the value the new keys give. A derived value that was changed
    explicitly (``train_cfg.max_epochs=3``) is kept. Called by
    :class:`~refineloc_mm.engine.RefineLocRunner` before the runner is
    built.

    Args:
        cfg (Config): The merged config; its ``filename`` is the file it
            was read from (nothing is done without one).

    Returns:
        dict: ``{'train_cfg.max_epochs': (old, new), ...}``, the values
        that were changed.
    """
    filename = getattr(cfg, 'filename', None)
    keys = (cfg.get('num_rounds'), cfg.get('epochs_per_round'))
    if (not filename or not osp.isfile(filename) or keys == (None, None)
            or not refinement_hooks(cfg)):
        return dict()
    original = Config.fromfile(filename)
    if keys == (original.get('num_rounds'),
                original.get('epochs_per_round')) or not refinement_hooks(
                    original):
        return dict()
    target = set_refinement_schedule(copy.deepcopy(original), *keys)
    before, now = _derived_values(original), _derived_values(cfg)
    changed = dict()
    for key, value in _derived_values(target).items():
        if before.get(key) == now.get(key, object()) != value:
            _assign(cfg, key, value)
            changed['.'.join(map(str, key))] = (now[key], value)
    return changed
