# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Generate a seeded, THUMOS14-shaped synthetic dataset (reference layout).

Output (``OUT`` = ``--out-dir``)::

    OUT/synthetic_valid_features.hdf5   # training split ("valid", as THUMOS14)
    OUT/synthetic_valid_groundtruth.csv
    OUT/synthetic_test_features.hdf5    # test split
    OUT/synthetic_test_groundtruth.csv

Each HDF5 file holds one float32 dataset ``[T, D]`` per video name, with
``T = num_frames // snippet_size``; each CSV has the header
``video-name,t-start,t-end,label,video-duration,fps,video-num-frames`` and one
row per action instance (integer labels written as text, like
``thumos14_valid_groundtruth.csv``).

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

Feature model
-------------
Every video is a sequence of ``T`` snippets; snippet ``t`` covers
``[t s / fps, (t + 1) s / fps)``. Both halves ("RGB" ``[0:D/2]`` and
"flow" ``[D/2:D]``) are built from the *same* temporal coefficients but with
their own independently drawn prototypes and noise, so either half alone or
both carry the signal. All prototypes are random Gaussian vectors rescaled to
a per-coordinate RMS of 1, so a strength ``a`` means ``a`` per coordinate (a
projection of ``a * sqrt(D / 2)`` on the unit direction, against a noise of
``noise_std`` per direction). For a snippet ``t`` of video ``v``::

    x_t = sum_i p_i(t) * (action_strength * A[c_i] + action_var_std * e_i)
        + foreground_strength * min(1, sum_i overlap_i(t)) * F
        + context_strength    * sum_c w_c(t) * X[c]
        + background_strength * (1 - min(1, sum_i p_i(t))) * B[k(t)]
        + scene_std * z_v + shot_std * o_{shot(t)} + noise_std * n_t

* ``A[c]`` action signature of class ``c`` (partner classes share a part of
  size ``pair_similarity`` of their action and context signatures);
  ``e_i ~ N(0, I)`` per instance (the intra-class variation).
* ``p_i(t) = overlap_i(t) * (boundary_floor + (1 - boundary_floor)
  * sin(pi * u))`` where ``overlap_i(t)`` is the fraction of snippet ``t``
  inside instance ``i`` and ``u`` the relative position of the snippet centre
  in the instance: the evidence is strongest in the middle of an instance and
  weakest at its boundaries (and partial snippets are weaker still).
* ``F`` generic foreground direction shared by all classes (weaker than the
  class-specific signatures by default). Unlike the class evidence it is
  flat over an instance (it follows the fraction of the snippet inside
  instances, not the boundary profile): the class-discriminative evidence
  is concentrated in the middle of an action, but "something is happening"
  holds all along it. A weakly-supervised model (round 0) is drawn to the
  discriminative middles and to the context; pseudo labels that cover whole
  instances teach the attention the generic cue, which is what refinement
  is meant to exploit.
* ``X[c]`` class-correlated *context* signature, distinct from ``A[c]``.
  ``w_c(t)`` is 1 inside instances of class ``c`` and decays as
  ``exp(-d / context_decay)`` with the distance ``d`` (seconds) to the nearest
  instance of ``c`` (0 beyond ``context_extent``). On top, each video has
  context *bursts* (Poisson, ``context_bursts_per_min``; 2-6 s, half-sine
  shaped) of one of its classes at random places (mostly away from the
  actions, since actions cover ~30 % of a video), and a floor
  ``context_floor`` of its classes' context everywhere. Context therefore
  predicts the video label as well as the action does, which is what draws a
  weakly-supervised attention onto the wrong snippets.
* ``B[k]`` one of ``num_background_types`` background types shared by all
  classes; every shot (Poisson cuts, mean ``shot_mean_len`` seconds) has one
  type, and it fades out where the action takes over.
* ``z_v`` per-video scene vector and ``o_shot`` per-shot offset: large,
  temporally constant nuisances unique to a video (the scene is larger than
  every class signal by default).
* ``n_t`` i.i.d. per-snippet Gaussian noise.

The defaults keep every coordinate O(1) (std ~1.5). The annotation layout of a
split depends only on (seed, split, sizes, ``duration_scale``, number of
classes, snippet size), never on the strengths, so strengths can be tuned
without changing the ground truth. Output is deterministic: the same arguments
give byte-identical CSV and HDF5 files (datasets are written with
``track_times=False``; the feature arithmetic avoids BLAS, so it does not
depend on the number of threads either).

