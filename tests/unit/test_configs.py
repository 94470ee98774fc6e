# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Every shipped config: it loads (its ``_base_`` paths resolve, its
``custom_imports`` import), its model and its refinement hooks (the
pseudo-label generator and its labeler) build through the registries, with the
widths and classes of its data, and its name says its model folder and
schedule (``configs/<model>/{model}_{features}_{rounds}x{epochs}e_
{dataset}[-{layout}].py``, docs/models.md#configs)."""
import re

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from helpers.runs import REPO
from mmaction.registry import HOOKS, MODELS

CONFIGS = REPO / 'configs'
LEAVES = sorted(p for p in CONFIGS.rglob('*.py')
                if '_base_' not in p.relative_to(CONFIGS).parts)
MODEL_FOLDERS = sorted(p.name for p in CONFIGS.iterdir()
                       if p.is_dir() and p.name != '_base_')
NAME = re.compile(r'(?P<model>[a-z0-9-]+)_(?P<features>[a-z0-9-]+)_'
                  r'(?P<rounds>\d+)x(?P<epochs>\d+)e_'
                  r'(?P<dataset>thumos14|activitynet12|synthetic)'
                  r'(?P<layout>-npy)?\.py')


def rel(path):
    return str(path.relative_to(CONFIGS))


@pytest.mark.parametrize('path', LEAVES, ids=rel)
def test_config_loads_and_builds_its_model(path):
    cfg = Config.fromfile(str(path))  # imports cfg.custom_imports
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    head = cfg.model.cls_head
    assert model.cls_head is not None
    for split in (cfg.train_dataloader.dataset.dataset,
                  cfg.val_dataloader.dataset, cfg.test_dataloader.dataset):
        assert len(split.classes) == head.num_classes, rel(path)
        if 'in_channels' in split:  # feature datasets
            assert split.in_channels == head.in_channels, rel(path)
    # the refinement's hooks build too (the generator and its labeler: a
    # misplaced or stale generator key fails here, not after round 0)
    for key in ('pseudo_labels', 'refinement_summary'):
        HOOKS.build(cfg.default_hooks[key])


@pytest.mark.parametrize('path', [p for p in LEAVES if p.parent != CONFIGS],
                         ids=rel)
def test_config_name_says_its_model_and_schedule(path):
    match = NAME.fullmatch(path.name)
    assert match, f'{rel(path)}: not {NAME.pattern}'
    folder = path.parent.name
    assert match['model'] in (folder, f'refineloc-{folder}'), rel(path)
    cfg = Config.fromfile(str(path))
    loop = cfg.train_cfg
    if loop.type == 'RefinementLoop':
        schedule = (loop.num_rounds, loop.epochs_per_round)
    else:  # a base model alone, trained once
        schedule = (1, loop.max_epochs)
    assert (int(match['rounds']), int(match['epochs'])) == schedule, (
        f'{rel(path)}: train_cfg gives {schedule[0]}x{schedule[1]}e')


def test_every_model_folder_has_one_synthetic_refinement_config():
    """``make demo MODEL=<folder>`` and the end-to-end test find it by
    this glob."""
    assert {'refineloc', 'wtalc', 'basnet', 'delu'} <= set(MODEL_FOLDERS)
    for folder in MODEL_FOLDERS:
        found = list((CONFIGS / folder).glob('*refineloc*_synthetic.py'))
        assert len(found) == 1, (folder, found)


def test_names_are_unique_and_only_the_design_card_name_is_flat():
    """``mim train refineloc_mm NAME`` finds a config by its file name in
    any folder; ``configs/refineloc_thumos.py`` inherits the RefineLoc
    THUMOS14 config."""
    names = [p.name for p in CONFIGS.rglob('*.py')]
    assert len(names) == len(set(names))
    assert [p.name for p in CONFIGS.glob('*.py')] == ['refineloc_thumos.py']
    old = Config.fromfile(str(CONFIGS / 'refineloc_thumos.py'))
    new = Config.fromfile(
        str(CONFIGS / 'refineloc' / 'refineloc_i3d_50x100e_thumos14.py'))
    assert old.to_dict() == new.to_dict()
