# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The benchmark's report: the reference implementation's figures, the
table rows with their targets, the Markdown table and the JSON file."""
import json
import math
import os
import os.path as osp
from typing import Any, Dict, List, Optional

GB = 1e9

# Figures of the reference implementation a --reference-results file may
# give (measured side by side with this tool, on the same machine and the
# same THUMOS14-scale synthetic set): key -> what it is.
REFERENCE_FIGURES = dict(
    train_epoch='one training epoch (s)',
    train_gflops='achieved GFLOP/s of the training epoch',
    regenerate='training-split inference + pseudo-label regeneration (s)',
    test_forward='forward over the test split (s)',
    post_processing='post-processing of the test split (s)',
    map_thumos='mAP at 0.1...0.7 on the test split (s)',
    map_thumos_first='the same, first call in the process (s)',
    round_end='all round-end work (s); default: the sum of the four above',
    schedule_wall='4 x 10 schedule, end to end (s)',
    schedule_peak_rss_gb='4 x 10 schedule, peak RSS (GB)',
    schedule_map50='4 x 10 schedule, best-round mAP@0.5 (%)')
ROUND_END_PARTS = ('regenerate', 'test_forward', 'post_processing',
                   'map_thumos')


def load_reference_results(path: Optional[str]) -> Dict[str, float]:
    """The reference implementation's figures from ``path``.

    The file is JSON, ``{"figures": {key: number}, ...}`` (any other
    top-level keys, e.g. ``"machine"``, ``"command"``, describe the
    measurement and are kept in the report), with keys of
    :data:`REFERENCE_FIGURES`; a figure not given is shown as n/a.

    Args:
        path (str, optional): The file; None gives no figures (every
            reference cell n/a).

    Raises:
        SystemExit: Unreadable file, no ``figures`` object, an unknown key
            or a value that is not a positive number, naming the file and
            the key.
    """
    if path is None:
        return {}
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(
            f'--reference-results {path}: cannot read it: {e}') from None
    figures = doc.get('figures') if isinstance(doc, dict) else None
    if not isinstance(figures, dict):
        raise SystemExit(
            f'--reference-results {path}: expected {{"figures": {{key: '
            f'number}}}} with keys {sorted(REFERENCE_FIGURES)}.')
    out = {}
    for key, value in figures.items():
        if key not in REFERENCE_FIGURES:
            raise SystemExit(
                f'--reference-results {path}: unknown figure "{key}"; the '
                f'keys are {sorted(REFERENCE_FIGURES)}.')
        if isinstance(value, bool) or not isinstance(
                value, (int, float)) or not (math.isfinite(value)
                                             and value > 0):
            raise SystemExit(
                f'--reference-results {path}: figure "{key}" must be a '
                f'positive number, got {value!r}.')
        out[key] = float(value)
    if 'round_end' not in out and all(k in out for k in ROUND_END_PARTS):
        out['round_end'] = sum(out[k] for k in ROUND_END_PARTS)
    return out


def _fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return 'n/a'
    if unit == 's':
        return f'{value:.3f} s' if value < 10 else f'{value:.1f} s'
    if unit == 'GB':
        return f'{value:.2f} GB'
    if unit == 'GFLOP/s':
        return f'{value:.3g} GFLOP/s'
    if unit == '%':
        return f'{value:.2f} %'
    return f'{value:g}'


def build_rows(res: Dict[str, Any],
               reference: Optional[Dict[str, float]] = None,
               reference_applies: bool = True) -> List[Dict[str, Any]]:
    """Table rows: stage, value, unit, reference, ratio, target (text)
    and whether it is met (None: not checked, e.g. a target relative to a
    reference figure that was not given).

    Args:
        res (dict): The measurements (``stages`` of the JSON).
        reference (dict, optional): The reference implementation's figures
            (:func:`load_reference_results`); missing ones are n/a.
        reference_applies (bool): The data and model are those of the
            reference figures (THUMOS14-scale synthetic set, 1024-d). When
            False, the reference figures and the targets that depend on the
            scale are left out (shown as n/a, ``met`` None).
    """
    rows = []

    def row(key: str,
            stage: str,
            value: Optional[float],
            unit: str,
            ref: Optional[float] = None,
            target: str = '',
            met: Optional[bool] = None,
            higher_is_better: bool = False,
            scale_bound: bool = True) -> None:
        if scale_bound and not reference_applies:
            ref, met = None, None
        ratio = None
        if value is not None and ref:
            ratio = value / ref
        rows.append(
            dict(
                key=key,
                stage=stage,
                value=value,
                unit=unit,
                reference=ref,
                ratio=ratio,
                target=target,
                met=met,
                higher_is_better=higher_is_better))

    r = dict(reference or {})
    ep = res['train_epoch']['median']
    ref_ep = r.get('train_epoch')
    row('train_epoch', 'one training epoch, in-process loader '
        '(HDF5 reads included)', ep, 's', ref_ep,
        '<= 1.2 x ref' + ('' if ref_ep is None else
                          f' ({1.2 * ref_ep:.2f} s)'),
        None if ref_ep is None else ep <= 1.2 * ref_ep)
    row('train_gflops', 'achieved GFLOP/s of the training epoch',
        res['train_gflops']['median'], 'GFLOP/s', r.get('train_gflops'),
        higher_is_better=True)
    if 'train_floor' in res:
        fl = res['train_floor']
        row('train_floor', 'arithmetic alone of an epoch on this machine '
            '(the two MLPs forward + backward on random rows, no data, no '
            f'optimizer; {fl["gflops"]:.0f} GFLOP/s)', fl['median'], 's',
            scale_bound=False)
    row('regenerate', '(a) training-split inference + pseudo-label '
        'regeneration (hook.regenerate, HDF5 reads included)',
        res['regenerate']['median'], 's', r.get('regenerate'))
    row('predict_train', '(a1) of which training-split inference '
        '(_predict_train_split)', res['predict_train']['median'], 's')
    row('generation', '(a2) of which label generation, save, log (a - a1)',
        res['generation']['median'], 's')
    row('test_forward', '(b) forward over the test split '
        '(HDF5 reads included)', res['test_forward']['median'], 's',
        r.get('test_forward'))
    row('post_processing', '(c) post-processing of the test split',
        res['post_processing']['median'], 's', r.get('post_processing'))
    row('map_thumos', '(d) mAP at 0.1...0.7 on the test split',
        res['map_thumos']['median'], 's', r.get('map_thumos'))
    row('map_thumos_first', '(d) first call in the process',
        res['map_thumos']['first'], 's', r.get('map_thumos_first'))
    total = res['round_end']['median']
    row('round_end', 'all round-end work (a + b + c + d)', total, 's',
        r.get('round_end'), '< 1.6 s', total < 1.6)
    if 'map_anet' in res:
        v = res['map_anet']['median']
        row('map_anet', 'mAP at ActivityNet v1.2 scale (2,303 videos, 10 '
            'thresholds, ~50k predictions)',
            v,
            's',
            None,
            '< 2 s',
            v < 2,
            scale_bound=False)
    if 'schedule' in res:
        s = res['schedule']
        tag = f'{s["rounds"]} x {s["epochs"]} schedule'
        full = (s['rounds'], s['epochs']) == (4, 10)
        row('schedule_wall', f'{tag}, end to end (tools/train.py)',
            s['wall_s'], 's', r.get('schedule_wall') if full else None,
            '< 90 s', s['wall_s'] < 90 if full else None)
        rss = s['peak_rss_largest_process_bytes'] / GB
        ref_rss = r.get('schedule_peak_rss_gb') if full else None
        row('schedule_peak_rss', f'{tag}, peak RSS (largest process)', rss,
            'GB', ref_rss, '<= ref', None if ref_rss is None else
            rss <= ref_rss)
        row('schedule_tree_pss', f'{tag}, peak PSS of the process tree '
            '(sampled)', s['peak_pss_tree_bytes'] / GB, 'GB')
        best = s['best_map50']
        ref_map = s.get('reference_map50')
        if ref_map is None and full:
            ref_map = r.get('schedule_map50')
        row('schedule_map50', f'{tag}, best-round mAP@0.5 (round '
            f'{s["best_round"]})', None if best is None else 100 * best, '%',
            ref_map, '>= reference',
            None if ref_map is None or best is None else
            100 * best >= ref_map, True)
    row('benchmark_peak_rss',
        'peak RSS of this benchmark process',
        res['benchmark_peak_rss_bytes'] / GB,
        'GB',
        scale_bound=False)
    return rows


def markdown(rows: List[Dict[str, Any]], machine: Dict[str, Any],
             command: str) -> str:
    lines = [
        '| stage | this project (median) | reference | ratio | target |',
        '|---|---|---|---|---|'
    ]
    for r in rows:
        ratio = 'n/a' if r['ratio'] is None else f'{r["ratio"]:.2f}'
        target = r['target']
        if r['met'] is not None:
            target += ' (met)' if r['met'] else ' (NOT met)'
        elif target:
            target += ' (n/a: not checked)'
        lines.append(f'| {r["stage"]} | {_fmt(r["value"], r["unit"])} | '
                     f'{_fmt(r["reference"], r["unit"])} | {ratio} | '
                     f'{target} |')
    lines += ['', target_summary(rows)]
    lines += [
        '',
        f'Machine: {machine["cpu"]}, {machine["cores"]} cores '
        f'({machine["usable_cores"]} usable), torch {machine["torch"]} '
        f'({machine["torch_threads"]} threads), device '
        f'{machine["device"]}'
        + (f' ({machine["gpu"]})' if 'gpu' in machine else '')
        + f', load average at start {machine["load_average"][0]:.2f}, '
        f'at end {machine["load_average_end"][0]:.2f}.',
        f'Command: `{command}`',
    ]
    return '\n'.join(lines)


def target_summary(rows: List[Dict[str, Any]]) -> str:
    """One line: how many targets are met, not met and not checked (a
    target whose figure is n/a is never counted as met)."""
    with_target = [r for r in rows if r['target']]
    met = [r for r in with_target if r['met'] is True]
    missed = [r for r in with_target if r['met'] is False]
    unchecked = [r for r in with_target if r['met'] is None]
    text = (f'Targets: {len(met)} of {len(with_target)} met, '
            f'{len(missed)} not met, {len(unchecked)} not checked')
    if unchecked:
        text += ' (n/a: ' + '; '.join(r['stage']
                                      for r in unchecked) + ')'
    return text + '.'


def write_json(path: str, doc: Dict[str, Any]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)
