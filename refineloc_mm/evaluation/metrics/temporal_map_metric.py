# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Temporal action localization mAP (ActivityNet detection protocol)."""
from __future__ import annotations

import json
import logging
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from mmaction.evaluation.functional import interpolated_precision_recall
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log


def segment_tiou(pred_segments: np.ndarray,
                 gt_segments: np.ndarray) -> np.ndarray:
    """Element-wise temporal IoU of paired segments.

    The arithmetic is that of ``segment_iou`` in ActivityNet's
    ``eval_detection.py`` (float64, union = gt length + prediction length -
    intersection), so that tIoU values equal to a threshold compare exactly as
    in the reference evaluator. Pairs whose union is not positive (two
    zero-length segments) get tIoU 0.

    Args:
        pred_segments (np.ndarray): Shape (N, 2), ``[t_start, t_end]``.
        gt_segments (np.ndarray): Shape (N, 2), ``[t_start, t_end]``.

    Returns:
        np.ndarray: Shape (N, ), float64 tIoU of each pair.
    """
    pred_segments = np.asarray(pred_segments, dtype=np.float64)
    gt_segments = np.asarray(gt_segments, dtype=np.float64)
    tt1 = np.maximum(pred_segments[:, 0], gt_segments[:, 0])
    tt2 = np.minimum(pred_segments[:, 1], gt_segments[:, 1])
    inter = (tt2 - tt1).clip(0)
    union = ((gt_segments[:, 1] - gt_segments[:, 0]) +
             (pred_segments[:, 1] - pred_segments[:, 0]) - inter)
    tiou = np.zeros_like(inter)
    np.divide(inter, union, out=tiou, where=union > 0)
    return tiou


