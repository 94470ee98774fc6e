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

The annotations follow statistics measured on the real THUMOS14
annotations (:mod:`.layout`), the features a model of actions, context,
backgrounds and nuisances (:mod:`.features`). The annotation layout of a
split depends only on (seed, split, sizes, ``duration_scale``, number of
classes, snippet size), never on the strengths, so strengths can be tuned
without changing the ground truth. Output is deterministic: the same
arguments give byte-identical CSV and HDF5 files (datasets are written with
``track_times=False``; the feature arithmetic avoids BLAS, so it does not
depend on the number of threads either).

Example::

    python tools/data/generate_synthetic.py --out-dir data/synthetic
"""
from __future__ import annotations

import dataclasses
import json
import os
import os.path as osp
import time
import warnings
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from .features import video_features
from .layout import (SPLITS, VideoLayout, layout_to_csv_text,
                     sample_split_layout, summarize_groundtruth)
from .world import SyntheticStrengths, SyntheticWorld, make_world


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
