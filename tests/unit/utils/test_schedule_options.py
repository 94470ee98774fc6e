# Copyright (c) refineloc-mm contributors. All rights reserved.
"""tools/train.py --rounds / --epochs-per-round are sugar for the
RefinementLoop's keys (``train_cfg.num_rounds`` / ``epochs_per_round``),
from which the loop derives everything else (tests/test_launchers.py)."""
import importlib.util
import sys

import pytest
from mmengine.config import Config

import refineloc_mm  # noqa: F401
from helpers.runs import REPO


def train_tool():
    spec = importlib.util.spec_from_file_location(
        'refineloc_train_tool', REPO / 'tools' / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def merged(config, *argv):
    tool = train_tool()
    old = sys.argv
    sys.argv = ['train.py', str(REPO / 'configs' / f'{config}.py'), *argv]
    try:
        args = tool.parse_args()
    finally:
        sys.argv = old
    return tool.merge_args(Config.fromfile(args.config), args)


@pytest.mark.parametrize('name', [
    'refineloc_thumos', 'refineloc/refineloc_i3d_50x50e_activitynet12',
    'refineloc/refineloc_i3d_4x10e_synthetic',
    'refineloc/refineloc_i3d_50x100e_thumos14-npy',
    'wtalc/refineloc-wtalc_i3d_10x200e_thumos14',
    'basnet/refineloc-basnet_i3d_50x115e_thumos14'
])
def test_rounds_and_epochs_set_the_loop(name):
    cfg = merged(name, '--rounds', '3', '--epochs-per-round', '7')
    assert cfg.train_cfg.type == 'RefinementLoop'
    assert cfg.train_cfg.num_rounds == 3
    assert cfg.train_cfg.epochs_per_round == 7
    # nothing derived is written into the config: the loop derives it
    for key in ('max_epochs', 'val_interval'):
        assert key not in cfg.train_cfg


def test_only_epochs_keeps_the_number_of_rounds():
    cfg = merged('refineloc/refineloc_i3d_4x10e_synthetic',
                 '--epochs-per-round', '3')
    assert (cfg.train_cfg.num_rounds, cfg.train_cfg.epochs_per_round) == (4,
                                                                          3)


def test_cfg_options_come_last():
    cfg = merged('refineloc/refineloc_i3d_4x10e_synthetic', '--rounds', '3',
                 '--cfg-options', 'train_cfg.num_rounds=2')
    assert cfg.train_cfg.num_rounds == 2


def test_needs_a_refinement_loop():
    with pytest.raises(ValueError, match='RefinementLoop'):
        merged('wtalc/wtalc_i3d_1x200e_thumos14', '--rounds', '2')
