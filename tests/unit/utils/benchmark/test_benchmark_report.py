# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``refineloc_mm.utils.benchmark.report``: targets against a reference
file, n/a without one, bad reference files refused (the command line,
``tools/benchmark.py``, runs in
``tests/integration/test_benchmark_tool.py``)."""

import pytest

from helpers.benchmark_figures import FIGURES, write_figures
from refineloc_mm.utils.benchmark import report as tool


def _results():
    stage = dict(median=1.0, first=1.0)
    return dict(
        train_epoch=dict(median=1.5),
        train_gflops=dict(median=323.0),
        regenerate=dict(stage),
        predict_train=dict(stage),
        generation=dict(median=0.0),
        test_forward=dict(median=0.3),
        post_processing=dict(median=0.05),
        map_thumos=dict(median=0.05, first=0.1),
        round_end=dict(median=1.4),
        benchmark_peak_rss_bytes=10**9)


SCHEDULE = dict(
    rounds=4,
    epochs=10,
    wall_s=95.0,
    peak_rss_largest_process_bytes=1.5e9,
    peak_pss_tree_bytes=1.2e9,
    best_round=2,
    best_map50=0.25,
    reference_map50=None)


def test_targets_against_the_reference(tmp_path):
    """Figures from the file the user passes; targets relative to them."""
    reference = tool.load_reference_results(
        str(write_figures(tmp_path / 'ref.json',
                           dict(FIGURES, schedule_map50=24.0))))
    assert reference['round_end'] == pytest.approx(0.44 + 0.69 + 0.11 +
                                                   0.81)
    res = _results()
    rows = {r['key']: r for r in tool.build_rows(res, reference)}
    assert rows['train_epoch']['met'] is True  # 1.5 <= 1.2 x 1.38
    assert rows['train_epoch']['ratio'] == pytest.approx(1.5 / 1.38)
    assert rows['round_end']['met'] is True
    res['train_epoch']['median'] = 1.7
    res['round_end']['median'] = 1.6
    rows = {r['key']: r for r in tool.build_rows(res, reference)}
    assert rows['train_epoch']['met'] is False
    assert rows['round_end']['met'] is False
    res['schedule'] = dict(SCHEDULE)
    rows = {r['key']: r for r in tool.build_rows(res, reference)}
    assert rows['schedule_wall']['met'] is False
    assert rows['schedule_wall']['reference'] == 269.0
    assert rows['schedule_peak_rss']['met'] is True
    assert rows['schedule_map50']['met'] is True
    assert rows['schedule_map50']['reference'] == 24.0
    assert rows['schedule_map50']['value'] == pytest.approx(25.0)


def test_without_reference_file_everything_is_na():
    """No constants: without --reference-results the reference column is
    n/a, targets relative to it are not checked (never "met"), and the
    summary counts them apart."""
    assert tool.load_reference_results(None) == {}
    res = _results()
    res['schedule'] = dict(SCHEDULE, wall_s=80.0)
    rows = tool.build_rows(res)
    assert all(r['reference'] is None and r['ratio'] is None for r in rows)
    by_key = {r['key']: r for r in rows}
    for key in ('train_epoch', 'schedule_peak_rss', 'schedule_map50'):
        assert by_key[key]['met'] is None, key
    assert by_key['round_end']['met'] is True  # < 1.6 s: absolute
    assert by_key['schedule_wall']['met'] is True  # < 90 s: absolute
    table = tool.markdown(rows, dict(
        cpu='x', cores=2, usable_cores=2, torch='t', torch_threads=2,
        device='cpu', load_average=[0.0], load_average_end=[0.0]), 'cmd')
    assert '| 1.500 s | n/a | n/a | <= 1.2 x ref (n/a: not checked) |' \
        in table
    assert ('Targets: 2 of 5 met, 0 not met, 3 not checked (n/a: one '
            'training epoch') in table


@pytest.mark.parametrize('content, message', [
    ('{"figures": {"train_epoch": 1.3, "epoch": 2}}', 'unknown figure '
     '"epoch"'),
    ('{"figures": {"train_epoch": "1.3 s"}}', 'figure "train_epoch" must '
     'be a positive number'),
    ('{"train_epoch": 1.3}', 'expected {"figures"'),
    ('{"figures": ', 'cannot read it'),
])
def test_bad_reference_file_is_refused(tmp_path, content, message):
    path = tmp_path / 'ref.json'
    path.write_text(content)
    with pytest.raises(SystemExit) as err:
        tool.load_reference_results(str(path))
    assert str(err.value).startswith(f'--reference-results {path}: ')
    assert message in str(err.value)
