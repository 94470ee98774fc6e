# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Summarize a RefineLoc run from ``WORK_DIR/refinement_summary.json``.

Prints a Markdown table with one row per round: validation mAP at every
tIoU and their average, and the precision/recall/coverage of the pseudo
labels that supervised the round (round 0 has none), and draws the same
against the round into a PNG (``--out``, default
``WORK_DIR/refinement_curves.png``). ``--best-checkpoint`` prints the path
of the best round's checkpoint instead (and draws nothing).
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List


def load_summary(work_dir: str) -> Dict:
    path = osp.join(work_dir, 'refinement_summary.json')
    if not osp.isfile(path):
        sys.exit(f'{path} does not exist: is {work_dir} the work_dir of a '
                 'RefineLoc training run?')
    with open(path) as f:
        return json.load(f)


def markdown_table(summary: Dict) -> str:
    """The per-round table of a summary, as Markdown."""
    rounds: List[Dict] = summary['rounds']
    metric_keys: List[str] = []
    for r in rounds:
        for k in r.get('metrics', {}):
            if k not in metric_keys:
                metric_keys.append(k)
    maps = [k for k in metric_keys if k.startswith('mAP@')]
    maps.sort(key=lambda k: float(k[4:]))
    cols = maps + [k for k in metric_keys if k == 'average_mAP']
    header = ['round'] + cols + ['PGT precision', 'PGT recall',
                                 'PGT coverage']
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    best = summary.get('best_round')
    for r in rounds:
        m = r.get('metrics', {})
        used = r.get('pseudo_labels_used', {})
        name = f"{r['round']}{' (best)' if r['round'] == best else ''}"
        row = [name] + [
            f'{100 * m[k]:.2f}' if k in m else '-' for k in cols
        ]
        if used.get('coverage', 0) > 0:
            row += [
                f"{100 * used['fg_precision']:.1f}",
                f"{100 * used['fg_recall']:.1f}",
                f"{100 * used['coverage']:.1f}"
            ]
        else:
            row += ['-', '-', '-']
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work_dir of a RefineLoc run')
    parser.add_argument(
        '--best-checkpoint',
        action='store_true',
        help='print the best round checkpoint path and exit')
    parser.add_argument(
        '--out',
        help='PNG of the per-round curves (default '
        'WORK_DIR/refinement_curves.png)')
    parser.add_argument(
        '--no-plot', action='store_true', help='print the table only')
    args = parser.parse_args()
    summary = load_summary(args.work_dir)
    if args.best_checkpoint:
        best = summary.get('best_round')
        if best is None:
            sys.exit('no round has validation metrics yet')
        print(osp.join(args.work_dir, f'round_{best}.pth'))
        return
    print(f"Validation mAP (%) per refinement round; best round by "
          f"{summary['best_metric']}: {summary.get('best_round')}")
    print(markdown_table(summary))
    if not args.no_plot:
        out = args.out or osp.join(args.work_dir, 'refinement_curves.png')
        write_curves(summary, out)
        print(f'Per-round curves: {out}', file=sys.stderr)


def write_curves(summary: Dict, out: str) -> None:
    """Draw the per-round curves of a summary into the PNG ``out``."""
    # imported here: --best-checkpoint and the table need no matplotlib
    from refineloc_mm.visualization.curves import plot_refinement_curves
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    plot_refinement_curves(summary).savefig(out)


if __name__ == '__main__':
    main()