Example::

    python tools/data/generate_synthetic.py --out-dir data/synthetic
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import os
import os.path as osp
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

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
CLASS_LOG_LEN_MEAN, CLASS_LOG_LEN_STD = 1.35, 0.6  # log(seconds)
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
BURST_LEN_RANGE = (2.0, 6.0)  # seconds


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={'help': help})


@dataclass(frozen=True)
class SyntheticStrengths:
    """Signal strengths of the feature model (all CLI-tunable).

    Amplitudes are per coordinate; see the module docstring for the model.
    """

    action_strength: float = _opt(
        0.25, 'class-specific action signature amplitude')
    action_var_std: float = _opt(
        0.05, 'per-instance deviation from the class action signature')
    foreground_strength: float = _opt(
        0.15, 'generic (class-agnostic) foreground direction amplitude')
    context_strength: float = _opt(
        0.1, 'class-correlated context signature amplitude')
    context_decay: float = _opt(
        3.0, 'decay length (s) of the context around an instance')
    context_extent: float = _opt(
        8.0, 'no context further than this (s) from an instance')
    context_floor: float = _opt(
        0.05, "fraction of the video's class context present everywhere")
    context_bursts_per_min: float = _opt(
        0.5, 'rate of context-only bursts away from the actions (/minute)')
    boundary_floor: float = _opt(
        0.1, 'relative action evidence at instance boundaries (1 = flat)')
    background_strength: float = _opt(
        0.2, 'amplitude of the shared background types')
    num_background_types: int = _opt(8, 'number of background types')
    shot_mean_len: float = _opt(10.0, 'mean shot length (s)')
    shot_std: float = _opt(0.3, 'per-shot random offset std')
    scene_std: float = _opt(1.0, 'per-video scene vector std')
    noise_std: float = _opt(1.0, 'per-snippet i.i.d. noise std')
    pair_similarity: float = _opt(
        0.5, 'shared fraction (squared cosine) of partner class signatures')

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f'{f.name} must be >= 0')
        if not 0 <= self.pair_similarity <= 1:
            raise ValueError('pair_similarity must be in [0, 1]')
        if not 0 <= self.boundary_floor <= 1:
            raise ValueError('boundary_floor must be in [0, 1]')
        if self.num_background_types < 1:
            raise ValueError('num_background_types must be >= 1')
        if self.context_decay <= 0 or self.shot_mean_len <= 0:
            raise ValueError('context_decay and shot_mean_len must be > 0')


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


@dataclass
class SyntheticWorld:
    """Class-level structure shared by both splits.

    Attributes:
        class_log_len (np.ndarray): [C] mean log instance length per class.
        partner (np.ndarray): [C] partner class of each class, -1 if none.
        action (np.ndarray): [2, C, D/2] action signatures per stream.
        context (np.ndarray): [2, C, D/2] context signatures per stream.
        background (np.ndarray): [2, K, D/2] background types per stream.
        foreground (np.ndarray): [2, D/2] generic foreground direction.
    """

    class_log_len: np.ndarray
    partner: np.ndarray
    action: np.ndarray
    context: np.ndarray
    background: np.ndarray
    foreground: np.ndarray


def _rms_rows(x: np.ndarray) -> np.ndarray:
    """Rescale the last axis of ``x`` to a root mean square of 1."""
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True))


