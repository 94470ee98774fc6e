# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Timelines, per-round curves and visual logging on a tiny synthetic run:
the tools write PNGs of the expected size, the tracks are drawn from the
right data (read back from the artists), the analysis lists every round."""
import csv
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.runs import (REFINED_ROUNDS, REPO, SYNTHETIC_CONFIG,
                          refined_options, run_tool, tiny_options)
from refineloc_mm.visualization import (class_color,
                                        plot_refinement_curves,
                                        timeline_height)
CONFIG = str(REPO / SYNTHETIC_CONFIG)
DPI = 100
WIDTH = 16


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path):
    with Image.open(path) as im:
        im.load()
        pixels = np.asarray(im.convert('L'))
        return im.size, float(pixels.std())


def axes_by_label(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def artist(fig, gid):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, f'{len(found)} artists with gid {gid}'
    return found[0]


def bar_ranges(collection):
    """(x0, x1, y_center) of every bar of a broken_barh collection."""
    out = []
    for path in collection.get_paths():
        v = path.vertices
        out.append((v[:, 0].min(), v[:, 0].max(),
                    (v[:, 1].min() + v[:, 1].max()) / 2))
    return sorted(out)


def runs_of(mask):
    """(start, end) snippet index pairs of the True runs of ``mask``."""
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.diff(padded)
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))


@pytest.fixture
def vis_run(refined_run):
    """The shared run (tests/integration/conftest.py): rounds 0 to 2 with
    a timeline of one video per round."""
    assert any(o.endswith('.num_timeline_videos=1')
               for o in refined_options(''))
    return refined_run


ROUNDS = list(range(REFINED_ROUNDS))


def tool_args(tiny_data, work_dir, *extra):
    return [CONFIG, str(work_dir / 'round_1.pth'), *extra,
            '--cfg-options', *tiny_options(tiny_data)]


def train_csv(tiny_data):
    return Path(tiny_data) / 'synthetic_valid_groundtruth.csv'


def test_hook_sends_rounds_to_visualizer(vis_run, tiny_data):
    work_dir, proc = vis_run
    vis_data, = work_dir.glob('*/vis_data')
    # per-round metrics and label statistics, the round as step
    records = [
        json.loads(line)
        for line in (vis_data / 'scalars.json').read_text().splitlines()
    ]
    by_round = {}
    for rec in records:
        if 'refinement/mAP@0.5' in rec:
            by_round[rec['step']] = rec
    assert sorted(by_round) == ROUNDS
    summary = json.loads((work_dir / 'refinement_summary.json').read_text())
    for entry in summary['rounds']:
        rec = by_round[entry['round']]
        for key, value in entry['metrics'].items():
            assert rec[f'refinement/{key}'] == pytest.approx(value)
    assert by_round[0]['refinement/pgt_coverage'] == 0
    assert by_round[1]['refinement/pgt_coverage'] > 0
    # the timeline of the first training video after each round
    with open(train_csv(tiny_data)) as f:
        first = next(csv.DictReader(f))['video-name']
    for r in ROUNDS:
        path = vis_data / 'vis_image' / 'timeline' / f'{first}_{r}.png'
        (width, height), std = png_size(path)
        assert width == WIDTH * DPI and height > 300 and std > 0
    # progress bar of the regeneration pass over the 14 training videos
    assert '14/14' in proc.stdout


def test_visualize_tool_writes_pngs(vis_run, tiny_data):
    work_dir, _ = vis_run
    proc = run_tool('tools/visualize.py',
                    *tool_args(tiny_data, work_dir, '--videos', 2))
    written = proc.stdout.split()
    assert len(written) == 2
    for path in written:
        assert Path(path).parent == work_dir / 'timelines' / 'train'
        (width, height), std = png_size(path)
        assert width == WIDTH * DPI and height > 300 and std > 0


@pytest.fixture(scope='module')
def visualize():
    return load_tool('visualize')


def planted_work_dir(work_dir, tmp_path, names, lengths):
    """A copy of the run whose pseudo labels of the first video follow a
    known pattern in rounds 1 and 2."""
    out = tmp_path / 'run'
    shutil.copytree(work_dir / 'pseudo_labels', out / 'pseudo_labels')
    t = int(lengths[0])
    pattern = {1: np.zeros(t, np.int8), 2: np.full(t, -1, np.int8)}
    pattern[1][3:9] = 1
    pattern[1][12:14] = -1
    pattern[2][::3] = 1
    pattern[2][1::3] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for r, first in pattern.items():
        labels = np.zeros(offsets[-1], np.int8)
        labels[:t] = first
        np.savez_compressed(
            out / 'pseudo_labels' / f'round_{r}.npz',
            labels=labels,
            offsets=offsets,
            video_names=np.array(names))
    return out, pattern


def test_tracks_come_from_the_right_data(vis_run, tiny_data, tmp_path,
                                         visualize):
    work_dir, _ = vis_run
    with np.load(work_dir / 'pseudo_labels' / 'round_1.npz') as f:
        names = [str(n) for n in f['video_names']]
        lengths = np.diff(f['offsets'])
    run_dir, pattern = planted_work_dir(work_dir, tmp_path, names, lengths)
    args = visualize.parse_args(
        tool_args(tiny_data, work_dir, '--video-names', names[0],
                  '--work-dir', str(run_dir)))
    num, figures = visualize.timelines(args)
    assert num == 1
    data, fig = next(figures)
    assert data.video_name == names[0]
    sps = data.seconds_per_snippet
    axes = axes_by_label(fig)
    assert list(axes) == ['gt', 'pseudo', 'cas', 'attention', 'pred']

    # pseudo labels: one row per round, each run of a value where planted
    ax = axes['pseudo']
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        'round 1', 'round 2'
    ]
    for row, (r, labels) in enumerate(sorted(pattern.items())):
        for value, gid in ((1, 'fg'), (0, 'bg'), (-1, 'ignore')):
            bars = bar_ranges(artist(fig, f'pseudo_round_{r}_{gid}'))
            expected = [(s * sps, e * sps, row)
                        for s, e in runs_of(labels == value)]
            np.testing.assert_allclose(
                np.array(bars).reshape(-1, 3),
                np.array(expected, dtype=float).reshape(-1, 3),
                atol=1e-9)

    # ground truth: the CSV's segments of the video, in the class colour
    classes = [str(c) for c in range(20)]
    with open(train_csv(tiny_data)) as f:
        rows = [r for r in csv.DictReader(f) if r['video-name'] == names[0]]
    gt_classes = sorted({classes.index(r['label']) for r in rows})
    for row, c in enumerate(gt_classes):
        coll = artist(fig, f'gt_class_{c}')
        expected = sorted((float(r['t-start']), float(r['t-end']), row)
                          for r in rows if classes.index(r['label']) == c)
        np.testing.assert_allclose(bar_ranges(coll), expected, atol=1e-6)
        np.testing.assert_allclose(coll.get_facecolor()[0], class_color(c))

    # attention: the model's foreground per snippet, the inference threshold
    line = artist(fig, 'foreground')
    np.testing.assert_allclose(line.get_xdata()[:-1],
                               np.arange(data.num_snippets) * sps)
    np.testing.assert_allclose(line.get_ydata()[:-1], data.foreground)
    threshold = artist(fig, 'attention_threshold')
    assert threshold.get_ydata()[0] == pytest.approx(0.5)
    # predictions: the post-processor's segments, one row per class
    pred = data.pred_segments
    for c in np.unique(pred[:, 2]).astype(int):
        bars = bar_ranges(artist(fig, f'pred_class_{c}'))
        np.testing.assert_allclose(
            [b[:2] for b in bars],
            sorted(map(tuple, pred[pred[:, 2] == c][:, :2])))

    # the PNG has the size of the layout
    path = tmp_path / 'timeline.png'
    fig.savefig(path, dpi=DPI)
    (width, height), _ = png_size(path)
    assert (width, height) == (WIDTH * DPI,
                               round(timeline_height(data) * DPI))


def test_test_split_has_no_pseudo_track(vis_run, tiny_data, visualize):
    work_dir, _ = vis_run
    args = visualize.parse_args(
        tool_args(tiny_data, work_dir, '--split', 'test', '--videos', '1'))
    _, figures = visualize.timelines(args)
    data, fig = next(figures)
    assert 'test' in data.video_name and data.pseudo_labels is None
    assert 'pseudo' not in axes_by_label(fig)
    assert not fig.findobj(
        lambda a: str(a.get_gid()).startswith('pseudo_round'))


def fake_summary():
    rounds = []
    for r in range(6):
        entry = dict(round=r, end_epoch=10 * (r + 1))
        entry['pseudo_labels_used'] = dict(coverage=0.0) if r == 0 else dict(
            fg_precision=0.4 + 0.05 * r,
            fg_recall=0.7 - 0.02 * r,
            coverage=0.7,
            w_fg=0.3)
        if r != 4:  # a round without validation
            maps = {f'mAP@{t}': (0.3 - t / 2) * (1 + 0.1 * r)
                    for t in (0.1, 0.3, 0.5)}
            entry['metrics'] = dict(
                maps, average_mAP=float(np.mean(list(maps.values()))))
        rounds.append(entry)
    return dict(best_metric='mAP@0.5', best_round=5, rounds=rounds)


def test_analyze_refinement(tmp_path, monkeypatch):
    summary = fake_summary()
    (tmp_path / 'refinement_summary.json').write_text(json.dumps(summary))
    proc = run_tool('tools/analyze_refinement.py', tmp_path)
    rows = [
        line for line in proc.stdout.splitlines()
        if line.startswith('| ') and not line.startswith('| round')
    ]
    assert [row.split('|')[1].split()[0] for row in rows
            ] == [str(r['round']) for r in summary['rounds']]
    assert '| 5 (best) |' in proc.stdout
    assert rows[4].split('|')[2].strip() == '-'  # no metrics in round 4
    (width, height), std = png_size(tmp_path / 'refinement_curves.png')
    assert (width, height) == (1200, 450) and std > 0

    # --out, in process
    tool = load_tool('analyze_refinement')
    out = tmp_path / 'sub' / 'curves.png'
    monkeypatch.setattr(sys, 'argv', [
        'analyze_refinement.py',
        str(tmp_path), '--out', str(out)
    ])
    tool.main()
    assert png_size(out)[0] == (1200, 450)

    # the curves hold the summary's values, gaps where a round has none
    fig = plot_refinement_curves(summary)
    line = artist(fig, 'map_mAP@0.5')
    np.testing.assert_array_equal(line.get_xdata(), np.arange(6))
    expected = [
        100 * r['metrics']['mAP@0.5'] if 'metrics' in r else np.nan
        for r in summary['rounds']
    ]
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert fig.findobj(lambda a: a.get_gid() == 'average_mAP')
    recall = artist(fig, 'pgt_fg_recall').get_ydata()
    assert np.isnan(recall[0])  # round 0 has no pseudo labels
    np.testing.assert_allclose(recall[1:],
                               [100 * (0.7 - 0.02 * r) for r in range(1, 6)])
