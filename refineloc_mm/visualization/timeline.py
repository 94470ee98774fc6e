# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Per-video timeline of a RefineLoc model and its refinement.

One figure per video, time in seconds on the x-axis, stacked tracks that
share it:

1. **ground truth** - one row per annotated class, segments in the class
   colour;
2. **pseudo labels** - one row per refinement round, the labels that
   supervised that round (foreground / background / ignored), read from
   ``WORK_DIR/pseudo_labels/round_{r}.npz`` (training split only);
3. **class activation** - the class probabilities of the top classes by
   video score, with the inference threshold alpha_C;
4. **foreground attention** - a_t with the inference threshold alpha_A;
5. **predictions** - the predicted segments, one row per class, opacity by
   score, with score labels placed so that none overlaps another.

Snippet ``t`` covers ``[t * s / fps, (t + 1) * s / fps)`` seconds.
"""
import glob
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from .palette import class_color, class_display_name
from ..models.utils.snippet_ops import snippet_durations

PSEUDO_COLORS = {1: '#2b2b2b', 0: '#9ecae1', -1: '#ffffff'}
PSEUDO_NAMES = {1: 'foreground', 0: 'background', -1: 'ignored'}
PSEUDO_GID = {1: 'fg', 0: 'bg', -1: 'ignore'}

# heights in inches
_TITLE_H = 0.6
_AXIS_H = 0.45
_TRACK_TITLE_H = 0.28
_ROW_H = 0.3
_ROUND_ROW_H = 0.2
_LEGEND_ROW_H = 0.19
_CAS_H = 1.5
_ATT_H = 1.15


@dataclass
class TimelineData:
    """Everything drawn for one video.

    Args:
        video_name (str): Name of the video.
        duration (float): Duration in seconds.
        seconds_per_snippet (float): ``snippet_size / fps``.
        num_snippets (int): T.
        gt_segments (np.ndarray): [G, 3] ``(t_start, t_end, class)``.
        cas_softmax (np.ndarray, optional): [T, N] class probabilities.
        foreground (np.ndarray, optional): [T] foreground scores a_t.
        video_score (np.ndarray, optional): [N] video scores y-hat.
        pred_segments (np.ndarray, optional): [M, 4]
            ``(t_start, t_end, class, score)``.
        pseudo_labels (dict, optional): round -> [T] labels in {-1, 0, 1}
            that supervised that round. None hides the track (test split);
            an empty dict shows it empty (no labels saved yet).
        min_cas_score (float, optional): Inference alpha_C.
        min_attention_score (float, optional): Inference alpha_A.
        subtitle (str): Appended to the figure title.
        label_num_snippets (int, optional): Length of the pseudo labels'
            grid, the raw snippets, when the model reads resampled ones
            (:class:`ResampleSnippets`); None: ``num_snippets``.
        label_seconds_per_snippet (float, optional): Seconds of one raw
            snippet in that case; None: ``seconds_per_snippet``.
    """
    video_name: str
    duration: float
    seconds_per_snippet: float
    num_snippets: int
    gt_segments: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 3)))
    cas_softmax: Optional[np.ndarray] = None
    foreground: Optional[np.ndarray] = None
    video_score: Optional[np.ndarray] = None
    pred_segments: Optional[np.ndarray] = None
    pseudo_labels: Optional[Dict[int, np.ndarray]] = None
    min_cas_score: Optional[float] = None
    min_attention_score: Optional[float] = None
    subtitle: str = ''
    label_num_snippets: Optional[int] = None
    label_seconds_per_snippet: Optional[float] = None

    @property
    def label_grid(self) -> Tuple[int, float]:
        """``(snippets, seconds per snippet)`` of the pseudo labels."""
        return (self.label_num_snippets or self.num_snippets,
                self.label_seconds_per_snippet or self.seconds_per_snippet)


# ----------------------------------------------------------------- data
def load_pseudo_label_rounds(work_dir: str) -> Dict[int, Dict]:
    """Read every ``work_dir/pseudo_labels/round_{r}.npz``.

    Returns:
        dict: round -> dict(labels [sum T] int8, offsets [V + 1],
        index: video name -> position). Empty when none were saved.
    """
    rounds = {}
    pattern = osp.join(work_dir, 'pseudo_labels', 'round_*.npz')
    for path in glob.glob(pattern):
        match = re.fullmatch(r'round_(\d+)\.npz', osp.basename(path))
        if match is None:
            continue
        with np.load(path) as f:
            labels, offsets = f['labels'], f['offsets']
            names = [str(n) for n in f['video_names']]
        if len(offsets) != len(names) + 1 or offsets[-1] != len(labels):
            raise ValueError(f'{path}: inconsistent labels/offsets/'
                             'video_names.')
        rounds[int(match.group(1))] = dict(
            labels=labels,
            offsets=offsets,
            index={n: i
                   for i, n in enumerate(names)},
            path=path)
    return dict(sorted(rounds.items()))


def video_pseudo_labels(rounds: Dict[int, Dict],
                        video_name: str,
                        num_snippets: Optional[int] = None
                        ) -> Dict[int, np.ndarray]:
    """The [T] labels of one video in every saved round that has it.

    Raises:
        ValueError: If a round's labels of the video do not have
            ``num_snippets`` entries (labels of another dataset).
    """
    out = {}
    for r, doc in rounds.items():
        i = doc['index'].get(video_name)
        if i is None:
            continue
        labels = doc['labels'][doc['offsets'][i]:doc['offsets'][i + 1]]
        if num_snippets is not None and len(labels) != num_snippets:
            raise ValueError(
                f'{doc["path"]}: video "{video_name}" has {len(labels)} '
                f'pseudo labels but {num_snippets} snippets; are these the '
                'labels of this dataset?')
        out[r] = np.asarray(labels, dtype=np.int64)
    return out


@torch.no_grad()
def score_videos(model: torch.nn.Module,
                 dataset,
                 indices: Sequence[int],
                 batch_size: int = 8) -> List[TimelineData]:
    """Run a base model (RefineLoc, W-TALC, BaS-Net, ...) on some videos
    of a snippet dataset.

    Uses the base-model contract, ``model.snippet_scores`` and the model's
    own ``post_process`` (the inference thresholds), exactly as
    ``predict`` does; the foreground track is drawn where the model has a
    foreground score. The model's training mode is restored afterwards; no
    random number is drawn.

    Returns:
        list[TimelineData]: Without pseudo labels.
    """
    from mmengine.dataset import pseudo_collate

    from ..models.scoring import score_split
    post = getattr(model.cls_head, 'post_processor', None)
    batches = (pseudo_collate([dataset[int(i)]
                               for i in indices[b:b + batch_size]])
               for b in range(0, len(indices), batch_size))
    out: List[TimelineData] = []
    for scores, samples in score_split(model, batches):
        segments = model.post_process(scores, samples)
        sps = snippet_durations(samples)
        foreground = scores.get('foreground')
        for j, ds in enumerate(samples):
            meta = ds.metainfo
            t = int(meta['num_snippets'])
            # resampled input (ResampleSnippets): the labels' raw grid
            raw_t = meta.get('raw_num_snippets')
            out.append(
                TimelineData(
                    video_name=meta['video_name'],
                    duration=float(meta['duration']),
                    seconds_per_snippet=sps[j],
                    num_snippets=t,
                    gt_segments=np.asarray(ds.gt_segments,
                                           dtype=np.float64).reshape(-1, 3),
                    cas_softmax=scores['cas_softmax'][j, :t].float().cpu(
                    ).numpy(),
                    foreground=None if foreground is None else
                    foreground[j, :t].float().cpu().numpy(),
                    video_score=scores['video_score'][j].float().cpu(
                    ).numpy(),
                    pred_segments=np.asarray(segments[j]).reshape(-1, 4),
                    min_cas_score=getattr(post, 'min_cas_score', None),
                    min_attention_score=getattr(post, 'min_attention_score',
                                                None),
                    label_num_snippets=None if raw_t is None else int(raw_t),
                    label_seconds_per_snippet=None if raw_t is None else
                    meta['raw_snippet_size'] / meta['fps']))
    return out


# ---------------------------------------------------------------- layout
def _runs(values: np.ndarray, target: int) -> Tuple[np.ndarray, np.ndarray]:
    """Start index and length of every run of ``values == target``."""
    hit = np.concatenate([[False], np.asarray(values) == target, [False]])
    edges = np.diff(hit.astype(np.int8))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]
    return starts, ends - starts


def _gt_classes(data: TimelineData) -> List[int]:
    return sorted({int(c) for c in data.gt_segments[:, 2]})


def _pred_classes(data: TimelineData) -> List[int]:
    """Predicted classes, best video score first."""
    if data.pred_segments is None or not len(data.pred_segments):
        return []
    classes = list(dict.fromkeys(int(c) for c in data.pred_segments[:, 2]))
    if data.video_score is not None:
        classes.sort(key=lambda c: -float(data.video_score[c]))
    return classes


def _shown_rounds(pseudo: Dict[int, np.ndarray],
                  max_rounds: int) -> List[int]:
    """All rounds, or ``max_rounds`` evenly spread ones (first and last
    always kept)."""
    rounds = sorted(pseudo)
    if len(rounds) <= max_rounds:
        return rounds
    pick = np.unique(np.linspace(0, len(rounds) - 1, max_rounds).round())
    return [rounds[int(i)] for i in pick]


def _band(rows: int, legend_entries: int) -> float:
    return _TRACK_TITLE_H + max(0.3 + _ROW_H * max(rows, 1),
                                0.15 + _LEGEND_ROW_H * legend_entries)


def _track_heights(data: TimelineData, top_classes: int,
                   max_pseudo_rounds: int) -> List[Tuple[str, float]]:
    gt = _gt_classes(data)
    tracks = [('gt', _band(len(gt), len(gt)))]
    if data.pseudo_labels is not None:
        n = len(_shown_rounds(data.pseudo_labels, max_pseudo_rounds))
        tracks.append(('pseudo', _TRACK_TITLE_H + max(
            0.3 + _ROUND_ROW_H * max(n, 1), 0.15 + _LEGEND_ROW_H * 3)))
    if data.cas_softmax is not None:
        k = min(top_classes, data.cas_softmax.shape[1])
        tracks.append(('cas', max(_CAS_H, _TRACK_TITLE_H + 0.15 +
                                  _LEGEND_ROW_H * (k + 1))))
    if data.foreground is not None:
        tracks.append(('attention', _ATT_H))
    if data.pred_segments is not None:
        tracks.append(('pred', _band(len(_pred_classes(data)), 0)))
    return tracks


def timeline_height(data: TimelineData,
                    top_classes: int = 3,
                    max_pseudo_rounds: int = 12) -> float:
    """Height in inches of the figure :func:`plot_timeline` draws."""
    return _TITLE_H + _AXIS_H + sum(
        h for _, h in _track_heights(data, top_classes, max_pseudo_rounds))


# --------------------------------------------------------------- drawing
def _legend(ax, handles=None, **kwargs) -> None:
    ax.legend(
        handles=handles,
        loc='upper left',
        bbox_to_anchor=(1.005, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0.,
        **kwargs)


def _rows_axis(ax, labels: Sequence[str]) -> None:
    n = max(len(labels), 1)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.tick_params(axis='y', length=0)
    for side in ('top', 'right', 'left'):
        ax.spines[side].set_visible(False)


def _note(ax, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha='center',
        va='center',
        fontsize=8,
        color='0.4')


def _draw_gt(ax, data: TimelineData, classes: Sequence[str]) -> None:
    rows = _gt_classes(data)
    handles = []
    for row, c in enumerate(rows):
        seg = data.gt_segments[data.gt_segments[:, 2] == c]
        seg = seg[seg[:, 1] > seg[:, 0]]  # zero-length: outside the video
        coll = ax.broken_barh([(s, e - s) for s, e in seg[:, :2]],
                              (row - 0.38, 0.76),
                              facecolors=class_color(c),
                              edgecolors='none')
        coll.set_gid(f'gt_class_{c}')
        handles.append(
            Patch(color=class_color(c), label=class_display_name(classes,
                                                                 c)))
    _rows_axis(ax, [class_display_name(classes, c) for c in rows])
    if not rows:
        _note(ax, 'no ground-truth segment')
    else:
        _legend(ax, handles)


def _draw_pseudo(ax, data: TimelineData, max_rounds: int) -> None:
    rounds = _shown_rounds(data.pseudo_labels, max_rounds)
    _, sps = data.label_grid
    for row, r in enumerate(rounds):
        labels = data.pseudo_labels[r]
        for value in (1, 0, -1):
            starts, lengths = _runs(labels, value)
            coll = ax.broken_barh(
                list(zip(starts * sps, lengths * sps)), (row - 0.4, 0.8),
                facecolors=PSEUDO_COLORS[value],
                edgecolors='none')
            coll.set_gid(f'pseudo_round_{r}_{PSEUDO_GID[value]}')
    _rows_axis(ax, [f'round {r}' for r in rounds])
    if not rounds:
        _note(ax, 'no pseudo labels saved (round 0 trains without)')
    handles = [
        Patch(
            facecolor=PSEUDO_COLORS[v],
            edgecolor='0.6' if v == -1 else 'none',
            label=PSEUDO_NAMES[v]) for v in (1, 0, -1)
    ]
    _legend(ax, handles)


def _step_xy(values: np.ndarray, sps: float):
    x = np.arange(len(values) + 1) * sps
    return x, np.append(values, values[-1] if len(values) else 0.)


def _draw_cas(ax, data: TimelineData, classes: Sequence[str],
              top_classes: int) -> None:
    cas, sps = data.cas_softmax, data.seconds_per_snippet
    if data.video_score is not None:
        top = np.argsort(-data.video_score, kind='stable')[:top_classes]
    else:
        top = np.argsort(-cas.mean(0), kind='stable')[:top_classes]
    gt = set(_gt_classes(data))
    for c in top:
        label = class_display_name(classes, c)
        if data.video_score is not None:
            label += f'  y={data.video_score[c]:.2f}'
        if int(c) in gt:
            label += ' (GT)'
        x, y = _step_xy(cas[:, c], sps)
        line, = ax.plot(
            x, y, drawstyle='steps-post', color=class_color(c), lw=1.2,
            label=label)
        line.set_gid(f'cas_class_{int(c)}')
    if data.min_cas_score is not None:
        ax.axhline(
            data.min_cas_score,
            color='0.3',
            ls='--',
            lw=0.9,
            label=f'inference threshold {data.min_cas_score:g}')
    ax.set_ylim(0, 1.02)
    ax.set_ylabel('p(class)', fontsize=8)
    _legend(ax)


def _draw_attention(ax, data: TimelineData) -> None:
    x, y = _step_xy(data.foreground, data.seconds_per_snippet)
    line, = ax.plot(
        x, y, drawstyle='steps-post', color='#1f4e79', lw=1.2,
        label='foreground a(t)')
    line.set_gid('foreground')
    thr = data.min_attention_score
    if thr is not None:
        ax.fill_between(
            x,
            thr,
            y,
            where=y > thr,
            step='post',
            color='#1f4e79',
            alpha=0.2,
            lw=0,
            label='above threshold')
        ax.axhline(
            thr, color='#c00000', ls='--', lw=0.9,
            label=f'inference threshold {thr:g}').set_gid(
                'attention_threshold')
    ax.set_ylim(0, 1.02)
    ax.set_ylabel('a(t)', fontsize=8)
    _legend(ax)


def _draw_predictions(ax, data: TimelineData,
                      classes: Sequence[str]) -> List:
    rows = _pred_classes(data)
    seg = data.pred_segments
    texts = []
    top = float(seg[:, 3].max()) if len(seg) else 1.
    for row, c in enumerate(rows):
        mine = seg[seg[:, 2] == c]
        colors = []
        for s in mine:
            r, g, b, _ = class_color(c)
            colors.append((r, g, b, 0.3 + 0.7 * max(s[3], 0) / max(top,
                                                                   1e-9)))
        coll = ax.broken_barh([(s, e - s) for s, e in mine[:, :2]],
                              (row - 0.38, 0.76),
                              facecolors=colors,
                              edgecolors=[class_color(c)] * len(mine),
                              linewidths=0.6)
        coll.set_gid(f'pred_class_{c}')
        for s in mine:
            t = ax.text((s[0] + s[1]) / 2,
                        row,
                        f'{s[3]:.2f}',
                        ha='center',
                        va='center',
                        fontsize=7,
                        clip_on=True,
                        bbox=dict(
                            boxstyle='square,pad=0.1',
                            fc='white',
                            ec='none',
                            alpha=0.75))
            t.set_in_layout(False)
            t.set_gid('pred_score')
            texts.append((s[3], t))
    _rows_axis(ax, [class_display_name(classes, c) for c in rows])
    if not rows:
        _note(ax, 'no predicted segment')
    return texts


def _place_labels(fig: Figure, ax, texts: List, margin: float = 2.) -> None:
    """Keep the best-scoring score labels that fit: a label is dropped when
    it would overlap a kept one or leave the axes."""
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    kept: List[Bbox] = []
    for _, text in sorted(texts, key=lambda st: -st[0]):
        ext = text.get_window_extent(renderer).padded(margin)
        inside = ext.x0 >= box.x0 and ext.x1 <= box.x1
        if inside and not any(ext.overlaps(k) for k in kept):
            kept.append(ext)
        else:
            text.remove()


def plot_timeline(data: TimelineData,
                  classes: Sequence[str],
                  top_classes: int = 3,
                  max_pseudo_rounds: int = 12,
                  width: float = 16.,
                  dpi: float = 100.) -> Figure:
    """Draw the timeline of one video.

    Args:
        data (TimelineData): What to draw; tracks whose data is None are
            left out (e.g. no pseudo-label track for a test video).
        classes (Sequence[str]): Class names in index order
            (``dataset_meta['classes']``).
        top_classes (int): Classes in the class activation track (by video
            score). Defaults to 3.
        max_pseudo_rounds (int): Rows of the pseudo-label track at most;
            more rounds are thinned evenly. Defaults to 12.
        width (float): Width in inches. Defaults to 16.
        dpi (float): Dots per inch. Defaults to 100.

    Returns:
        Figure: ``width x timeline_height(data)`` inches, Agg canvas. Its
        artists carry gids (``gt_class_{c}``, ``pseudo_round_{r}_{fg|bg|
        ignore}``, ``cas_class_{c}``, ``foreground``, ``pred_class_{c}``,
        ``pred_score``) and its axes labels (``gt``, ``pseudo``, ``cas``,
        ``attention``, ``pred``).
    """
    tracks = _track_heights(data, top_classes, max_pseudo_rounds)
    height = timeline_height(data, top_classes, max_pseudo_rounds)
    fig = Figure(figsize=(width, height), dpi=dpi, layout='constrained')
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(h_pad=0.02, hspace=0.01)
    grid = fig.add_gridspec(
        len(tracks), 1, height_ratios=[h for _, h in tracks])
    titles = dict(
        gt='ground truth',
        pseudo='pseudo labels that supervised each round',
        cas=f'class activation (top {top_classes} classes by video score '
        'y)',
        attention='foreground attention',
        pred='predicted segments (label: score)')
    axes = {}
    first = None
    texts: List = []
    for i, (name, _) in enumerate(tracks):
        ax = fig.add_subplot(grid[i], sharex=first)
        first = first or ax
        ax.set_label(name)
        ax.set_title(titles[name], loc='left', fontsize=9, pad=3)
        axes[name] = ax
        if name == 'gt':
            _draw_gt(ax, data, classes)
        elif name == 'pseudo':
            _draw_pseudo(ax, data, max_pseudo_rounds)
        elif name == 'cas':
            _draw_cas(ax, data, classes, top_classes)
        elif name == 'attention':
            _draw_attention(ax, data)
        else:
            texts = _draw_predictions(ax, data, classes)
        if i < len(tracks) - 1:
            ax.tick_params(axis='x', labelbottom=False)
        ax.grid(axis='x', color='0.9', lw=0.6)
        ax.set_axisbelow(True)
    last = axes[tracks[-1][0]]
    last.set_xlabel('time (s)')
    first.set_xlim(0, max(data.duration,
                          data.num_snippets * data.seconds_per_snippet))
    labels = sorted({class_display_name(classes, c)
                     for c in _gt_classes(data)})
    title = (f'{data.video_name}  |  {data.duration:.1f} s, '
             f'{data.num_snippets} snippets  |  video label: '
             f'{", ".join(labels) or "none"}')
    if data.subtitle:
        title += f'  |  {data.subtitle}'
    fig.suptitle(title, fontsize=11)
    if texts:
        fig.canvas.draw()  # run the layout once, then freeze it
        fig.set_layout_engine('none')
        _place_labels(fig, axes['pred'], texts)
    return fig


# ---------------------------------------------------------------- output
def figure_to_rgb(fig: Figure) -> np.ndarray:
    """[H, W, 3] uint8 RGB rendering of a figure (Agg)."""
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def add_image_to_visualizer(visualizer, name: str, image: np.ndarray,
                            step: int) -> None:
    """``visualizer.add_image`` that also works for names with a folder
    (``'timeline/<video>'``, which TensorBoard groups): mmengine's
    ``LocalVisBackend`` writes ``vis_image/<name>_<step>.png`` but does not
    create the sub-folder itself."""
    for backend in getattr(visualizer, '_vis_backends', {}).values():
        sub = osp.dirname(name)
        if sub and hasattr(backend, '_img_save_dir'):
            backend.experiment  # noqa: B018  (initializes the save dirs)
            os.makedirs(
                osp.join(backend._img_save_dir, sub), exist_ok=True)
    visualizer.add_image(name, image, step=step)
