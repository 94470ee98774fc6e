# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The refinement loop's reset between rounds: fresh seeded weights, empty
optimizer state, initial learning rate and rebuilt parameter schedulers;
the pseudo-label and summary hooks after a round."""
import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG, tiny_options
from refineloc_mm.engine import RefinementLoop


class StopAfterEpochs(Hook):
    """End the run after ``epochs`` epochs, inside a round."""

    def __init__(self, epochs):
        self.epochs = epochs

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epochs:
            runner.train_loop.stop_training = True


@pytest.fixture(scope='module')
def runner(tmp_path_factory, tiny_data):
    data = tiny_data
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    opts = {}
    for kv in tiny_options(data):
        key, value = kv.split('=', 1)
        opts[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(tmp_path_factory.mktemp('work'))
    cfg.train_cfg.num_rounds = 2
    cfg.train_cfg.epochs_per_round = 2
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
             end=2)
    ]
    cfg.visualizer.vis_backends = [
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend')
    ]
    runner = Runner.from_cfg(cfg)
    runner.register_hook(StopAfterEpochs(3))
    runner.train()  # round 0, labels for round 1, first epoch of round 1
    return runner


def loop_of(runner):
    loop = runner.train_loop
    assert isinstance(loop, RefinementLoop)
    return loop


def test_reset_restores_optimizer_and_schedule(runner):
    optim = runner.optim_wrapper.optimizer
    assert len(optim.state) > 0
    # during training, round 1 (epoch 3) started its warm-up again
    lrs = runner.message_hub.get_scalar('train/lr').data[0]
    assert lrs[-1] == pytest.approx(1e-4) and lrs[-5] == pytest.approx(1e-3)
    lr_before = optim.param_groups[0]['lr']
    old_schedulers = runner.param_schedulers
    loop_of(runner)._reset_round(1)
    assert len(optim.state) == 0
    assert runner.param_schedulers is not old_schedulers
    # a freshly built LinearLR starts again at start_factor x base lr
    assert optim.param_groups[0]['lr'] == pytest.approx(1e-4)
    assert lr_before == pytest.approx(1e-3)  # the warm-up has ended


def test_reset_weights_are_fresh_and_seeded(runner):
    model = runner.model
    loop = loop_of(runner)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.)  # stands for training
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    loop._reset_round(1)
    first = {k: v.clone() for k, v in model.state_dict().items()}
    loop._reset_round(1)
    again = {k: v.clone() for k, v in model.state_dict().items()}
    loop._reset_round(2)
    other = model.state_dict()
    key = 'cls_head.fc_cas.linear_0.weight'
    assert not torch.equal(trained[key], first[key])
    assert torch.equal(first[key], again[key])  # seeded by the round
    assert not torch.equal(first[key], other[key])
    # a freshly initialized nn.Linear: |w| <= 1/sqrt(fan_in)
    bound = 1 / first[key].shape[1]**0.5
    assert first[key].abs().max() <= bound + 1e-6


def test_labels_regenerated_for_next_round(runner):
    dataset = runner.train_dataloader.dataset
    labels = dataset.labels
    assert (labels >= 0).any()
    assert dataset.fg_weight == pytest.approx(
        (labels == 0).sum() / (labels >= 0).sum())


def test_tensorboard_gets_per_round_scalars(runner):
    """A TensorBoard user sees the rounds: per-round metrics and pseudo-label
    statistics are written as scalars with the round as step."""
    import glob

    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events = glob.glob(f'{runner.log_dir}/vis_data/**/events.out.*',
                       recursive=True)
    assert events, runner.log_dir
    acc = EventAccumulator(events[0])
    acc.Reload()
    tags = acc.Tags()['scalars']
    assert 'refinement/mAP@0.5' in tags
    assert [e.step for e in acc.Scalars('refinement/mAP@0.5')] == [0]
    assert any(t.startswith('refinement/fg_precision') for t in tags)
