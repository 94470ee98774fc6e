# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The round-end stages the benchmark times, each callable on its own:
(b) forward over a split, (c) post-processing, (d) the metric, and the
metric at ActivityNet v1.2 scale on seeded synthetic predictions."""
import copy
import time
from typing import Any, Dict, List, Tuple

import numpy as np

from .timer import median


def forward_split(model, loader,
                  fp16: bool = False) -> List[Tuple[dict, list]]:
    """(b): model outputs of every batch of ``loader``, kept; under
    mmengine's autocast when ``fp16`` (as ``TestLoop(fp16=True)``)."""
    from refineloc_mm.models.scoring import score_split
    return list(score_split(model, loader, fp16))


def post_process(predictor, outputs: List[Tuple[dict, list]]
                 ) -> List[np.ndarray]:
    """(c): segments of every video from the outputs of (b)."""
    from refineloc_mm.models.utils.snippet_ops import snippet_durations
    segments = []
    for out, samples in outputs:
        segments.extend(
            predictor(out['cas_softmax'], out['foreground'],
                      out['video_score'], out['mask'],
                      snippet_durations(samples)))
    return segments


def evaluate(metric_cfg: dict, dataset_meta: dict,
             samples: List[dict]) -> Tuple[float, Dict[str, float]]:
    """(d): wall time of ``process`` + ``compute_metrics`` of a fresh
    metric (building it is not timed) and the metrics."""
    from mmaction.registry import METRICS
    metric = METRICS.build(copy.deepcopy(metric_cfg))
    metric.dataset_meta = dataset_meta
    tic = time.perf_counter()
    metric.process(None, samples)
    metrics = metric.compute_metrics(metric.results)
    return time.perf_counter() - tic, metrics


def anet_scale_samples(num_videos: int = 2303,
                       num_classes: int = 100,
                       num_preds: int = 50000,
                       gts_per_video: float = 1.52,
                       seed: int = 0) -> List[dict]:
    """Seeded predictions and ground truth of ActivityNet v1.2 validation
    size for the metric: mostly one class per video, ~1.5 instances per
    video, about 60 % of the predictions jittered copies of ground truth
    and the rest random segments (mostly of the video's class)."""
    rng = np.random.default_rng(seed)
    per_video = np.full(num_videos, num_preds // num_videos)
    per_video[:num_preds % num_videos] += 1
    samples = []
    for v in range(num_videos):
        duration = rng.uniform(20.0, 240.0)
        cls = rng.integers(0, num_classes)
        num_gt = 1 + rng.poisson(gts_per_video - 1)
        length = duration * rng.uniform(0.05, 0.5, num_gt)
        start = rng.uniform(0.0, duration - length)
        gt = np.stack([start, start + length, np.full(num_gt, cls)], 1)
        n = int(per_video[v])
        near = rng.random(n) < 0.6
        src = rng.integers(0, num_gt, n)
        jitter = rng.normal(0.0, 0.15, (n, 2)) * length[src, None]
        p_start = np.where(near, start[src] + jitter[:, 0],
                           rng.uniform(0.0, duration * 0.8, n))
        p_len = np.where(near, length[src] + jitter[:, 1] - jitter[:, 0],
                         duration * rng.uniform(0.02, 0.4, n))
        p_start = p_start.clip(0.0, duration)
        p_end = (p_start + np.abs(p_len)).clip(p_start, duration)
        p_cls = np.where(
            near | (rng.random(n) < 0.7), cls,
            rng.integers(0, num_classes, n))
        preds = np.stack([p_start, p_end, p_cls, rng.random(n)], 1)
        samples.append(
            dict(
                video_name=f'anet_{v:05d}',
                pred_segments=preds,
                gt_segments=gt))
    return samples


def bench_anet_metric(repeats: int) -> Dict[str, Any]:
    """TemporalmAP at ActivityNet v1.2 scale, ``repeats`` times."""
    samples = anet_scale_samples()
    cfg = dict(
        type='TemporalmAP',
        tiou_thresholds=tuple(np.round(np.linspace(0.5, 0.95, 10), 2)))
    meta = dict(classes=tuple(str(i) for i in range(100)))
    times, metrics = [], {}
    for _ in range(repeats):
        t, metrics = evaluate(cfg, meta, samples)
        times.append(t)
    return dict(
        samples=times,
        first=times[0],
        median=median(times),
        videos=len(samples),
        predictions=int(sum(len(s['pred_segments']) for s in samples)),
        ground_truth=int(sum(len(s['gt_segments']) for s in samples)),
        average_mAP=metrics.get('average_mAP'))
