# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Per-round curves of a refinement run (``refinement_summary.json``)."""
from typing import Dict, List

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

PGT_STATS = (('fg_precision', 'precision'), ('fg_recall', 'recall'),
             ('coverage', 'coverage'))
PGT_COLORS = dict(fg_precision='#1f77b4', fg_recall='#d62728',
                  coverage='#7f7f7f')


def map_keys(summary: Dict) -> List[str]:
    """``mAP@t`` keys of a summary, by threshold."""
    keys = {
        k
        for r in summary['rounds'] for k in r.get('metrics', {})
        if k.startswith('mAP@')
    }
    return sorted(keys, key=lambda k: float(k[4:]))


def _series(rounds: List[Dict], get) -> np.ndarray:
    return np.array([get(r) for r in rounds], dtype=np.float64)


def plot_refinement_curves(summary: Dict,
                           width: float = 12.,
                           height: float = 4.5,
                           dpi: float = 100.) -> Figure:
    """mAP per tIoU and their average (left) and the precision, recall and
    coverage of the pseudo labels that supervised each round (right),
    against the round, in percent.

    Rounds without a value (no validation, round 0's missing labels) are
    gaps. The best round is marked. Lines carry gids ``map_<key>``,
    ``average_mAP`` and ``pgt_<stat>``; the axes are labelled ``map`` and
    ``pgt``.
    """
    rounds = sorted(summary['rounds'], key=lambda r: r['round'])
    x = np.array([r['round'] for r in rounds])
    fig = Figure(figsize=(width, height), dpi=dpi, layout='constrained')
    FigureCanvasAgg(fig)
    ax_map, ax_pgt = fig.subplots(1, 2)
    ax_map.set_label('map')
    ax_pgt.set_label('pgt')

    keys = map_keys(summary)
    cmap = colormaps['viridis']
    for i, k in enumerate(keys):
        y = _series(rounds,
                    lambda r, k=k: r.get('metrics', {}).get(k, np.nan))
        color = cmap(0.9 * i / max(len(keys) - 1, 1))
        line, = ax_map.plot(
            x, 100 * y, marker='o', ms=3, lw=1.2, color=color,
            label=f'tIoU {k[4:]}')
        line.set_gid(f'map_{k}')
    avg = _series(
        rounds, lambda r: r.get('metrics', {}).get('average_mAP', np.nan))
    if not np.isnan(avg).all():
        line, = ax_map.plot(
            x, 100 * avg, marker='s', ms=4, lw=2.4, color='black',
            label='average')
        line.set_gid('average_mAP')
    best = summary.get('best_round')
    if best is not None:
        ax_map.axvline(
            best, color='0.5', ls=':', lw=1.2,
            label=f'best round ({summary.get("best_metric", "")})')
    ax_map.set_title('validation mAP')
    ax_map.set_ylabel('mAP (%)')

    for key, name in PGT_STATS:
        y = _series(
            rounds, lambda r, key=key: r.get('pseudo_labels_used', {}).get(
                key, np.nan) if r.get('pseudo_labels_used', {}).get(
                    'coverage', 0) > 0 else np.nan)
        line, = ax_pgt.plot(
            x, 100 * y, marker='o', ms=4, lw=1.6, color=PGT_COLORS[key],
            label=name)
        line.set_gid(f'pgt_{key}')
    ax_pgt.set_title('foreground of the pseudo labels that supervised '
                     'the round\n(against the true foreground)')
    ax_pgt.set_ylabel('percent')
    ax_pgt.set_ylim(0, 102)
    if not any(
            r.get('pseudo_labels_used', {}).get('coverage', 0) > 0
            for r in rounds):
        ax_pgt.text(
            0.5, 0.5, 'no pseudo labels yet (round 0 trains without)',
            transform=ax_pgt.transAxes, ha='center', va='center',
            color='0.4', fontsize=9)

    for ax in (ax_map, ax_pgt):
        ax.set_xlabel('refinement round')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(x):
            ax.set_xlim(x.min() - 0.3, x.max() + 0.3)
        ax.grid(color='0.9')
        if ax.get_legend_handles_labels()[0]:
            ax.legend(
                fontsize=8,
                loc='upper left',
                bbox_to_anchor=(1.01, 1.0),
                frameon=False,
                borderaxespad=0.)
    return fig
