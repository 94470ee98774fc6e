# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Action segment prediction module of RefineLoc (post-processing).

For each video: keep the top-k classes by video score; for each kept class
threshold the class probability and the foreground score, dilate the mask
with a 3-wide structuring element, take 1-D connected components, pad them
and score them. Vectorized over videos, classes and snippets: a batch is
handled with a handful of numpy array operations and no Python loop.
"""
from typing import List, Sequence, Union

import numpy as np
import torch

from mmaction.registry import TASK_UTILS

ArrayLike = Union[np.ndarray, torch.Tensor]


def _to_numpy(x: ArrayLike) -> np.ndarray:
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


@TASK_UTILS.register_module()
class ActionSegmentPredictor:
    """Turn snippet-level outputs into scored action segments.

    Args:
        top_k (int): Classes kept per video, ranked by the video score.
            Defaults to 2.
        min_cas_score (float): alpha_C, threshold on the class probability.
            Defaults to 0.1.
        min_attention_score (float): alpha_A, threshold on the foreground
            score a_t. Defaults to 0.5.
        padding (int): Snippets added on each side of a component.
            Defaults to 2.
    """

    def __init__(self,
                 top_k: int = 2,
                 min_cas_score: float = 0.1,
                 min_attention_score: float = 0.5,
                 padding: int = 2) -> None:
        self.top_k = top_k
        self.min_cas_score = min_cas_score
        self.min_attention_score = min_attention_score
        self.padding = padding

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(top_k={self.top_k}, '
                f'min_cas_score={self.min_cas_score}, '
                f'min_attention_score={self.min_attention_score}, '
                f'padding={self.padding})')

    def __call__(self, cas_softmax: ArrayLike, foreground: ArrayLike,
                 video_score: ArrayLike, mask: ArrayLike,
                 seconds_per_snippet: Sequence[float]) -> List[np.ndarray]:
        """Predict the segments of a padded batch.

        Args:
            cas_softmax (Tensor | ndarray): Class probabilities p, [B, T, N].
            foreground (Tensor | ndarray): Foreground scores a, [B, T].
            video_score (Tensor | ndarray): y-hat, [B, N].
            mask (Tensor | ndarray): [B, T] bool, True on real snippets.
            seconds_per_snippet (Sequence[float]): snippet_size / fps of
                every video, length B.

        Returns:
            list[np.ndarray]: Per video, [M_i, 4] float64 rows
            ``(t_start, t_end, class_index, score)`` ordered by class rank,
            then time.
        """
        p = _to_numpy(cas_softmax)
        a = _to_numpy(foreground)
        y = _to_numpy(video_score)
        valid = _to_numpy(mask).astype(bool)
        batch, t, num_classes = p.shape
        k = min(self.top_k, num_classes)
        ranked = np.argsort(-y, axis=1, kind='stable')[:, :k]  # [B, K]
        p_k = np.take_along_axis(p, ranked[:, None, :], axis=2)
        p_k = p_k.transpose(0, 2, 1)  # [B, K, T]
        keep = (p_k > self.min_cas_score) & (
            a > self.min_attention_score)[:, None, :] & valid[:, None, :]
        keep = dilate_along_time(keep, valid[:, None, :])
        rows, first, last, comp = connected_components(
            keep.reshape(batch * k, t))
        num = rows.shape[0]
        p_mean = component_means(p_k.reshape(batch * k, t), comp, num)
        a_rows = np.broadcast_to(a[:, None, :], (batch, k, t))
        a_mean = component_means(a_rows.reshape(batch * k, t), comp, num)

        video = rows // k
        cls = ranked.reshape(-1)[rows]
        lengths = valid.sum(1)
        start = np.maximum(first - self.padding, 0)
        end = np.minimum(last + self.padding, lengths[video] - 1)
        sps = np.asarray(seconds_per_snippet, dtype=np.float64)[video]
        score = p_mean + a_mean + y[video, cls]
        segments = np.stack(
            [start * sps, (end + 1) * sps,
             cls.astype(np.float64), score], axis=1)
        splits = np.searchsorted(video, np.arange(1, batch))
        return np.split(segments, splits)