def _blocked_searchsorted(keys: np.ndarray, values: np.ndarray,
                          query_keys: np.ndarray,
                          query_values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(side='left')`` on lexicographic (key, value) pairs.

    Args:
        keys (np.ndarray): Shape (N, ), sorted.
        values (np.ndarray): Shape (N, ), sorted within each key.
        query_keys (np.ndarray): Shape (Q, ).
        query_values (np.ndarray): Shape (Q, ).

    Returns:
        np.ndarray: Shape (Q, ), the number of (key, value) elements that are
        lexicographically smaller than each query.
    """
    num = len(keys)
    # On ties a query sorts before the equal elements.
    flags = np.r_[np.ones(num, np.int8), np.zeros(len(query_keys), np.int8)]
    order = np.lexsort((flags, np.r_[values, query_values],
                        np.r_[keys, query_keys]))
    is_elem = order < num
    before = np.cumsum(is_elem) - is_elem
    out = np.empty(len(query_keys), dtype=np.int64)
    out[order[~is_elem] - num] = before[~is_elem]
    return out


def _greedy_match(pair_pred: np.ndarray, pair_gt: np.ndarray,
                  pair_block: np.ndarray, pair_tiou: np.ndarray,
                  num_blocks: int, num_preds: int, num_gts: int,
                  tiou_thresholds: np.ndarray) -> np.ndarray:
    """Greedy matching of all thresholds and (class, video) blocks at once.

    The candidate pairs must be sorted by block, then by the rank of the
    prediction (descending score), then by the preference of the ground truth
    for that prediction (descending tIoU). A prediction is matched to the
    first unmatched ground truth in its preference order whose tIoU is at
    least the threshold. Blocks are independent, and within a block every
    prediction that precedes the next match is a false positive, so each
    round matches the first remaining candidate pair of every (threshold,
    block); the number of rounds is the largest number of matches in a block.

    Args:
        pair_pred (np.ndarray): Shape (E, ), rank of the prediction of each
            pair (its position in the score-sorted prediction list).
        pair_gt (np.ndarray): Shape (E, ), ground-truth index of each pair.
        pair_block (np.ndarray): Shape (E, ), (class, video) block index.
        pair_tiou (np.ndarray): Shape (E, ), tIoU of each pair.
        num_blocks (int): Number of blocks.
        num_preds (int): Number of predictions.
        num_gts (int): Number of ground-truth segments.
        tiou_thresholds (np.ndarray): Shape (T, ).

    Returns:
        np.ndarray: Shape (T, num_preds), bool, True for true positives.
    """
    num_thr = len(tiou_thresholds)
    is_tp = np.zeros((num_thr, num_preds), dtype=bool)
    locked = np.zeros((num_thr, num_gts), dtype=bool)
    last_match = np.full((num_thr, num_blocks), -1, dtype=np.int64)
    # (threshold, pair) entries that can ever match, ordered by
    # (threshold, block, prediction rank, preference).
    thr_idx, pair_idx = np.nonzero(
        pair_tiou[None, :] >= tiou_thresholds[:, None])
    while thr_idx.size:
        gt = pair_gt[pair_idx]
        pred = pair_pred[pair_idx]
        block = pair_block[pair_idx]
        # Entries stay candidates only while their ground truth is free and
        # their prediction comes after the last match of their block.
        alive = ~locked[thr_idx, gt] & (pred > last_match[thr_idx, block])
        if not alive.all():
            thr_idx, pair_idx = thr_idx[alive], pair_idx[alive]
            gt, pred, block = gt[alive], pred[alive], block[alive]
        if not thr_idx.size:
            break
        key = thr_idx * num_blocks + block
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        t_first = thr_idx[first]
        is_tp[t_first, pred[first]] = True
        locked[t_first, gt[first]] = True
        last_match[t_first, block[first]] = pred[first]
    return is_tp


def temporal_detection_ap(
    pred_videos: np.ndarray,
    pred_labels: np.ndarray,
    pred_segments: np.ndarray,
    pred_scores: np.ndarray,
    gt_videos: np.ndarray,
    gt_labels: np.ndarray,
    gt_segments: np.ndarray,
    tiou_thresholds: Sequence[float] = (0.5, ),
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class average precision of temporal detections (ActivityNet).

    A vectorized equivalent of running
    :func:`mmaction.evaluation.functional.eval_detection.
    compute_average_precision_detection` on every class of the ground truth:
    predictions of a class are sorted by descending score (ties keep their
    input order, as the stable sort of mmaction2 does), each one is matched
    greedily to the unmatched ground truth of the same class and video with
    the highest tIoU >= threshold (among equal tIoUs the ground truth listed
    later wins), and the VOC 2011 interpolated AP is computed with mmaction2's
    :func:`interpolated_precision_recall`. Classes are the labels present in
    the ground truth; predictions of other classes are ignored, and a
    ground-truth class without predictions gets AP 0.

    Args:
        pred_videos (np.ndarray): Shape (N, ), integer video id.
        pred_labels (np.ndarray): Shape (N, ), integer class index.
        pred_segments (np.ndarray): Shape (N, 2), ``[t_start, t_end]``.
        pred_scores (np.ndarray): Shape (N, ), confidence.
        gt_videos (np.ndarray): Shape (G, ), integer video id.
        gt_labels (np.ndarray): Shape (G, ), integer class index.
        gt_segments (np.ndarray): Shape (G, 2), ``[t_start, t_end]``.
        tiou_thresholds (Sequence[float]): T tIoU thresholds.
            Defaults to ``(0.5, )``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``ap`` of shape (T, K) and the K
        sorted ground-truth class indices its columns refer to.
    """
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    pred_videos = np.asarray(pred_videos, dtype=np.int64).reshape(-1)
    pred_labels = np.asarray(pred_labels, dtype=np.int64).reshape(-1)
    pred_segments = np.asarray(pred_segments, dtype=np.float64).reshape(-1, 2)
    pred_scores = np.asarray(pred_scores, dtype=np.float64).reshape(-1)
    gt_videos = np.asarray(gt_videos, dtype=np.int64).reshape(-1)
    gt_labels = np.asarray(gt_labels, dtype=np.int64).reshape(-1)
    gt_segments = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)

    classes = np.unique(gt_labels)
    ap = np.zeros((len(thresholds), len(classes)))
    if not len(classes):
        return ap, classes
    num_videos = int(max(pred_videos.max(initial=-1),
                         gt_videos.max(initial=-1))) + 1

    # Predictions of ground-truth classes, sorted by class then by
    # descending score; lexsort is stable, so ties keep their input order.
    keep = np.isin(pred_labels, classes) & ~np.isnan(pred_scores)
    pred_cls = np.searchsorted(classes, pred_labels[keep])
    order = np.lexsort((-pred_scores[keep], pred_cls))
    pred_cls = pred_cls[order]
    pred_key = pred_cls * num_videos + pred_videos[keep][order]
    pred_segments = pred_segments[keep][order]
    num_preds = len(pred_key)

    # Ground truth grouped by (class, video) block and sorted by start time;
    # ``gt_order`` keeps the input order for tie-breaking.
    gt_key = np.searchsorted(classes, gt_labels) * num_videos + gt_videos
    gt_order = np.lexsort((gt_segments[:, 0], gt_key))
    gt_key = gt_key[gt_order]
    gt_segments = gt_segments[gt_order]
    num_pos = np.bincount(np.searchsorted(classes, gt_labels),
                          minlength=len(classes)).astype(np.float64)

    # The (prediction, ground truth) pairs of the same block that overlap:
    # ground truth starting in (pred_start - longest gt of the block,
    # pred_end).
    block_keys, block_first = np.unique(gt_key, return_index=True)
    block_max_len = np.maximum.reduceat(gt_segments[:, 1] - gt_segments[:, 0],
                                        block_first)
    pred_block = np.searchsorted(block_keys, pred_key).clip(
        max=len(block_keys) - 1)
    has_gt = block_keys[pred_block] == pred_key
    max_len = np.where(has_gt, block_max_len[pred_block], 0)
    lo = _blocked_searchsorted(gt_key, gt_segments[:, 0], pred_key,
                               pred_segments[:, 0] - max_len)
    hi = _blocked_searchsorted(gt_key, gt_segments[:, 0], pred_key,
                               pred_segments[:, 1])
    counts = (hi - lo).clip(min=0)
    pair_pred = np.repeat(np.arange(num_preds), counts)
    offsets = np.arange(len(pair_pred)) - np.repeat(
        np.cumsum(counts) - counts, counts)
    pair_gt = np.repeat(lo, counts) + offsets
    pair_tiou = segment_tiou(pred_segments[pair_pred], gt_segments[pair_gt])
    # Pairs below every threshold can never match.
    useful = pair_tiou >= thresholds.min(initial=np.inf)
    pair_pred, pair_gt = pair_pred[useful], pair_gt[useful]
    pair_tiou = pair_tiou[useful]
    blocks, pair_block = np.unique(pred_key[pair_pred], return_inverse=True)
    # Among equal tIoUs, the ground truth listed later is preferred.
    pair_order = np.lexsort(
        (-gt_order[pair_gt], -pair_tiou, pair_pred, pair_block))
    is_tp = _greedy_match(pair_pred[pair_order], pair_gt[pair_order],
                          pair_block[pair_order], pair_tiou[pair_order],
                          len(blocks), num_preds, len(gt_key), thresholds)

    # Precision / recall per class; only the true-positive points can change
    # the VOC 2011 interpolated AP (a false positive never raises recall nor
    # the precision envelope), so only those are handed to mmaction2.
    bounds = np.searchsorted(pred_cls, np.arange(len(classes) + 1))
    for k in range(len(classes)):
        start, end = bounds[k], bounds[k + 1]
        if start == end:
            continue
        tp = is_tp[:, start:end]
        tp_cumsum = np.cumsum(tp, axis=1, dtype=np.float64)
        precision = tp_cumsum / np.arange(1, end - start + 1, dtype=np.float64)
        recall = tp_cumsum / num_pos[k]
        for t in range(len(thresholds)):
            mask = tp[t]
            ap[t, k] = interpolated_precision_recall(precision[t, mask],
                                                     recall[t, mask])
    return ap, classes


