# Copyright (c) refineloc-mm contributors. All rights reserved.
"""--rounds / --epochs-per-round set every derived value consistently."""
import pytest
from mmengine.config import Config

import refineloc_mm  # noqa: F401
from helpers.runs import REPO
from refineloc_mm.utils.schedule import set_refinement_schedule


@pytest.mark.parametrize('name', [
    'refineloc_thumos', 'refineloc_activitynet12', 'refineloc_synthetic',
    'refineloc_thumos_npy'
])
def test_rounds_and_epochs_reach_every_derived_value(name):
    cfg = Config.fromfile(str(REPO / 'configs' / f'{name}.py'))
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
             end=500),
        dict(type='LinearLR', by_epoch=False, begin=0, end=500),
    ]
    set_refinement_schedule(cfg, rounds=3, epochs_per_round=7)
    assert cfg.num_rounds == 3 and cfg.epochs_per_round == 7
    assert cfg.train_cfg.max_epochs == 21
    assert cfg.train_cfg.val_interval == 7
    assert cfg.custom_hooks[0].epochs_per_round == 7
    assert cfg.default_hooks.checkpoint.interval == 7
    assert cfg.param_scheduler[0]['end'] == 7  # epoch-based: one round
    assert cfg.param_scheduler[1]['end'] == 500  # iteration-based: kept


def test_only_epochs_keeps_the_number_of_rounds():
    cfg = Config.fromfile(str(REPO / 'configs' / 'refineloc_synthetic.py'))
    set_refinement_schedule(cfg, epochs_per_round=3)
    assert cfg.train_cfg.max_epochs == cfg.num_rounds * 3 == 12


def test_needs_a_refinement_hook():
    cfg = Config.fromfile(str(REPO / 'configs' / 'refineloc_synthetic.py'))
    cfg.custom_hooks = []
    with pytest.raises(ValueError, match='RefinementHook'):
        set_refinement_schedule(cfg, rounds=2)
