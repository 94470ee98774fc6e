# Copyright (c) refineloc-mm contributors. All rights reserved.
"""End to end through tools/train.py and tools/test.py on a tiny synthetic
set: rounds, model reset, changing pseudo labels, the summary JSON, the
results JSON, and resume after a stop in the middle of a round."""
import json

import numpy as np
import pytest
import torch

from helpers.runs import (load_labels, make_tiny_data, run_tool, state_dict,
                          tiny_options, train)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.mktemp('synthetic'))


@pytest.fixture(scope='module')
def full_run(tiny_data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('full')
    proc = train(work_dir, tiny_data, 3, 2)
    return work_dir, proc


def test_three_rounds(full_run):
    work_dir, proc = full_run
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    rounds = summary['rounds']
    assert [r['round'] for r in rounds] == [0, 1, 2]
    for r in rounds:
        assert 'mAP@0.5' in r['metrics'] and 'average_mAP' in r['metrics']
    assert summary['best_round'] in (0, 1, 2)
    # round 0 trains without pseudo labels, later rounds with them
    assert rounds[0]['pseudo_labels_used'] == {'coverage': 0.0}
    assert rounds[1]['pseudo_labels_used']['coverage'] > 0
    # the last round does not regenerate labels nobody will use
    assert 'pseudo_labels_generated' not in rounds[2]
    log = proc.stdout + proc.stderr
    assert 'Refinement round 1: model, optimizer and schedule reset' in log
    assert 'Refinement round 2: model, optimizer and schedule reset' in log
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
    work_dir, _ = full_run
    dump = tmp_path / 'results.json'
    proc = run_tool('tools/test.py', 'configs/refineloc_synthetic.py',
                    work_dir / 'round_2.pth', '--work-dir', tmp_path,
                    '--dump', dump, '--cfg-options',
                    *tiny_options(tiny_data))
    assert 'mAP@0.5' in proc.stdout + proc.stderr
    doc = json.loads(dump.read_text())
    assert set(doc) == {'version', 'results', 'external_data'}
    assert len(doc['results']) == 8
    for preds in doc['results'].values():
        for p in preds:
            assert set(p) == {'label', 'score', 'segment'}
            assert p['segment'][0] < p['segment'][1]


def test_resume_matches_uninterrupted(full_run, tiny_data, tmp_path):
    """Stop after the first epoch of round 1, resume, end identically."""
    work_dir, _ = full_run
    stopped = tmp_path / 'stopped'
    train(stopped, tiny_data, 3, 2, options=['train_cfg.max_epochs=3'])
    assert (stopped / 'epoch_3.pth').is_file()
    assert not (stopped / 'pseudo_labels' / 'round_2.npz').exists()
    train(stopped, tiny_data, 3, 2, '--resume')
    for r in (1, 2):
        np.testing.assert_array_equal(
            load_labels(work_dir, r)[0],
            load_labels(stopped, r)[0])
    full = json.loads((work_dir / 'refinement_summary.json').read_text())
    resumed = json.loads((stopped / 'refinement_summary.json').read_text())
    assert [r['metrics'] for r in full['rounds']
            ] == [r['metrics'] for r in resumed['rounds']]
    a, b = state_dict(work_dir / 'round_2.pth'), state_dict(stopped /
                                                            'round_2.pth')
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
