# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Annotations of the synthetic set: video durations, fps, instances.

Annotation statistics
---------------------
The parameters below were measured once on the real THUMOS14 annotations
(``annotations/thumos14/thumos14_{valid,test}_groundtruth.csv``) and are
hard-coded, so the generator does not need those files:

* video duration: log-normal with sigma 0.88, rescaled so that the split's mean
  duration is 206.0 s (valid) / 211.6 s (test), clipped to [8 s, 1700 s],
  then multiplied by ``duration_scale``; these means give about the real
  numbers of 16-frame snippets (76184 / 83942; the real CSVs' mean durations
  are 209.0 s / 216.8 s, but not all of a video is covered by snippets);
* fps: 30 (92.5 %), 30000/1001 (4.4 %), 25 (2.6 %), 24 (0.5 %);
  ``num_frames = round(duration * fps)`` and the written duration is
  ``num_frames / fps`` rounded to milliseconds;
* instances per video: ``round(rate * duration)`` with a log-normal rate
  (mean log 1.35 instances / minute, sigma 0.89, clipped to [-1.7, 3.6],
  correlation -0.14 with the log duration and -0.4 with the mean log length
  of the video's class: classes with short instances have many, as
  BasketballDunk or CricketShot; real: -0.57 / -0.42 between the log rate
  and a video's mean log length); instances are dropped from the end while
  they cover more than 80 % of a video (lengths are never shrunk). Real:
  3003 / 3358 instances, median 8-9, mean 15-16 per video; seed 0 gives
  2804 / 3620, median 8 / 9;
* instance length: log-normal; each class has its own log-mean (drawn, then
  standardized across classes to mean 1.35 and std 0.6; real: std 0.63 /
  0.59 of the class means) and the within-class sigma is 0.615 (real:
  0.60 / 0.58); lengths are at least one snippet and at most 60 s. Since
  short classes have more instances, the mean over instances comes out at
  ~4.2-4.5 s, median ~3 s (real: 4.0 / 4.5 s, median 2.9 / 3.2 s);
* gaps between consecutive instances: log-normal (mean log 1.2 s, sigma
  1.1) with log-normal margins before the first and after the last instance
  (mean log 2.3 s, i.e. ~10 s, sigma 1.2), all rescaled by one factor per
  video to fill the time not covered by instances, at least 0.2 s apart.
  This reproduces the real gap distribution (gaps between the unions of
  overlapping instances, real: median 3.2 s, 10-13 % under 0.5 s, 21-25 %
  under 1 s, 75th percentile 8.6-9.1 s; seed 0: median 2.9 / 1.8 s, 9 / 18 %,
  22 / 35 %, 7.3 / 5.7 s). With the post-processing's dilation and padding
  of 2 snippets, pseudo labels cut from the true foreground ("oracle") have
  a precision of 0.62 here against 0.63 on the real training split.
  Instances always lie inside the part of the video covered by snippets;
  boundaries are on a 0.1 s grid as in the real CSVs;
* multi-label videos (real: 13.5 % / 16 %, almost all of them partner
  pairs such as CliffDiving/Diving and CricketBowling/CricketShot): one pair
  of *partner* classes per ten classes; a video of a class with a partner
  also holds the partner with probability 0.6, any other video a random
  second class with probability 0.03 (seed 0: 23 / 32 multi-label videos);
  each instance of such a video takes the second class with probability 1/2
  (both classes always appear);
* overlaps: in a partner-pair video, each instance of the second class
  overlaps an instance of the primary class with probability 0.8 (inside it
  or sticking out on one side, as CliffDiving inside Diving), so that ~3-5 %
  of the instances overlap another one (real: 8-9 %, all but a handful
  between partner classes); instances of one class never overlap;
* primary classes are balanced over the videos of a split (~10 per class).
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .world import SyntheticWorld

CSV_HEADER = ('video-name', 't-start', 't-end', 'label', 'video-duration',
              'fps', 'video-num-frames')
# split key -> (file tag, video-name tag, seed code)
SPLITS: dict[str, tuple[str, str, int]] = {
    'train': ('valid', 'validation', 1),
    'test': ('test', 'test', 2),
}

# ---- statistics measured on the real THUMOS14 annotations (see docstring) --
# mean durations giving the real snippet totals (76184 / 83942 snippets of 16
# frames; the real CSVs' mean durations are 209.0 s / 216.8 s)
TARGET_MEAN_DURATION = {'train': 206.0, 'test': 211.6}  # seconds
LOG_DURATION_STD = 0.88
MIN_DURATION, MAX_DURATION = 8.0, 1700.0  # seconds, before duration_scale
ABS_MIN_DURATION = 4.0  # seconds, after duration_scale
FPS_CHOICES = (30.0, 30000.0 / 1001.0, 25.0, 24.0)
FPS_PROBS = (0.925, 0.044, 0.026, 0.005)
LOG_RATE_MEAN, LOG_RATE_STD = 1.35, 0.89  # log(instances per minute)
LOG_RATE_RANGE = (-1.7, 3.6)
RATE_DURATION_CORR = -0.14  # correlation of log rate and log duration
MAX_COVERAGE = 0.8
WITHIN_CLASS_LOG_LEN_STD = 0.615
MAX_INSTANCE_LEN = 60.0  # seconds
# gaps between consecutive instances and margins before the first / after
# the last one: log-normal (log seconds), rescaled per video to fill it
LOG_GAP_MEAN, LOG_GAP_STD = 1.2, 1.1
LOG_EDGE_MEAN, LOG_EDGE_STD = 2.3, 1.2
RATE_CLASS_LEN_CORR = -0.4  # correlation of log rate and class log length
OVERLAP_PROB = 0.8  # partner-class instances overlapping the other class
MIN_GAP_DS = 2  # deciseconds between consecutive instances
# multi-label videos: most videos of a class with a partner also hold the
# partner (real: 23 / 27 and 30 / 34 multi-label videos are such pairs),
# a few other videos hold a random second class; 14-15 % in all
PARTNER_MULTI_PROB = 0.6
OTHER_MULTI_PROB = 0.03
SECOND_CLASS_PROB = 0.5


@dataclass
class VideoLayout:
    """Annotations of one synthetic video.

    Instance boundaries are integers in deciseconds (0.1 s), sorted by
    (start, end); only instances of partner classes overlap.
    """

    name: str
    fps: float
    num_frames: int
    duration: float
    num_snippets: int
    starts_ds: np.ndarray
    ends_ds: np.ndarray
    labels: np.ndarray

    @property
    def classes(self) -> list[int]:
        """Sorted distinct labels of the video."""
        return sorted(set(self.labels.tolist()))


def _place_instances(rng: np.random.Generator, span_ds: int, min_len_ds: int,
                     lengths_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place instances one after the other inside ``[0, span_ds]`` (ds).

    Consecutive instances are separated by log-normal gaps (and the first
    and last one from the video ends by log-normal margins); all gaps and
    margins of the video are then rescaled by one factor so that they fill
    the free time exactly. Instances are dropped from the end while they
    cover more than ``MAX_COVERAGE`` of the span (lengths are never shrunk).

    Returns:
        tuple[np.ndarray, np.ndarray]: Start and end (deciseconds).
    """
    lengths = np.maximum(np.round(lengths_s * 10).astype(np.int64),
                         min_len_ds)
    lengths = np.minimum(lengths, max(int(MAX_COVERAGE * span_ds),
                                      min(min_len_ds, span_ds)))
    n = len(lengths)
    while n > 1 and (lengths[:n].sum() > MAX_COVERAGE * span_ds or
                     lengths[:n].sum() + (n - 1) * MIN_GAP_DS > span_ds):
        n -= 1
    lengths = lengths[:n]
    free = span_ds - int(lengths.sum()) - (n - 1) * MIN_GAP_DS
    raw = np.exp(np.concatenate([
        rng.normal(LOG_EDGE_MEAN, LOG_EDGE_STD, 1),
        rng.normal(LOG_GAP_MEAN, LOG_GAP_STD, n - 1),
        rng.normal(LOG_EDGE_MEAN, LOG_EDGE_STD, 1)
    ]))
    gaps = np.floor(free * raw / raw.sum()).astype(np.int64)
    gaps[1:n] += MIN_GAP_DS
    starts = np.cumsum(np.concatenate([[gaps[0]], (lengths + gaps[1:])[:-1]
                                       ]))
    return starts, starts + lengths


def _attach_overlaps(rng: np.random.Generator, span_ds: int, min_len_ds: int,
                     starts: np.ndarray, ends: np.ndarray, hosts: np.ndarray,
                     lengths_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place instances that overlap placed ones (partner classes).

    Each new instance overlaps its own host instance ``starts[j], ends[j]``
    (one per host, ``j`` from ``hosts`` in random order): it lies inside
    the host or sticks out on one side, at most half way to the neighbours
    of the host (CliffDiving inside Diving, CricketShot after
    CricketBowling).

    Returns:
        tuple[np.ndarray, np.ndarray]: Start and end (deciseconds), one per
        attached instance (fewer if there are fewer hosts).
    """
    hosts = rng.permutation(hosts)[:len(lengths_s)]
    out_s, out_e = [], []
    for j, ln_s in zip(hosts, lengths_s[:len(hosts)]):
        # at most half way to the neighbouring hosts: instances attached to
        # neighbours never overlap each other
        lo = (ends[j - 1] + starts[j] + 1) // 2 if j > 0 else 0
        hi = (ends[j] + starts[j + 1]) // 2 if j + 1 < len(starts) else span_ds
        if hi - lo < min_len_ds:
            continue
        ln = int(np.clip(round(ln_s * 10), min_len_ds, hi - lo))
        # start range such that [a, a + ln] intersects the host and stays
        # inside [lo, hi]
        a0 = max(lo, starts[j] - ln + 1)
        a1 = min(hi - ln, ends[j] - 1)
        if a1 < a0:
            continue
        a = int(rng.integers(a0, a1 + 1))
        out_s.append(a)
        out_e.append(a + ln)
    return (np.array(out_s, dtype=np.int64), np.array(out_e, dtype=np.int64))


def sample_split_layout(split: str,
                        num_videos: int,
                        world: SyntheticWorld,
                        snippet_size: int = 16,
                        seed: int = 0,
                        duration_scale: float = 1.0) -> list[VideoLayout]:
    """Sample the annotations of one split.

    Args:
        split (str): ``'train'`` (written as ``valid``) or ``'test'``.
        num_videos (int): Number of videos.
        world (SyntheticWorld): Class structure (from :func:`make_world`).
        snippet_size (int): Frames per snippet.
        seed (int): Base seed.
        duration_scale (float): Multiplier of all video durations.

    Returns:
        list[VideoLayout]: One layout per video, in name order.
    """
    _, name_tag, code = SPLITS[split]
    num_classes = len(world.class_log_len)
    rng = np.random.default_rng([seed, code, 0])
    z_dur = rng.standard_normal(num_videos)
    dur = np.exp(LOG_DURATION_STD * z_dur)
    dur *= TARGET_MEAN_DURATION[split] / dur.mean()
    dur = np.clip(dur, MIN_DURATION, MAX_DURATION) * duration_scale
    dur = np.maximum(dur, ABS_MIN_DURATION)
    fps = rng.choice(np.array(FPS_CHOICES), size=num_videos, p=FPS_PROBS)
    primary = rng.permutation(np.resize(np.arange(num_classes), num_videos))
    multi = rng.random(num_videos) < np.where(
        world.partner[primary] >= 0, PARTNER_MULTI_PROB, OTHER_MULTI_PROB)
    second_rand = rng.integers(1, num_classes, num_videos)
    # videos of classes with short instances have more of them
    z_len = (world.class_log_len[primary] -
             world.class_log_len.mean()) / world.class_log_len.std()
    z_rate = (RATE_DURATION_CORR * z_dur + RATE_CLASS_LEN_CORR * z_len +
              math.sqrt(1 - RATE_DURATION_CORR**2 - RATE_CLASS_LEN_CORR**2) *
              rng.standard_normal(num_videos))
    log_rate = np.clip(LOG_RATE_MEAN + LOG_RATE_STD * z_rate, *LOG_RATE_RANGE)

    videos = []
    for i in range(num_videos):
        vrng = np.random.default_rng([seed, code, i + 1])
        fps_i = float(fps[i])
        num_frames = round(dur[i] * fps_i)
        num_snippets = num_frames // snippet_size
        snip_s = snippet_size / fps_i
        span_ds = math.floor(num_snippets * snip_s * 10 + 1e-6)
        min_len_ds = math.ceil(snip_s * 10 - 1e-6)
        c0 = int(primary[i])
        classes = [c0]
        if multi[i]:
            p = int(world.partner[c0])
            if p < 0:
                p = (c0 + int(second_rand[i])) % num_classes
            classes.append(p)
        n = round(math.exp(log_rate[i]) * dur[i] / 60.0)
        n = max(n, len(classes))
        labels = np.full(n, c0, dtype=np.int64)
        if len(classes) > 1:
            is_second = vrng.random(n) < SECOND_CLASS_PROB
            is_second[vrng.permutation(n)[:2]] = [False, True]
            labels[is_second] = classes[1]
        log_len = vrng.normal(world.class_log_len[labels],
                              WITHIN_CLASS_LOG_LEN_STD)
        lengths_s = np.minimum(np.exp(log_len), MAX_INSTANCE_LEN)
        # instances of a partner class mostly overlap one of the other
        # class (as CliffDiving / Diving and the two Cricket classes)
        attach = np.zeros(n, dtype=bool)
        if len(classes) > 1 and int(world.partner[c0]) == classes[1]:
            attach = (labels == classes[1]) & (
                vrng.random(n) < OVERLAP_PROB)
        seq, att = np.flatnonzero(~attach), np.flatnonzero(attach)
        starts, ends = _place_instances(vrng, span_ds, min_len_ds,
                                        lengths_s[seq])
        seq_labels = labels[seq][:len(starts)]
        a_starts, a_ends = _attach_overlaps(
            vrng, span_ds, min_len_ds, starts, ends,
            np.flatnonzero(seq_labels == c0), lengths_s[att])
        labels = np.concatenate([seq_labels, labels[att][:len(a_starts)]])
        if len(classes) > 1 and len(set(labels.tolist())) < 2 and len(
                starts) > 1:
            labels[len(starts) - 1] = classes[1]  # keep both classes
        starts = np.concatenate([starts, a_starts])
        ends = np.concatenate([ends, a_ends])
        order = np.lexsort((ends, starts))
        starts, ends, labels = starts[order], ends[order], labels[order]
        videos.append(
            VideoLayout(
                name=f'video_{name_tag}_synth_{i + 1:07d}',
                fps=fps_i,
                num_frames=num_frames,
                duration=round(num_frames / fps_i, 3),
                num_snippets=num_snippets,
                starts_ds=starts,
                ends_ds=ends,
                labels=labels))
    return videos


def _fmt_ds(ds: int) -> str:
    return f'{ds // 10}.{ds % 10}'


def layout_to_csv_text(videos: Sequence[VideoLayout]) -> str:
    """Render the ground truth CSV of a split (reference layout)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(CSV_HEADER)
    for v in videos:
        for a, b, c in zip(v.starts_ds, v.ends_ds, v.labels):
            writer.writerow([
                v.name,
                _fmt_ds(int(a)),
                _fmt_ds(int(b)),
                int(c),
                repr(v.duration),
                repr(v.fps), v.num_frames
            ])
    return buf.getvalue()


def summarize_groundtruth(csv_path: str,
                          snippet_size: int = 16) -> dict[str, int]:
    """Count videos, snippets, instances and multi-label videos of a CSV."""
    frames: dict[str, int] = {}
    labels: dict[str, set] = {}
    num_instances = 0
    with open(csv_path, newline='') as f:
        for row in csv.DictReader(f):
            name = row['video-name']
            frames[name] = int(row['video-num-frames'])
            labels.setdefault(name, set()).add(row['label'])
            num_instances += 1
    return {
        'num_videos': len(frames),
        'num_snippets': sum(n // snippet_size for n in frames.values()),
        'num_instances': num_instances,
        'num_multilabel': sum(len(s) > 1 for s in labels.values()),
    }
