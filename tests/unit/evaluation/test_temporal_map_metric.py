# Copyright (c) refineloc-mm contributors. All rights reserved.
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmaction.evaluation.functional.eval_detection import (
    compute_average_precision_detection,
)
from mmaction.registry import METRICS

from refineloc_mm.evaluation import TemporalmAP, temporal_detection_ap

CLASSES = ['a', 'b', 'c']


def _sample(name: str, preds: list[list], gts: list[list]) -> dict:
    return {
        'video_name': name,
        'pred_segments': np.asarray(preds, dtype=np.float64).reshape(-1, 4),
        'gt_segments': np.asarray(gts, dtype=np.float64).reshape(-1, 3),
    }


def _evaluate(samples: list[dict], **kwargs) -> dict[str, float]:
    metric = TemporalmAP(**kwargs)
    metric.dataset_meta = {'classes': CLASSES}
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_parity_with_reference_evaluator(reference_dir):
    ref = reference_dir
    fixture = json.loads(
        (ref / 'reference_fixtures.json').read_text())['eval']
    class_index = {name: i for i, name in enumerate(fixture['classes'])}
    gt_rows = _read_csv(ref / 'eval_groundtruth.csv')
    pred_rows = _read_csv(ref / 'eval_predictions.csv')
    videos = list(
        dict.fromkeys([r['video-name'] for r in gt_rows + pred_rows]))
    samples = []
    for video in videos:
        preds = [[
            float(r['t-start']),
            float(r['t-end']), class_index[r['label']],
            float(r['score'])
        ] for r in pred_rows if r['video-name'] == video]
        gts = [[
            float(r['t-start']),
            float(r['t-end']), class_index[r['label']]
        ] for r in gt_rows if r['video-name'] == video]
        samples.append(_sample(video, preds, gts))

    metric = TemporalmAP(tiou_thresholds=fixture['tiou_thresholds'])
    metric.dataset_meta = {'classes': fixture['classes']}
    metric.process({}, samples)
    metrics = metric.evaluate(len(samples))

    assert list(metrics) == [f'mAP@{t:g}' for t in fixture['tiou_thresholds']
                             ] + ['average_mAP']
    for thr, expected in zip(fixture['tiou_thresholds'],
                             fixture['mAP_per_tiou']):
        assert metrics[f'mAP@{thr:g}'] == pytest.approx(expected, abs=1e-6)
    assert metrics['average_mAP'] == pytest.approx(
        fixture['average_mAP'], abs=1e-6)


def test_perfect_predictions_give_one():
    samples = [
        _sample('v0', [[1, 5, 0, 0.9], [10, 12, 1, 0.3]],
                [[1, 5, 0], [10, 12, 1]]),
        _sample('v1', [[0, 3, 2, 0.5]], [[0, 3, 2]]),
    ]
    metrics = _evaluate(samples)
    assert all(value == 1.0 for value in metrics.values())


def test_empty_predictions_give_zero():
    samples = [
        _sample('v0', [], [[1, 5, 0]]),
        {
            'video_name': 'v1',
            'pred_segments': torch.zeros((0, 4)),
            'gt_segments': torch.tensor([[2., 4., 1.]]),
        },
    ]
    metrics = _evaluate(samples)
    assert all(value == 0.0 for value in metrics.values())


def test_multi_label_video_counts_in_both_classes():
    # v0 carries classes 0 and 1; only the class-0 instance is found.
    samples = [_sample('v0', [[1, 5, 0, 0.9]], [[1, 5, 0], [6, 9, 1]])]
    metrics = _evaluate(samples, tiou_thresholds=(0.5, ))
    assert metrics['mAP@0.5'] == pytest.approx(0.5)
    # Finding both instances gives 1.
    samples = [
        _sample('v0', [[1, 5, 0, 0.9], [6, 9, 1, 0.2]],
                [[1, 5, 0], [6, 9, 1]])
    ]
    metrics = _evaluate(samples, tiou_thresholds=(0.5, ))
    assert metrics['mAP@0.5'] == pytest.approx(1.0)


def test_classes_without_ground_truth_are_ignored():
    # Class 2 has predictions but no ground truth: it must not enter the mean.
    samples = [_sample('v0', [[1, 5, 0, 0.9], [1, 5, 2, 0.95]], [[1, 5, 0]])]
    metrics = _evaluate(samples, tiou_thresholds=(0.5, ))
    assert metrics['mAP@0.5'] == pytest.approx(1.0)


