# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Smoke test of tools/benchmark.py on a tiny synthetic set (every stage,
a 1 x 1 schedule, the ActivityNet-scale metric); the harness it drives,
:mod:`refineloc_mm.utils.benchmark`, is tested through the package in
``tests/unit/utils/benchmark/``."""
import json
import math
import shlex

import pytest

from helpers.benchmark_figures import FIGURES, write_figures
from helpers.runs import make_tiny_data, run_tool, tiny_options

REPEATS = 2
TRAIN_EPOCHS = 3
ROUND_END = ('regenerate', 'test_forward', 'post_processing', 'map_thumos')
TIMED = ('predict_train', ) + ROUND_END + ('map_anet', )
TABLE_KEYS = {
    'train_epoch', 'train_gflops', 'train_floor', 'regenerate',
    'predict_train',
    'generation', 'test_forward', 'post_processing', 'map_thumos',
    'map_thumos_first', 'round_end', 'map_anet', 'schedule_wall',
    'schedule_peak_rss', 'schedule_tree_pss', 'schedule_map50',
    'benchmark_peak_rss'
}


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) \
        and value > 0


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('benchmark_data')
    return make_tiny_data(root / 'data', num_train=10, num_test=6)


@pytest.fixture(scope='module')
def report(tmp_path_factory, tiny_data):
    root = tmp_path_factory.mktemp('benchmark')
    data = tiny_data
    out = root / 'out' / 'benchmark.json'
    figures = write_figures(root / 'reference.json', machine='same')
    proc = run_tool(
        'tools/benchmark.py', '--data-dir', data, '--repeats', REPEATS,
        '--reference-results', figures,
        '--train-epochs', TRAIN_EPOCHS, '--schedule-rounds', 1,
        '--schedule-epochs', 1, '--anet-metric', '--amp', '--out', out,
        '--work-dir', root / 'work', '--cfg-options', *tiny_options(data),
        timeout=300)
    return json.loads(out.read_text()), proc.stdout


def test_every_stage_is_measured(report):
    doc, _ = report
    stages = doc['stages']
    for name in ('train_epoch', 'train_gflops', 'train_floor', 'round_end'
                 ) + TIMED:
        assert _positive(stages[name]['median']), name
    for name in TIMED:
        samples = stages[name]['samples']
        assert len(samples) == REPEATS, name
        assert all(_positive(t) for t in samples), name
        assert stages[name]['median'] == pytest.approx(
            sum(samples) / REPEATS), name  # the median of two
    epochs = stages['train_epoch']['samples']
    assert len(epochs) == TRAIN_EPOCHS and all(_positive(t) for t in epochs)
    # the warm-up epoch is not part of the median
    assert stages['train_epoch']['warmup'] == epochs[0]
    assert stages['train_epoch']['median'] == pytest.approx(
        sum(epochs[1:]) / 2)
    assert stages['round_end']['median'] == pytest.approx(
        sum(stages[n]['median'] for n in ROUND_END))
    assert stages['generation']['median'] >= 0
    assert _positive(stages['benchmark_peak_rss_bytes'])


def test_flops_follow_the_model_and_the_split(report):
    doc, _ = report
    epoch = doc['stages']['train_epoch']
    train = doc['data']['train']
    assert epoch['videos'] == train['num_videos'] == 10
    assert epoch['snippets'] == train['num_snippets']
    # in_channels 32, 20 classes, k = 1, two layers (widths halve, at least
    # the output): cas 32 -> 20 -> 20, attention 32 -> 16 -> 1
    forward = 2 * (32 * 20 + 20 * 20 + 32 * 16 + 16 * 1)
    assert epoch['flops_per_snippet_forward'] == forward
    assert epoch['flops'] == 3 * forward * train['num_snippets']
    assert doc['stages']['train_gflops']['median'] == pytest.approx(
        epoch['flops'] / epoch['median'] / 1e9)


def test_round_end_details_and_metric_scale(report):
    doc, _ = report
    details = doc['stages']['round_end_details']
    assert details['test_videos'] == doc['data']['test']['num_videos'] == 6
    assert details['test_snippets'] == doc['data']['test']['num_snippets']
    assert set(details['test_metrics']) == {
        f'mAP@{t:g}'
        for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    } | {'average_mAP'}
    anet = doc['stages']['map_anet']
    assert anet['videos'] == 2303 and anet['predictions'] == 50000
    assert 3000 <= anet['ground_truth'] <= 4000
    assert 0 < anet['average_mAP'] < 1


def test_schedule(report):
    doc, _ = report
    sched = doc['stages']['schedule']
    assert (sched['rounds'], sched['epochs']) == (1, 1)
    assert _positive(sched['wall_s'])
    assert _positive(sched['peak_rss_largest_process_bytes'])
    assert _positive(sched['peak_pss_tree_bytes'])
    assert sched['best_round'] == 0
    assert 0 <= sched['best_map50'] <= 1
    assert list(sched['map50_per_round']) == ['0']
    # --amp reaches the schedule run as tools/train.py --amp
    assert doc['amp'] is True and '--amp' in shlex.split(sched['command'])


def test_table_and_json_agree(report):
    doc, stdout = report
    rows = {r['key']: r for r in doc['table']}
    assert set(rows) == TABLE_KEYS
    # a tiny set is not the reference's data: no reference, no verdicts
    # on the scale-bound targets
    assert doc['reference_applies'] is False
    assert doc['reference'] == pytest.approx(
        dict(FIGURES, round_end=0.44 + 0.69 + 0.11 + 0.81))
    assert doc['reference_results'].endswith('reference.json')
    assert rows['train_epoch']['reference'] is None
    assert rows['round_end']['met'] is None
    assert rows['map_anet']['met'] is not None
    assert rows['train_epoch']['value'] == doc['stages']['train_epoch'][
        'median']
    assert doc['markdown'] in stdout
    assert doc['markdown'].startswith(
        '| stage | this project (median) | reference | ratio | target |')
    for row in doc['table']:
        assert f'| {row["stage"]} |' in doc['markdown']
    machine = doc['machine']
    assert machine['device'] == 'cpu' and machine['torch_threads'] >= 1
    assert 'tools/benchmark.py' in doc['command']


def test_bad_arguments_are_refused():
    proc = run_tool(
        'tools/benchmark.py', '--train-epochs', 1, '--skip-schedule',
        check=False, timeout=120)
    assert proc.returncode == 2
    assert 'warm-up' in proc.stderr


def test_feature_reads(tiny_data, tmp_path):
    """tools/benchmark_feature_reads.py: both splits, both readings, the
    bytes of the configured stream and of whole datasets."""
    out = tmp_path / 'reads.json'
    proc = run_tool(
        'tools/benchmark_feature_reads.py', '--data-dir', tiny_data,
        '--repeats', 2, '--out', out, '--cfg-options',
        *tiny_options(tiny_data), timeout=300)
    doc = json.loads(out.read_text())
    assert set(doc['splits']) == {'train', 'test'}
    for split, videos in (('train', 10), ('test', 6)):
        r = doc['splits'][split]
        assert r['videos'] == videos and r['feature_width'] == 32
        part, whole = r['load_snippet_features'], r['whole_datasets']
        # stream 1 of two 32-d streams, float32
        assert part['bytes'] == r['snippets'] * 32 * 4
        assert whole['bytes'] == 2 * part['bytes']
        for m in (part, whole):
            assert len(m['samples']) == 2
            assert all(_positive(t) for t in m['samples'])
            assert m['mb_per_s'] == pytest.approx(
                m['bytes'] / 1e6 / m['median'])
        assert f'{split}: {videos} videos' in proc.stdout