def make_world(seed: int,
               num_classes: int = 20,
               feat_dim: int = 2048,
               strengths: SyntheticStrengths | None = None
               ) -> SyntheticWorld:
    """Draw the class structure and the prototypes for a seed.

    Args:
        seed (int): Base seed.
        num_classes (int): Number of action classes.
        feat_dim (int): Feature dimension (even; two halves).
        strengths (SyntheticStrengths, optional): Uses
            ``num_background_types`` and ``pair_similarity``.

    Returns:
        SyntheticWorld: Shared structure of both splits.
    """
    st = strengths or SyntheticStrengths()
    if feat_dim < 2 or feat_dim % 2:
        raise ValueError(f'feat_dim must be even and >= 2, got {feat_dim}')
    if num_classes < 2:
        raise ValueError(f'num_classes must be >= 2, got {num_classes}')
    half = feat_dim // 2
    # class statistics: independent of feat_dim and of the strengths
    rng = np.random.default_rng([seed, 0, 0])
    z_len = rng.standard_normal(num_classes)
    z_len = (z_len - z_len.mean()) / z_len.std()
    class_log_len = CLASS_LOG_LEN_MEAN + CLASS_LOG_LEN_STD * z_len
    partner = np.full(num_classes, -1, dtype=np.int64)
    num_pairs = max(1, num_classes // 10) if num_classes >= 4 else 0
    perm = rng.permutation(num_classes)
    for p in range(num_pairs):
        a, b = int(perm[2 * p]), int(perm[2 * p + 1])
        partner[a], partner[b] = b, a
    # prototypes
    rng = np.random.default_rng([seed, 0, 1])
    shape = (2, num_classes, half)
    action = rng.standard_normal(shape)
    context = rng.standard_normal(shape)
    shared_action = rng.standard_normal(shape)
    shared_context = rng.standard_normal(shape)
    background = rng.standard_normal(
        (2, st.num_background_types, half))
    foreground = rng.standard_normal((2, half))
    rho = st.pair_similarity
    for c in range(num_classes):
        if partner[c] < 0:
            continue
        key = min(c, int(partner[c]))  # the pair shares the same vector
        action[:, c] = (math.sqrt(rho) * shared_action[:, key] +
                        math.sqrt(1 - rho) * action[:, c])
        context[:, c] = (math.sqrt(rho) * shared_context[:, key] +
                         math.sqrt(1 - rho) * context[:, c])
    return SyntheticWorld(
        class_log_len=class_log_len,
        partner=partner,
        action=_rms_rows(action),
        context=_rms_rows(context),
        background=_rms_rows(background),
        foreground=_rms_rows(foreground))


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


def _snippet_overlap(starts: np.ndarray, snip_s: float, t0: float,
                     t1: float) -> np.ndarray:
    """Fraction of each snippet ``[s, s + snip_s)`` inside ``[t0, t1]``."""
    inter = np.minimum(starts + snip_s, t1) - np.maximum(starts, t0)
    return np.clip(inter / snip_s, 0.0, 1.0)


def video_features(video: VideoLayout,
                   world: SyntheticWorld,
                   strengths: SyntheticStrengths,
                   rng: np.random.Generator,
                   snippet_size: int = 16) -> np.ndarray:
    """Synthesize the ``[T, D]`` float32 features of one video.

    Args:
        video (VideoLayout): Annotations.
        world (SyntheticWorld): Prototypes.
        strengths (SyntheticStrengths): Signal strengths.
        rng (np.random.Generator): Feature random generator of the video.
        snippet_size (int): Frames per snippet.

    Returns:
        np.ndarray: Features, float32, shape ``[T, D]``.
    """
    st = strengths
    num_t = video.num_snippets
    num_classes = world.action.shape[1]
    half = world.action.shape[2]
    snip_s = snippet_size / video.fps
    starts = np.arange(num_t) * snip_s
    centers = starts + 0.5 * snip_s
    span = num_t * snip_s

    # per-instance profiles (on the snippets an instance touches) and
    # per-class action and context weights
    act = np.zeros((num_t, num_classes))
    ctx = np.zeros((num_t, num_classes))
    cover = np.zeros(num_t)  # fraction of each snippet inside instances
    pieces = []  # (first snippet, profile) per instance
    reach = math.ceil(st.context_extent / snip_s) + 1
    for a, b, c in zip(video.starts_ds, video.ends_ds, video.labels):
        t0, t1 = a / 10.0, b / 10.0
        i0 = max(int(t0 / snip_s) - 1, 0)
        i1 = min(math.ceil(t1 / snip_s) + 1, num_t)
        u = np.clip((centers[i0:i1] - t0) / (t1 - t0), 0.0, 1.0)
        inside = _snippet_overlap(starts[i0:i1], snip_s, t0, t1)
        p = inside * (
            st.boundary_floor + (1 - st.boundary_floor) * np.sin(np.pi * u))
        act[i0:i1, c] += p
        cover[i0:i1] += inside
        pieces.append((i0, p))
        j0, j1 = max(i0 - reach, 0), min(i1 + reach, num_t)
        cj = centers[j0:j1]
        dist = np.maximum(np.maximum(t0 - cj, cj - t1), 0.0)
        near = np.exp(-dist / st.context_decay) * (dist <= st.context_extent)
        ctx[j0:j1, c] = np.maximum(ctx[j0:j1, c], near)
    # context bursts away from the actions (any place, one of the classes)
    classes = np.array(video.classes)
    num_bursts = rng.poisson(st.context_bursts_per_min * span / 60.0)
    b_center = rng.uniform(0.0, span, num_bursts)
    b_len = rng.uniform(*BURST_LEN_RANGE, num_bursts)
    b_class = classes[rng.integers(0, len(classes), num_bursts)]
    for m, ln, c in zip(b_center, b_len, b_class):
        u = np.clip((centers - m) / ln + 0.5, 0.0, 1.0)
        ctx[:, c] = np.maximum(ctx[:, c], np.sin(np.pi * u))
    ctx[:, classes] = np.maximum(ctx[:, classes], st.context_floor)
    fg = np.minimum(act.sum(1), 1.0)

    # shots with a background type each
    num_cuts = rng.poisson(span / st.shot_mean_len)
    cuts = np.sort(rng.uniform(0.0, span, num_cuts))
    shot_id = np.searchsorted(cuts, centers)
    shot_type = rng.integers(0, st.num_background_types, num_cuts + 1)
    bg = np.zeros((num_t, st.num_background_types))
    bg[np.arange(num_t), shot_type[shot_id]] = 1.0 - fg

    coef = np.concatenate(
        [
            st.action_strength * act,
            st.context_strength * ctx,
            st.background_strength * bg,
            st.foreground_strength * np.minimum(cover, 1.0)[:, None],
        ],
        axis=1).astype(np.float32)
    # only ~a dozen columns are used by a video; einsum without BLAS is fast
    # here and does not depend on the BLAS threading (determinism)
    used = np.flatnonzero(coef.any(0))
    coef = coef[:, used]
    out = np.empty((num_t, 2 * half), dtype=np.float32)
    for s in range(2):
        atoms = np.concatenate([
            world.action[s], world.context[s], world.background[s],
            world.foreground[s][None]
        ])[used].astype(np.float32)
        x = np.einsum('tk,kd->td', coef, atoms, optimize=False)
        var = st.action_var_std * rng.standard_normal((len(pieces), half))
        for (i0, p), e in zip(pieces, var.astype(np.float32)):
            x[i0:i0 + len(p)] += p.astype(np.float32)[:, None] * e
        offsets = st.scene_std * rng.standard_normal(half) + (
            st.shot_std * rng.standard_normal((num_cuts + 1, half)))
        x += offsets.astype(np.float32)[shot_id]
        noise = rng.standard_normal((num_t, half), dtype=np.float32)
        noise *= np.float32(st.noise_std)
        x += noise
        out[:, s * half:(s + 1) * half] = x
    return out


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


def _tmp_path(path: str) -> str:
    return f'{path}.tmp{os.getpid()}'


def _write_text_atomic(path: str, text: str) -> None:
    tmp = _tmp_path(path)
    try:
        with open(tmp, 'w', newline='') as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _write_features_atomic(path: str, videos: Sequence[VideoLayout],
                           world: SyntheticWorld,
                           strengths: SyntheticStrengths, seed: int,
                           code: int, snippet_size: int,
                           attrs: dict[str, str]) -> int:
    """Write the features of a split; returns the number of snippets."""
    tmp = _tmp_path(path)
    total = 0
    try:
        with h5py.File(tmp, 'w') as f:
            for k, val in attrs.items():
                f.attrs[k] = val
            for i, v in enumerate(videos):
                rng = np.random.default_rng([seed, code, i + 1, 1])
                feats = video_features(v, world, strengths, rng,
                                       snippet_size)
                f.create_dataset(v.name, data=feats, track_times=False)
                total += feats.shape[0]
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return total


def output_paths(out_dir: str) -> dict[str, str]:
    """Paths of the four output files, keyed ``{split}_{features,gt}``."""
    paths = {}
    for split, (tag, _, _) in SPLITS.items():
        paths[f'{split}_features'] = osp.join(
            out_dir, f'synthetic_{tag}_features.hdf5')
        paths[f'{split}_groundtruth'] = osp.join(
            out_dir, f'synthetic_{tag}_groundtruth.csv')
    return paths


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


def generate_synthetic(out_dir: str,
                       num_train: int = 200,
                       num_test: int = 212,
                       num_classes: int = 20,
                       feat_dim: int = 2048,
                       snippet_size: int = 16,
                       seed: int = 0,
                       duration_scale: float = 1.0,
                       force: bool = False,
                       verbose: bool = False,
                       **strengths: Any) -> dict[str, Any]:
    """Generate (or keep) the synthetic dataset in ``out_dir``.

    Args:
        out_dir (str): Output folder (created if needed).
        num_train (int): Videos of the training split (``valid``).
        num_test (int): Videos of the test split.
        num_classes (int): Number of classes.
        feat_dim (int): Feature dimension (even).
        snippet_size (int): Frames per snippet.
        seed (int): Seed; equal arguments give byte-identical files.
        duration_scale (float): Multiplier of the video durations.
        force (bool): Regenerate even if all four files exist.
        verbose (bool): Print a summary.
        **strengths: Fields of :class:`SyntheticStrengths`.

    Returns:
        dict: ``paths`` (the four files), ``splits`` (per split
        ``num_videos``, ``num_snippets``, ``num_instances``,
        ``num_multilabel``), ``skipped`` (files already existed) and
        ``seconds``.
    """
    st = SyntheticStrengths(**strengths)
    if num_train < 1 or num_test < 1 or snippet_size < 1:
        raise ValueError('num_train, num_test and snippet_size must be >= 1')
    if duration_scale <= 0:
        raise ValueError('duration_scale must be > 0')
    tic = time.perf_counter()
    paths = output_paths(out_dir)
    skipped = all(osp.exists(p) for p in paths.values()) and not force
    config = {
        'seed': seed,
        'num_train': num_train,
        'num_test': num_test,
        'num_classes': num_classes,
        'feat_dim': feat_dim,
        'snippet_size': snippet_size,
        'duration_scale': duration_scale,
        'strengths': dataclasses.asdict(st),
    }
    config_json = json.dumps(config, sort_keys=True)
    if skipped:
        with h5py.File(paths['train_features'], 'r') as f:
            stored = f.attrs.get('synthetic_config')
        if stored != config_json:
            warnings.warn(
                f'{out_dir} holds a synthetic dataset generated with other '
                'arguments; kept it (use --force to regenerate)',
                stacklevel=2)
    else:
        os.makedirs(out_dir, exist_ok=True)
        world = make_world(seed, num_classes, feat_dim, st)
        for split, num in (('train', num_train), ('test', num_test)):
            videos = sample_split_layout(split, num, world, snippet_size,
                                         seed, duration_scale)
            attrs = {
                'synthetic_config': config_json,
                'split': SPLITS[split][0],
            }
            _write_features_atomic(paths[f'{split}_features'], videos,
                                   world, st, seed, SPLITS[split][2],
                                   snippet_size, attrs)
            _write_text_atomic(paths[f'{split}_groundtruth'],
                               layout_to_csv_text(videos))
    splits = {
        split: summarize_groundtruth(paths[f'{split}_groundtruth'],
                                     snippet_size)
        for split in SPLITS
    }
    seconds = time.perf_counter() - tic
    if verbose:
        state = 'exists, skipped' if skipped else f'written in {seconds:.1f}s'
        print(f'synthetic dataset in {out_dir} ({state})')
        for split, s in splits.items():
            print(f'  {split:5s} ({SPLITS[split][0]}): '
                  f'{s["num_videos"]} videos, {s["num_snippets"]} snippets, '
                  f'{s["num_instances"]} instances, '
                  f'{s["num_multilabel"]} multi-label videos')
    return {
        'paths': paths,
        'splits': splits,
        'skipped': skipped,
        'seconds': seconds,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (strength options come from the dataclass)."""
    parser = argparse.ArgumentParser(
        description='Generate a synthetic THUMOS14-shaped dataset.')
    parser.add_argument('--out-dir', default='data/synthetic')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-test', type=int, default=212)
    parser.add_argument('--num-classes', type=int, default=20)
    parser.add_argument('--feat-dim', type=int, default=2048)
    parser.add_argument('--snippet-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--duration-scale', type=float, default=1.0)
    parser.add_argument(
        '--force', action='store_true', help='overwrite existing files')
    group = parser.add_argument_group('signal strengths')
    for f in dataclasses.fields(SyntheticStrengths):
        group.add_argument(
            '--' + f.name.replace('_', '-'),
            type=type(f.default),
            default=f.default,
            help=f'{f.metadata["help"]} (default: {f.default})')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    args = parse_args(argv)
    strengths = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(SyntheticStrengths)
    }
    generate_synthetic(
        args.out_dir,
        num_train=args.num_train,
        num_test=args.num_test,
        num_classes=args.num_classes,
        feat_dim=args.feat_dim,
        snippet_size=args.snippet_size,
        seed=args.seed,
        duration_scale=args.duration_scale,
        force=args.force,
        verbose=True,
        **strengths)


if __name__ == '__main__':
    main()