def test_video_classes_only_removes_the_classification_error(tmp_path):
    """``video_classes_only``: a prediction of class 0 in v1, which has
    only class 1, outranks v0's true class-0 segment; the diagnostic drops
    it (the localization alone), the benchmark metric and the dump keep
    it."""
    samples = [
        _sample('v0', [[1, 5, 0, 0.5]], [[1, 5, 0]]),
        _sample('v1', [[2, 6, 0, 0.9], [2, 6, 1, 0.8]], [[2, 6, 1]]),
    ]
    plain = _evaluate(samples, tiou_thresholds=(0.5, ))
    assert plain['mAP@0.5'] == pytest.approx((0.5 + 1.0) / 2)
    out = tmp_path / 'dump.json'
    diag = _evaluate(samples, tiou_thresholds=(0.5, ),
                     video_classes_only=True, results_file=str(out))
    assert diag['mAP@0.5'] == pytest.approx(1.0)
    assert len(json.loads(out.read_text())['results']['v1']) == 2
    # through evaluate() (what the Runner calls) the diagnostic's names
    # cannot be read as the benchmark's mAP@0.5 (a best_metric, say)
    metric = TemporalmAP(tiou_thresholds=(0.5, ), video_classes_only=True)
    metric.dataset_meta = {'classes': CLASSES}
    metric.process({}, samples)
    named = metric.evaluate(len(samples))
    assert 'mAP@0.5' not in named
    assert named['video_classes_only/mAP@0.5'] == pytest.approx(1.0)
    metric = TemporalmAP(tiou_thresholds=(0.5, ))
    metric.dataset_meta = {'classes': CLASSES}
    metric.process({}, samples)
    assert metric.evaluate(len(samples))['mAP@0.5'] == pytest.approx(0.75)


def test_duplicated_detection_is_a_false_positive():
    # Ranked: v0 TP (P=1, R=.5), v0 duplicate FP (P=.5), v1 TP (P=2/3, R=1).
    samples = [
        _sample('v0', [[1, 5, 0, 0.9], [1, 5, 0, 0.8]], [[1, 5, 0]]),
        _sample('v1', [[2, 6, 0, 0.7]], [[2, 6, 0]]),
    ]
    metrics = _evaluate(samples, tiou_thresholds=(0.5, ))
    assert metrics['mAP@0.5'] == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_threshold_keys_and_tensor_inputs():
    samples = [
        {
            'video_name': 'v0',
            'pred_segments': torch.tensor([[0., 2., 0., 0.5]]),
            'gt_segments': torch.tensor([[0., 4., 0.]]),
        },
    ]
    # tIoU is exactly 0.5: a match at 0.5, a miss at 0.55.
    metrics = _evaluate(samples, tiou_thresholds=np.linspace(0.5, 0.95, 10))
    assert list(metrics)[:3] == ['mAP@0.5', 'mAP@0.55', 'mAP@0.6']
    assert metrics['mAP@0.5'] == 1.0 and metrics['mAP@0.55'] == 0.0
    assert metrics['average_mAP'] == pytest.approx(0.1)


def test_registry_build():
    metric = METRICS.build(
        {'type': 'TemporalmAP', 'tiou_thresholds': (0.3, 0.5)})
    assert isinstance(metric, TemporalmAP)
    assert metric.tiou_thresholds == (0.3, 0.5)


def test_results_file(tmp_path):
    out_file = tmp_path / 'sub' / 'results.json'
    samples = [
        _sample('v0', [[1, 5, 0, 0.9], [6, 8, 2, 0.25]], [[1, 5, 0]]),
        _sample('v1', [], [[2, 3, 1]]),
    ]
    _evaluate(samples, results_file=str(out_file))
    data = json.loads(out_file.read_text())
    assert data['version'] == 'VERSION 1.3'
    assert data['external_data'] == {'used': False, 'details': ''}
    assert set(data['results']) == {'v0', 'v1'}
    assert data['results']['v1'] == []
    assert data['results']['v0'] == [
        {'label': 'a', 'score': 0.9, 'segment': [1.0, 5.0]},
        {'label': 'c', 'score': 0.25, 'segment': [6.0, 8.0]},
    ]
    assert [p.name for p in out_file.parent.iterdir()] == ['results.json']


