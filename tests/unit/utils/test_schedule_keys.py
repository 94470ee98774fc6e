# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The schedule keys of ``train_cfg`` (``num_rounds``, ``epochs_per_round``)
reach every value the RefinementLoop derives from them, as
``--cfg-options train_cfg.KEY=VALUE`` gives them under any launcher (the
launchers themselves run in ``tests/integration/test_launchers.py``)."""
import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG


def synthetic_loop(tmp_path, data_root, **train_cfg):
    """The RefinementLoop of
    configs/refineloc/refineloc_i3d_4x10e_synthetic.py with
    ``train_cfg`` merged, as ``--cfg-options train_cfg.KEY=VALUE`` does."""
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    for split in (cfg.train_dataloader.dataset.dataset,
                  cfg.val_dataloader.dataset, cfg.test_dataloader.dataset):
        split.data_root = str(data_root)
        split.in_channels = 32
    cfg.model.cls_head.in_channels = 32
    cfg.merge_from_dict({f'train_cfg.{k}': v for k, v in train_cfg.items()})
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    checkpoint = next(h for h in runner.hooks
                      if isinstance(h, CheckpointHook))
    return runner.train_loop, checkpoint


def test_schedule_keys_derive_the_loop(tmp_path, tiny_data):
    loop, checkpoint = synthetic_loop(
        tmp_path, tiny_data, num_rounds=3, epochs_per_round=7)
    assert (loop.num_rounds, loop.epochs_per_round) == (3, 7)
    assert loop.max_epochs == 21 and loop.val_interval == 7
    # interval='round' of the default runtime: once per round
    assert checkpoint.interval == 7
    # the file's own schedule: 4 rounds of 10 epochs
    loop, checkpoint = synthetic_loop(tmp_path / 'default', tiny_data)
    assert loop.max_epochs == 40 and loop.val_interval == 10
    assert checkpoint.interval == 10


def test_loop_refuses_a_bad_schedule(tmp_path, tiny_data):
    with pytest.raises(ValueError, match='num_rounds'):
        synthetic_loop(tmp_path, tiny_data, num_rounds=0)
