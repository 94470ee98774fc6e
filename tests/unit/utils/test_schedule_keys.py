# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The schedule keys (``num_rounds``, ``epochs_per_round``) reach every
value derived from them (``apply_schedule_keys``, what RefineLocRunner
applies under any launcher; the launchers themselves run in
``tests/integration/test_launchers.py``)."""

from mmengine.config import Config

from helpers.runs import REPO
from refineloc_mm.utils.schedule import apply_schedule_keys


def synthetic(tmp_path, **keys):
    cfg = Config.fromfile(str(REPO / 'configs' / 'refineloc_synthetic.py'))
    cfg.merge_from_dict(keys)
    return cfg


def test_schedule_keys_reach_every_derived_value():
    cfg = synthetic(None, num_rounds=3, epochs_per_round=7)
    changed = apply_schedule_keys(cfg)
    assert cfg.train_cfg.max_epochs == 21 and cfg.train_cfg.val_interval == 7
    assert cfg.custom_hooks[0].epochs_per_round == 7
    assert cfg.default_hooks.checkpoint.interval == 7
    assert changed['train_cfg.max_epochs'] == (40, 21)


def test_explicit_derived_values_are_kept():
    # e.g. `--cfg-options num_rounds=3 train_cfg.max_epochs=5`: stop early
    cfg = synthetic(None, num_rounds=3, train_cfg=dict(max_epochs=5))
    apply_schedule_keys(cfg)
    assert cfg.train_cfg.max_epochs == 5
    assert cfg.custom_hooks[0].epochs_per_round == 10
    # unchanged keys change nothing
    cfg = synthetic(None, train_cfg=dict(max_epochs=5))
    assert apply_schedule_keys(cfg) == {}
    assert cfg.train_cfg.max_epochs == 5
