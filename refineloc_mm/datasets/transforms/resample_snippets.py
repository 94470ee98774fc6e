# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Resampling of every video to a fixed number of snippets, as BaS-Net's
data loader does (``thumos_features.py`` of ``Pilhyeon/BaSNet-pytorch``)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .snippet_selection import SNIPPET_KEYS, is_training_sample


def uniform_indices(length: int, num_segments: int) -> np.ndarray:
    """The original's ``uniform_sampling``: snippet floor(i * L / T) for
    i < T (all snippets when L = T; short videos repeat snippets).

    Returns:
        np.ndarray: [T] int64 indices into the L raw snippets.
    """
    if length == num_segments:
        return np.arange(num_segments, dtype=np.int64)
    return np.arange(num_segments, dtype=np.int64) * length // num_segments


def random_indices(length: int, num_segments: int,
                   rng: Optional[np.random.RandomState] = None
                   ) -> np.ndarray:
    """The original's ``random_perturb``: a random snippet of
    [floor(i L / T), floor((i + 1) L / T)] (both ends included) for i < T - 1
    and of [floor((T - 1) L / T), L - 1] for the last one; a bin whose range
    holds one snippet takes it without a draw; all snippets when L = T.

    The draws come from ``rng`` (default: the global ``np.random``, which
    mmengine seeds per DataLoader worker): one vectorized ``randint`` over
    the bins with more than one choice, which consumes the generator as the
    original's ``np.random.choice`` per bin in bin order, so the same seed
    gives the same indices.

    Returns:
        np.ndarray: [T] int64 indices into the L raw snippets.
    """
    if length == num_segments:
        return np.arange(num_segments, dtype=np.int64)
    randint = np.random.randint if rng is None else rng.randint
    low = uniform_indices(length, num_segments)
    high = np.append(low[1:], length - 1)  # inclusive
    out = low.copy()
    draw = high > low
    if draw.any():
        out[draw] += randint(0, (high - low + 1)[draw])
    return out


@TRANSFORMS.register_module()
class ResampleSnippets(BaseTransform):
    """Resample a video of L snippets to ``num_segments`` = T snippets.

    Inference samples take snippet floor(i L / T) (uniform); training
    samples a random snippet of each bin (see :func:`random_indices`); a
    sample is a training sample when its ``sample_view`` is ``'train'``
    (:func:`is_training_sample`: the refinement hook scores the training
    split in the scoring view, so its pass is uniform, as at test time).
    The same indices select the rows of ``features`` (when loaded), of the
    per-snippet entries ``snippet_keys`` (the pseudo labels, the true
    foreground mask) and of the frame indices of raw-video snippets
    (``frame_inds``, after :class:`SampleSnippetFrames`), so that all stay
    aligned. ``gt_segments`` (seconds) are untouched.

    Times stay right: ``snippet_size`` becomes the effective
    ``snippet_size * L / T`` frames per resampled snippet, so index i of the
    resampled video starts at ``i * snippet_size / fps`` seconds as before
    (BaS-Net's ``16 * L / (T * 25)`` seconds per snippet), and a segment's
    seconds map back to raw snippets with the raw snippet size.

    Required keys: ``num_snippets``, ``snippet_size``. Optional keys:
    ``features`` ([L, D]), ``snippet_keys`` ([L, ...]), ``frame_inds``
    ([L * clip_len]) with ``clip_len``, ``snippet_inds`` (raw snippets
    already selected, e.g. by ``SampleSnippetFrames(max_snippets=K)``;
    composed). Added keys: ``snippet_inds`` ([T] raw snippet of every
    resampled one), ``raw_num_snippets`` (L), ``raw_snippet_size``.
    Modified keys: ``num_snippets`` (T), ``snippet_size``, ``features``,
    ``snippet_keys``, ``frame_inds``, ``num_clips`` (T).

    Args:
        num_segments (int): T, snippets of every video after resampling.
            The original uses 750.
        snippet_keys (Sequence[str]): Per-snippet entries resampled with
            the features. Defaults to ``('pseudo_label', 'fg_mask')``.
    """

    def __init__(self,
                 num_segments: int = 750,
                 snippet_keys: Sequence[str] = SNIPPET_KEYS) -> None:
        if num_segments < 1:
            raise ValueError(f'num_segments must be >= 1, got {num_segments}')
        self.num_segments = num_segments
        self.snippet_keys = tuple(snippet_keys)

    def _check(self, results: Dict, key: str, rows: int, length: int) -> None:
        if rows != length:
            raise ValueError(
                f'ResampleSnippets: video "{results.get("video_name")}" has '
                f'{rows} rows of {key} for {length} snippets')

    def transform(self, results: Dict) -> Dict:
        length = int(results['num_snippets'])
        if length < 1:
            raise ValueError(f'ResampleSnippets: video '
                             f'"{results.get("video_name")}" has no snippet')
        t = self.num_segments
        if is_training_sample(results):
            inds = random_indices(length, t)
        else:
            inds = uniform_indices(length, t)
        if 'features' in results:
            self._check(results, 'features', len(results['features']),
                        length)
            results['features'] = np.ascontiguousarray(
                results['features'][inds])
        for key in self.snippet_keys:
            if key in results:
                values = np.asarray(results[key])
                self._check(results, key, len(values), length)
                results[key] = values[inds]
        if 'frame_inds' in results:
            frames = np.asarray(results['frame_inds'])
            self._check(results, 'frame_inds // clip_len',
                        len(frames) // results['clip_len'], length)
            results['frame_inds'] = frames.reshape(length,
                                                   -1)[inds].reshape(-1)
            results['num_clips'] = t
        previous = results.get('snippet_inds')
        results['snippet_inds'] = inds if previous is None else np.asarray(
            previous)[inds]
        results['raw_num_snippets'] = length
        results['raw_snippet_size'] = results['snippet_size']
        results['snippet_size'] = results['snippet_size'] * length / t
        results['num_snippets'] = t
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_segments='
                f'{self.num_segments})')
