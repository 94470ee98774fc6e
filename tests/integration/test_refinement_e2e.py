# Copyright (c) refineloc-mm contributors. All rights reserved.
"""End to end through tools/train.py and tools/test.py on a tiny synthetic
set on which round 0 already localizes actions (clearly non-zero mAP):
rounds, model reset, changing pseudo labels, best-round selection, the
summary JSON, checkpoint loading in tools/test.py and its results JSON,
and resume after a stop in the middle of a round."""
import json

import numpy as np
import pytest
import torch

from helpers.runs import (REFINED_EPOCHS, REFINED_ROUNDS, SYNTHETIC_CONFIG,
                          SYNTHETIC_NAME, assert_resumed_after,
                          file_identity, fresh_checkpoint, load_labels,
                          logged_metrics, refined_options, run_tool,
                          state_dict, tiny_options, train, trained_epochs)


@pytest.fixture
def full_run(refined_run):
    """The shared run (tests/integration/conftest.py): 3 rounds of 2
    epochs; every validation writes its predictions to
    ``val_predictions.json`` (the last one: the model of round 2)."""
    assert (REFINED_ROUNDS, REFINED_EPOCHS) == (3, 2)
    return refined_run


def test_three_rounds(full_run):
    work_dir, proc = full_run
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    rounds = summary['rounds']
    assert [r['round'] for r in rounds] == [0, 1, 2]
    for r in rounds:
        assert 'mAP@0.5' in r['metrics'] and 'average_mAP' in r['metrics']
    # the tiny set is learnable: round 0 (video labels only) localizes
    # (measured: mAP@0.5 0.22, average 0.32), so the metrics below and in
    # the other end-to-end tests compare something
    assert rounds[0]['metrics']['mAP@0.5'] > 0.1
    assert rounds[0]['metrics']['average_mAP'] > 0.15
    # the best round is the first one with the highest mAP@0.5
    scores = [r['metrics']['mAP@0.5'] for r in rounds]
    assert summary['best_round'] == scores.index(max(scores))
    # round 0 trains without pseudo labels, later rounds with them
    assert rounds[0]['pseudo_labels_used'] == {'coverage': 0.0}
    assert rounds[1]['pseudo_labels_used']['coverage'] > 0
    # the last round does not regenerate labels nobody will use
    assert 'pseudo_labels_generated' not in rounds[2]
    log = proc.stdout + proc.stderr
    assert 'Refinement round 1: model, optimizer and schedule reset' in log
    assert 'Refinement round 2: model, optimizer and schedule reset' in log
    assert trained_epochs(log) == [1, 2, 3, 4, 5, 6]
    # labels change between rounds
    labels1, names = load_labels(work_dir, 1)
    labels2, _ = load_labels(work_dir, 2)
    assert labels1.shape == labels2.shape and len(names) == 14
    assert set(np.unique(labels1)) <= {-1, 0, 1}
    assert (labels1 != labels2).any()
    for r in range(3):
        assert (work_dir / f'round_{r}.pth').is_file()


def test_reset_gives_fresh_weights(full_run):
    """Round 1 starts from a fresh model: its first-epoch weights are not
    round 0's last weights trained one more epoch (they are far apart),
    and the reset is seeded by the round."""
    work_dir, _ = full_run
    end0 = state_dict(work_dir / 'round_0.pth')
    end1 = state_dict(work_dir / 'round_1.pth')
    key = 'cls_head.fc_cas.linear_0.weight'
    assert not torch.allclose(end0[key], end1[key])


def test_test_tool_and_dump(full_run, tiny_data, tmp_path):
    """tools/test.py scores the checkpoint's weights: the predictions and
    metrics of the model that wrote round_2.pth (its validation at the end
    of round 2, same split), not those of a freshly initialized model."""
    work_dir, _ = full_run

    def test(checkpoint, name):
        dump = tmp_path / f'{name}.json'
        proc = run_tool('tools/test.py', SYNTHETIC_CONFIG,
                        checkpoint, '--work-dir', tmp_path / name, '--dump',
                        dump, '--cfg-options', *tiny_options(tiny_data))
        return json.loads(dump.read_text()), logged_metrics(proc.stdout +
                                                            proc.stderr)

    doc, metrics = test(work_dir / 'round_2.pth', 'trained')
    assert set(doc) == {'version', 'results', 'external_data'}
    assert len(doc['results']) == 8
    for preds in doc['results'].values():
        for p in preds:
            assert set(p) == {'label', 'score', 'segment'}
            assert p['segment'][0] < p['segment'][1]
    validated = json.loads((work_dir / 'val_predictions.json').read_text())
    assert doc['results'] == validated['results']
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    expected = summary['rounds'][2]['metrics']
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():  # the log rounds to 4 decimals
        assert metrics[key] == pytest.approx(value, abs=1e-4), key
    assert metrics['average_mAP'] > 0
    fresh_doc, fresh_metrics = test(
        fresh_checkpoint(work_dir / 'round_2.pth', work_dir / SYNTHETIC_NAME,
                         tmp_path / 'fresh.pth'),
        'fresh')
    assert fresh_doc['results'] != doc['results']
    assert fresh_metrics != metrics


def test_resume_matches_uninterrupted(full_run, tiny_data, tmp_path):
    """Stop after the first epoch of round 1, resume: the resumed process
    starts at epoch 4, trains only epochs 4-6, keeps round 1's labels and
    round counter from the checkpoint, and ends identically."""
    work_dir, _ = full_run
    stopped = tmp_path / 'stopped'
    # the shared run's options: the same config, interrupted
    options = refined_options(stopped)
    first = train(stopped, tiny_data, 3, 2,
                  options=options + ['train_cfg.max_epochs=3'])
    assert trained_epochs(first.stdout + first.stderr) == [1, 2, 3]
    assert (stopped / 'epoch_3.pth').is_file()
    assert not (stopped / 'pseudo_labels' / 'round_2.npz').exists()
    labels_file = stopped / 'pseudo_labels' / 'round_1.npz'
    before = file_identity(labels_file)
    proc = train(stopped, tiny_data, 3, 2, '--resume', options=options)
    assert_resumed_after(proc.stdout + proc.stderr, epoch=3)
    assert file_identity(labels_file) == before  # restored, not rewritten
    for r in (1, 2):
        np.testing.assert_array_equal(
            load_labels(work_dir, r)[0],
            load_labels(stopped, r)[0])
    # the whole summary: metrics, label statistics used and generated
    full = json.loads((work_dir / 'refinement_summary.json').read_text())
    resumed = json.loads((stopped / 'refinement_summary.json').read_text())
    assert resumed == full
    a, b = state_dict(work_dir / 'round_2.pth'), state_dict(stopped /
                                                            'round_2.pth')
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)