def _to_numpy(data: np.ndarray | torch.Tensor | Sequence | None,
              num_cols: int) -> np.ndarray:
    """Convert an array-like of rows to a float64 array of ``num_cols``."""
    if data is None:
        return np.zeros((0, num_cols), dtype=np.float64)
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    return np.asarray(data, dtype=np.float64).reshape(-1, num_cols)


def _get(sample: Any, key: str, default: Any = None) -> Any:
    """Read a field from a dict or a data element."""
    if isinstance(sample, dict):
        return sample.get(key, default)
    return getattr(sample, key, default)


@METRICS.register_module()
class TemporalmAP(BaseMetric):
    """Temporal action localization mAP, as ActivityNet's ``ANETdetection``.

    For each tIoU threshold the AP of every class present in the ground truth
    is computed over all videos (predictions sorted by descending score and
    matched greedily to the unmatched ground truth of the same class and
    video with the highest tIoU >= threshold; VOC 2011 interpolated AP) and
    averaged over the classes. Predictions of classes without ground truth
    are ignored; a ground-truth class without predictions has AP 0. A
    multi-label video contributes ground truth to each of its classes.

    Each data sample given to :meth:`process` must provide:

    - ``video_name`` (str): unique video name.
    - ``pred_segments`` (np.ndarray | torch.Tensor): shape (M, 4),
      ``[t_start, t_end, class_index, score]``; M may be 0.
    - ``gt_segments`` (np.ndarray | torch.Tensor): shape (G, 3),
      ``[t_start, t_end, class_index]``.

    Class indices follow ``dataset_meta['classes']``.

    Args:
        tiou_thresholds (Sequence[float]): tIoU thresholds. Defaults to
            ``(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)`` (THUMOS14 convention;
            use ``np.linspace(0.5, 0.95, 10)`` for ActivityNet).
        results_file (str, optional): If given, all predictions are written
            there as an ActivityNet results JSON (``version``, ``results``,
            ``external_data``). Defaults to None.
        video_classes_only (bool): A diagnostic, not the benchmark metric:
            drop each video's predictions of classes absent from its
            ground truth before matching, so that the mAP is free of
            false-positive classes (a true class the model never
            predicted stays missed: this is not a perfect video
            classifier's score). The dumped results keep every
            prediction, and the metric names get the prefix
            ``video_classes_only/`` (unless ``prefix`` is given), so that
            the diagnostic is never read as the benchmark's ``mAP@0.5``
            (a ``best_metric`` of the refinement, for one). Defaults to
            False.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix added to the metric names.
            Defaults to None.
        collect_dir (str, optional): Directory used to collect results across
            ranks when ``collect_device='cpu'``. Defaults to None.

    Returns (from :meth:`compute_metrics`): an ``OrderedDict`` with
    ``mAP@{t:g}`` for each threshold and ``average_mAP``, as fractions.
    """

    default_prefix: str | None = None

    def __init__(self,
                 tiou_thresholds: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5,
                                                     0.6, 0.7),
                 results_file: str | None = None,
                 video_classes_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: str | None = None,
                 collect_dir: str | None = None) -> None:
        if video_classes_only and prefix is None:
            prefix = 'video_classes_only'
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
        if not len(thresholds):
            raise ValueError('`tiou_thresholds` must not be empty.')
        if np.any((thresholds <= 0) | (thresholds > 1)):
            raise ValueError('tIoU thresholds must lie in (0, 1], got '
                             f'{thresholds.tolist()}.')
        self.tiou_thresholds = tuple(float(t) for t in thresholds)
        self.results_file = results_file
        self.video_classes_only = video_classes_only

    def process(self, data_batch: Any,
                data_samples: Sequence[dict]) -> None:
        """Store compact numpy copies of the predictions and ground truth.

        Args:
            data_batch (Any): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, one per
                video, with ``video_name``, ``pred_segments`` (M, 4) and
                ``gt_segments`` (G, 3).
        """
        for sample in data_samples:
            preds = _to_numpy(_get(sample, 'pred_segments'), 4)
            gts = _to_numpy(_get(sample, 'gt_segments'), 3)
            self.results.append(
                dict(
                    video_name=str(_get(sample, 'video_name')),
                    pred_segments=preds[:, :2].copy(),
                    pred_labels=np.rint(preds[:, 2]).astype(np.int64),
                    pred_scores=preds[:, 3].copy(),
                    gt_segments=gts[:, :2].copy(),
                    gt_labels=np.rint(gts[:, 2]).astype(np.int64)))

    def compute_metrics(self, results: list[dict]) -> dict[str, float]:
        """Compute the mAP at every tIoU threshold and their average.

        Args:
            results (list[dict]): The per-video items stored by
                :meth:`process`, gathered from all ranks.

        Returns:
            OrderedDict: ``mAP@{t:g}`` per threshold and ``average_mAP``.
        """
        results = self._unique_videos(results)
        if self.results_file:
            self.dump_results(results, self.results_file)

        def cat(key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
            arrays = [res[key] for res in results]
            if not arrays:
                return np.zeros(shape, dtype=dtype)
            return np.concatenate(arrays).astype(dtype, copy=False)

        # predictions of classes absent from their video (logged)
        absent = [~np.isin(res['pred_labels'], res['gt_labels'])
                  for res in results]
        num_absent = int(sum(a.sum() for a in absent))
        if self.video_classes_only:
            results = [{
                **res, 'pred_segments': res['pred_segments'][~a],
                'pred_labels': res['pred_labels'][~a],
                'pred_scores': res['pred_scores'][~a]
            } for res, a in zip(results, absent)]
        num_preds = [len(res['pred_scores']) for res in results]
        num_gts = [len(res['gt_labels']) for res in results]
        videos = np.arange(len(results))
        ap, classes = temporal_detection_ap(
            np.repeat(videos, num_preds), cat('pred_labels', (0, ), np.int64),
            cat('pred_segments', (0, 2), np.float64),
            cat('pred_scores', (0, ), np.float64), np.repeat(videos, num_gts),
            cat('gt_labels', (0, ), np.int64),
            cat('gt_segments', (0, 2), np.float64), self.tiou_thresholds)
        if len(classes):
            mean_ap = ap.mean(axis=1)
        else:
            print_log(
                'TemporalmAP: no ground-truth segment in the evaluated '
                'videos; every mAP is reported as 0.',
                logger='current',
                level=logging.WARNING)
            mean_ap = np.zeros(len(self.tiou_thresholds))

        metrics = OrderedDict()
        for thr, value in zip(self.tiou_thresholds, mean_ap):
            metrics[f'mAP@{thr:g}'] = float(value)
        metrics['average_mAP'] = float(mean_ap.mean())
        self._log_table(metrics, len(results), len(classes), sum(num_gts),
                        sum(num_preds), num_absent)
        return metrics

    @staticmethod
    def _unique_videos(results: list[dict]) -> list[dict]:
        """Keep the first item of each video name (warn on duplicates)."""
        seen, unique = set(), []
        for res in results:
            if res['video_name'] in seen:
                continue
            seen.add(res['video_name'])
            unique.append(res)
        if len(unique) != len(results):
            print_log(
                f'TemporalmAP: {len(results) - len(unique)} results repeat a '
                'video name; only the first of each is evaluated.',
                logger='current',
                level=logging.WARNING)
        return unique

    def _class_name(self, index: int) -> str:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is not None and 0 <= index < len(classes):
            return str(classes[index])
        return str(index)

    def _log_table(self, metrics: dict[str, float], num_videos: int,
                   num_classes: int, num_gts: int, num_preds: int,
                   num_absent: int) -> None:
        """Log the per-threshold mAP (in percent) as a small table."""
        rows = [(name.replace('mAP@', ''), value * 100)
                for name, value in metrics.items() if name != 'average_mAP']
        rows.append(('average', metrics['average_mAP'] * 100))
        width = max(len('tIoU'), *(len(name) for name, _ in rows))
        rule = f'+-{"-" * width}-+---------+'
        header = (f'TemporalmAP on {num_videos} videos, {num_classes} '
                  f'ground-truth classes, {num_gts} ground-truth segments, '
                  f'{num_preds} predictions')
        if self.video_classes_only:
            header += (f' (video_classes_only: {num_absent} of classes '
                       'absent from their video dropped):')
        else:
            header += (f', {num_absent} of them of classes absent from '
                       'their video:')
        lines = [header, rule, f'| {"tIoU":<{width}} | mAP (%) |', rule]
        lines += [
            f'| {name:<{width}} | {value:7.2f} |' for name, value in rows
        ]
        lines.append(rule)
        print_log('\n'.join(lines), logger='current')

    def dump_results(self, results: list[dict], out_file: str) -> None:
        """Write predictions as an ActivityNet results JSON, atomically.

        Args:
            results (list[dict]): Per-video items stored by :meth:`process`.
            out_file (str): Destination path.
        """
        detections = OrderedDict()
        for res in results:
            rows = zip(res['pred_segments'], res['pred_labels'],
                       res['pred_scores'])
            detections[res['video_name']] = [
                dict(
                    label=self._class_name(int(label)),
                    score=float(score),
                    segment=[float(start), float(end)])
                for (start, end), label, score in rows
            ]
        output = dict(
            version='VERSION 1.3',
            results=detections,
            external_data=dict(used=False, details=''))
        out_dir = osp.dirname(osp.abspath(out_file))
        os.makedirs(out_dir, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(
            dir=out_dir, prefix='.' + osp.basename(out_file), suffix='.tmp')
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(output, f)
            os.chmod(tmp_path, 0o644)
            os.replace(tmp_path, out_file)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise
        print_log(
            f'TemporalmAP: wrote predictions of {len(results)} videos to '
            f'{out_file}',
            logger='current')
