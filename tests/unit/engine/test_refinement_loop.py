# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefinementLoop without training: round arithmetic, early stopping, its
records through the message hub (what a checkpoint keeps), and the
generator's own m-round history."""
import copy

import numpy as np
import pytest
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG, make_tiny_data, tiny_options
from refineloc_mm.engine import RefinementLoop
from refineloc_mm.engine.runner.refinement_loop import STATE_KEY
from refineloc_mm.models.task_modules import PseudoGTGenerator


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.mktemp('synthetic'))


def build_loop(data, tmp_path, **train_cfg):
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    opts = {}
    for kv in tiny_options(data):
        key, value = kv.split('=', 1)
        opts[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(opts)
    cfg.train_cfg.update(train_cfg)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    loop = runner.train_loop
    assert isinstance(loop, RefinementLoop)
    return runner, loop


def test_round_arithmetic(data, tmp_path):
    _, loop = build_loop(data, tmp_path, num_rounds=3, epochs_per_round=4)
    assert loop.max_epochs == 12 and loop.val_interval == 4
    seen = []
    for epoch in range(12):
        loop._epoch = epoch
        seen.append((loop.round, loop.at_round_end, loop.at_last_round))
    assert [s[0] for s in seen] == [0] * 4 + [1] * 4 + [2] * 4
    assert [e for e, s in enumerate(seen) if s[1]] == [3, 7, 11]
    assert [e for e, s in enumerate(seen) if s[2]] == [8, 9, 10, 11]
    loop._epoch = 12  # after the last epoch
    assert loop.round == 2


def test_early_stop_and_best_round(data, tmp_path):
    runner, loop = build_loop(
        data, tmp_path, num_rounds=10, epochs_per_round=1,
        early_stop_rounds=2, save_round_checkpoints=False)
    for r, score in enumerate([0.2, 0.3, 0.3, 0.1]):
        loop._finish_round(r, {'mAP@0.5': score})
        assert loop.stop_training is (r == 3), r
    # ties keep the earlier round
    assert loop.best_round() == 1
    assert [rec['metrics']['mAP@0.5'] for rec in loop.records] == [
        0.2, 0.3, 0.3, 0.1]


def test_records_travel_in_the_message_hub(data, tmp_path):
    runner, loop = build_loop(
        data, tmp_path / 'a', save_round_checkpoints=False)
    loop.round_record(0)['pseudo_labels_used'] = dict(coverage=0.0)
    loop._finish_round(0, {'mAP@0.5': 0.25})
    # what a checkpoint saves (a deep copy), as a resumed run loads it
    saved = copy.deepcopy(runner.message_hub.state_dict())
    assert saved['runtime_info'][STATE_KEY]['records'] == loop.records
    other, resumed = build_loop(data, tmp_path / 'b')
    assert resumed.records == []
    other.message_hub.load_state_dict(saved)
    resumed._restore_state()
    assert resumed.records == loop.records
    assert resumed.best_round() == 0
    # later additions are published again
    resumed.round_record(1)['end_epoch'] = 20
    info = other.message_hub.get_info(STATE_KEY)
    assert info['records'][-1] == dict(round=1, end_epoch=20)


def test_bad_schedule_is_refused(data, tmp_path):
    with pytest.raises(ValueError, match='epochs_per_round'):
        build_loop(data, tmp_path, epochs_per_round=0)


def test_generator_owns_its_history():
    num_snippets = np.array([4, 6])
    fps, size = np.array([10., 10.]), np.array([10, 10])
    segments = [[np.array([[0., 1., 0, 1.]]), np.zeros((0, 4))],
                [np.zeros((0, 4)), np.array([[2., 3., 0, 1.]])],
                [np.zeros((0, 4)), np.zeros((0, 4))]]
    gen = PseudoGTGenerator(from_m_iterations=2)
    labels = [
        gen.update(num_snippets, fps, size, r, segments=s)
        for r, s in enumerate(segments)
    ]
    assert len(gen.history) == 2  # the last m rounds
    fg = [
        gen.foreground(num_snippets, fps, size, r, segments=s)
        for r, s in enumerate(segments)
    ]
    assert fg[0].any() and fg[1].any() and not fg[2].any()
    # round 1 unites rounds 0 and 1; round 2 rounds 1 and 2 (not 0)
    np.testing.assert_array_equal(labels[1], fg[0] | fg[1])
    np.testing.assert_array_equal(labels[2], fg[1] | fg[2])
    state = gen.state_dict()
    fresh = PseudoGTGenerator(from_m_iterations=2)
    fresh.load_state_dict(copy.deepcopy(state))
    assert [h.tolist() for h in fresh.history] == [
        h.tolist() for h in gen.history
    ]
    more = [np.array([[0., 0.5, 0, 1.]]), np.zeros((0, 4))]
    np.testing.assert_array_equal(
        fresh.update(num_snippets, fps, size, 3, segments=more),
        gen.update(num_snippets, fps, size, 3, segments=more))


@pytest.mark.parametrize('fmt', ['current', 'former'])
def test_pseudo_label_hook_restores_labels_and_history(monkeypatch, fmt):
    """The resumed labels reach the dataset and the history the generator,
    also from a checkpoint of the former RefinementHook (history beside the
    labels)."""
    import torch

    from refineloc_mm.engine.hooks import pseudo_label_hook as module

    class Dataset:
        def set_labels(self, labels, fg_weight):
            self.labels, self.fg_weight = labels, fg_weight

    dataset = Dataset()
    monkeypatch.setattr(module, 'refinement_loop', lambda runner: object())
    monkeypatch.setattr(module, 'train_dataset', lambda runner: dataset)
    history = [torch.tensor([True, False, False])]
    state = dict(labels=torch.tensor([1, 0, -1], dtype=torch.int8),
                 fg_weight=None)
    state.update(
        generator=dict(history=history) if fmt == 'current' else {},
        history=history)
    hook = module.PseudoLabelHook()
    hook._loaded_state = state
    hook.before_train(runner=None)
    assert dataset.labels.tolist() == [1, 0, -1]
    assert np.isnan(dataset.fg_weight)
    assert [h.tolist() for h in hook.generator.history] == [[True, False,
                                                             False]]
