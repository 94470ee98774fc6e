# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Runs of snippets along time, vectorized over rows (videos x classes):
dilation, 1-D connected components, per-component means and masked
ranges. Shared by the post-processors and the pseudo ground truth
generator."""
from typing import Tuple, Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]


def to_numpy(x: ArrayLike) -> np.ndarray:
    """A tensor (detached, on the CPU) or an array as a numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def dilate_along_time(mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Binary dilation with a 3-wide structuring element along the last
    axis, never growing into padding.

    Args:
        mask (np.ndarray): [..., T] bool.
        valid (np.ndarray): [..., T] bool, broadcastable to ``mask``.
    """
    out = mask.copy()
    out[..., 1:] |= mask[..., :-1]
    out[..., :-1] |= mask[..., 1:]
    return out & valid


def connected_components(mask: np.ndarray):
    """1-D connected components of every row of ``mask``.

    Args:
        mask (np.ndarray): [R, T] bool.

    Returns:
        tuple: ``rows`` [M], ``first`` [M], ``last`` [M] (inclusive snippet
        indices) and ``component`` [R, T] int (component id per snippet,
        -1 outside components), components ordered row-major.
    """
    num_rows, t = mask.shape
    padded = np.zeros((num_rows, t + 2), dtype=bool)
    padded[:, 1:-1] = mask
    edges = np.diff(padded.astype(np.int8), axis=1)  # [R, T + 1]
    rows, first = np.nonzero(edges == 1)
    _, last_excl = np.nonzero(edges == -1)
    starts = np.zeros((num_rows, t), dtype=np.int64)
    starts[rows, first] = 1
    component = np.cumsum(starts.ravel()).reshape(num_rows, t) - 1
    component[~mask] = -1
    return rows, first, last_excl - 1, component


def component_means(values: np.ndarray, component: np.ndarray,
                    num: int) -> np.ndarray:
    """Mean of ``values`` ([R, T]) over each component id in [0, num)."""
    inside = component >= 0
    ids = component[inside]
    sums = np.bincount(ids, weights=values[inside], minlength=num)
    counts = np.bincount(ids, minlength=num)
    return sums / np.maximum(counts, 1)


def masked_range(values: np.ndarray, mask: np.ndarray,
                 axis: int = -1) -> Tuple[np.ndarray, np.ndarray]:
    """Min and max of ``values`` over the True entries of ``mask`` along
    ``axis`` (kept as a size-1 axis); +inf / -inf where none is True.

    Args:
        values (np.ndarray): Scores, e.g. [B, T] or [B, C, T].
        mask (np.ndarray): bool, broadcastable to ``values``.
        axis (int): The reduced axis. Defaults to -1 (time).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(low, high)``.
    """
    low = np.where(mask, values, np.inf).min(axis, keepdims=True,
                                              initial=np.inf)
    high = np.where(mask, values, -np.inf).max(axis, keepdims=True,
                                               initial=-np.inf)
    return low, high


__all__ = [
    'ArrayLike', 'to_numpy', 'dilate_along_time', 'connected_components',
    'component_means', 'masked_range'
]