def _random_case(rng: np.random.Generator, num_videos: int = 25,
                 num_classes: int = 4) -> list[dict]:
    """Random videos with duplicated ground truth (tIoU ties), duplicated
    and jittered detections, and scores on a coarse grid (score ties)."""
    samples = []
    for v in range(num_videos):
        gts = []
        for _ in range(rng.integers(0, 5)):
            start = rng.uniform(0, 90)
            seg = [start, start + rng.uniform(1, 15), rng.integers(0, 3)]
            gts.append(seg)
            if rng.random() < 0.25:
                gts.append(list(seg))
        preds = []
        for start, end, label in gts:
            for _ in range(rng.integers(0, 4)):
                jitter = rng.normal(0, 0.15 * (end - start), 2)
                lab = label if rng.random() < 0.85 else rng.integers(0, 4)
                preds.append(
                    [start + jitter[0], end + jitter[1], lab,
                     rng.random()])
        for _ in range(rng.integers(0, 4)):
            start = rng.uniform(0, 90)
            preds.append([
                start, start + rng.uniform(0.5, 20),
                rng.integers(0, num_classes),
                rng.random()
            ])
        preds += [list(p) for p in preds if rng.random() < 0.2]
        preds = np.asarray(preds, dtype=np.float64).reshape(-1, 4)
        preds[:, 3] = np.round(preds[:, 3], 1)
        samples.append(_sample(f'v{v}', preds, gts))
    return samples


def _mmaction_ap(samples: list[dict], thresholds: np.ndarray) -> np.ndarray:
    """mmaction2's per-class loop over the ground-truth classes."""
    classes = sorted({
        int(g[2])
        for s in samples for g in s['gt_segments']
    })
    ap = []
    for c in classes:
        gts = [
            {'video-id': s['video_name'], 't-start': g[0], 't-end': g[1]}
            for s in samples for g in s['gt_segments'] if g[2] == c
        ]
        preds = [{
            'video-id': s['video_name'],
            't-start': p[0],
            't-end': p[1],
            'score': p[3]
        } for s in samples for p in s['pred_segments'] if p[2] == c]
        ap.append(compute_average_precision_detection(gts, preds, thresholds))
    return np.stack(ap, axis=1)


def _flatten(samples: list[dict]) -> tuple:
    preds = [s['pred_segments'] for s in samples]
    gts = [s['gt_segments'] for s in samples]
    pred_videos = np.repeat(np.arange(len(samples)), [len(p) for p in preds])
    gt_videos = np.repeat(np.arange(len(samples)), [len(g) for g in gts])
    preds, gts = np.concatenate(preds), np.concatenate(gts)
    return (pred_videos, preds[:, 2], preds[:, :2], preds[:, 3], gt_videos,
            gts[:, 2], gts[:, :2])


@pytest.mark.parametrize('seed', range(6))
def test_vectorized_equals_mmaction2(seed):
    rng = np.random.default_rng(seed)
    samples = _random_case(rng)
    # Exact tIoU ties with the threshold and between identical ground truth:
    # [0, 2] against [0, 4] has tIoU 0.5 exactly.
    samples.append(
        _sample('exact', [[0, 2, 0, 0.5], [0, 2, 0, 0.5], [0, 4, 0, 0.5]],
                [[0, 4, 0], [0, 4, 0], [1, 3, 0]]))
    thresholds = np.r_[np.linspace(0.1, 0.9, 9), 0.25, 0.75, 0.95]
    ap, classes = temporal_detection_ap(
        *_flatten(samples), tiou_thresholds=thresholds)
    expected = _mmaction_ap(samples, thresholds)
    assert classes.tolist() == sorted({
        int(g[2])
        for s in samples for g in s['gt_segments']
    })
    np.testing.assert_allclose(ap, expected, rtol=0, atol=1e-12)
    # The case is not trivial: some, but not all, detections match.
    assert 0 < expected.mean() < 1

    metric = TemporalmAP(tiou_thresholds=thresholds)
    metric.process({}, samples)
    metrics = metric.compute_metrics(metric.results)
    np.testing.assert_allclose(
        list(metrics.values())[:-1], expected.mean(axis=1), atol=1e-12)
