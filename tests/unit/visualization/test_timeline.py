# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Timelines drawn in process: no overlapping text on a long, dense video,
and the progress lines of a log (the tools and a tiny refinement run are
in ``tests/integration/test_visualization_tools.py``)."""
import numpy as np
from matplotlib.text import Text
from PIL import Image

from refineloc_mm.visualization import (TimelineData, plot_timeline,
                                        timeline_height)

DPI = 100
WIDTH = 16


def png_size(path):
    with Image.open(path) as im:
        im.load()
        pixels = np.asarray(im.convert('L'))
        return im.size, float(pixels.std())


def axes_by_label(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def five_minute_video(seed=0):
    """300 s, 2 classes, 100 dense predicted segments, 6 rounds."""
    rng = np.random.default_rng(seed)
    sps = 16 / 30
    t = int(300 / sps)

    def segments(n, c, lo, hi):
        start = np.sort(rng.uniform(0, 295, n))
        return np.stack(
            [start, start + rng.uniform(lo, hi, n),
             np.full(n, c)], axis=1)

    gt = np.concatenate([segments(25, 3, 1, 6), segments(15, 12, 1, 6)])
    pred = np.concatenate([segments(60, 3, .5, 4), segments(40, 12, .5, 3)])
    pred = np.concatenate([pred, rng.uniform(0.5, 2.9, (100, 1))], axis=1)
    return TimelineData(
        video_name='video_long',
        duration=300.,
        seconds_per_snippet=sps,
        num_snippets=t,
        gt_segments=gt,
        cas_softmax=rng.dirichlet(np.full(20, 0.3), t),
        foreground=rng.uniform(0, 1, t),
        video_score=rng.dirichlet(np.ones(20)),
        pred_segments=pred,
        pseudo_labels={r: rng.integers(-1, 2, t)
                       for r in range(1, 7)},
        min_cas_score=0.35,
        min_attention_score=0.5)


def drawn_texts(fig):
    """Every text artist of a figure that is drawn: tick labels only where
    the tick is inside the view (an axis keeps labels of ticks outside)."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(1., hi - lo)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
                if lo - eps <= tick.get_loc() <= hi + eps:
                    drawn += [tick.label1, tick.label2]
    drawn += [t for t in fig.findobj(Text) if id(t) not in ticks]
    return drawn


def test_no_overlapping_text_on_a_five_minute_video(tmp_path):
    data = five_minute_video()
    classes = [str(c) for c in range(20)]
    fig = plot_timeline(data, classes)
    path = tmp_path / 'long.png'
    fig.savefig(path, dpi=DPI)
    renderer = fig.canvas.get_renderer()
    texts = [
        t for t in drawn_texts(fig)
        if t.get_visible() and t.get_text().strip()
    ]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    overlaps = [(a, b) for i, (a, box_a) in enumerate(boxes)
                for b, box_b in boxes[i + 1:] if box_a.overlaps(box_b)]
    assert not overlaps
    scores = [t for t in texts if t.get_gid() == 'pred_score']
    assert 10 < len(scores) < len(data.pred_segments)  # thinned, not empty
    (width, height), std = png_size(path)
    assert (width, height) == (WIDTH * DPI,
                               round(timeline_height(data) * DPI))
    assert std > 0
    # legends name the classes
    legend = axes_by_label(fig)['gt'].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        'class 3', 'class 12'
    ]


def test_progress_in_a_log_prints_few_lines():
    import io

    from refineloc_mm.visualization import Progress, track_progress
    log = io.StringIO()
    assert list(track_progress(range(1000), desc='work', file=log)) == list(
        range(1000))
    lines = log.getvalue().splitlines()
    assert len(lines) == 11 and '\r' not in log.getvalue()
    assert lines[0].startswith('work: 0/1000 (0%)')
    assert lines[-1].startswith('work: 1000/1000 (100%)')
    # batches of several tasks, stopped early: the final count is printed
    log = io.StringIO()
    with Progress(14, file=log) as progress:
        progress.update(4)
        progress.update(3)
    lines = log.getvalue().splitlines()
    assert [line.split(' (')[0] for line in lines] == ['0/14', '4/14', '7/14']
    assert lines[-1].startswith('7/14 (50%)')
    # a terminal gets mmengine's bar; disabled prints nothing
    term = io.StringIO()
    with Progress(3, desc='bar', file=term, interactive=True) as progress:
        progress.update(3)
    assert '3/3' in term.getvalue() and '\r' in term.getvalue()
    quiet = io.StringIO()
    list(track_progress(range(5), file=quiet, enabled=False))
    assert quiet.getvalue() == ''


def test_pseudo_labels_on_the_raw_grid_of_a_resampled_video():
    """A model that reads 8 resampled snippets of 4 s (ResampleSnippets)
    is trained with labels on the 32 raw snippets of 1 s: the labels'
    track is drawn on the raw grid (a foreground run of raw snippets
    10-13 is the bar [10 s, 14 s]), not on the resampled one."""
    from refineloc_mm.datasets.transforms import (PackSnippetInputs,
                                                  ResampleSnippets)
    results = dict(features=np.zeros((32, 4), np.float32), num_snippets=32,
                   snippet_size=16, fps=16., video_name='v', duration=32.,
                   labels=[0], num_classes=2, gt_segments=np.zeros((0, 3)))
    results['test_mode'] = True
    sample = PackSnippetInputs()(ResampleSnippets(num_segments=8)(results))
    meta = sample['data_samples'].metainfo
    assert (meta['num_snippets'], meta['snippet_size']) == (8, 64)
    assert (meta['raw_num_snippets'], meta['raw_snippet_size']) == (32, 16)

    labels = np.zeros(32, np.int64)
    labels[10:14] = 1
    data = TimelineData(
        video_name='v', duration=32., seconds_per_snippet=4.,
        num_snippets=8, pseudo_labels={1: labels},
        label_num_snippets=meta['raw_num_snippets'],
        label_seconds_per_snippet=meta['raw_snippet_size'] / meta['fps'])
    assert data.label_grid == (32, 1.)
    fig = plot_timeline(data, [str(c) for c in range(2)])
    fg, = fig.findobj(lambda a: a.get_gid() == 'pseudo_round_1_fg')
    v = fg.get_paths()[0].vertices
    np.testing.assert_allclose([v[:, 0].min(), v[:, 0].max()], [10., 14.])
