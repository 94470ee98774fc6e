# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Segments from thresholded snippet scores, for any base model whose
scores dict has ``cas_softmax``, ``video_score`` and (optionally)
``foreground``.

For each video: keep the top-k classes by video score; for each kept class
threshold the class probability and the foreground score, dilate the mask
with a 3-wide structuring element, take 1-D connected components, pad them
and score them. Vectorized over videos, classes and snippets: a batch is
handled with a handful of numpy array operations and no Python loop.

RefineLoc's action segment prediction module (``ActionSegmentPredictor``,
``refineloc_mm.base_models.refineloc``) is this algorithm; the
refinement's threshold labelers (RefineLoc's refinement thresholds, the
former ``attention`` / ``cas`` sources of the generator) are configs of
this component.
"""
from typing import Dict, List, Sequence

import numpy as np
import torch

from mmaction.registry import TASK_UTILS
from mmaction.utils import SampleList
from ..utils.snippet_ops import snippet_durations
from ..utils.temporal_runs import (ArrayLike, component_means,
                                   connected_components, dilate_along_time,
                                   masked_range, to_numpy)
from .base_segment_post_processor import BaseSegmentPostProcessor


@TASK_UTILS.register_module()
class SnippetThresholdSegmenter(BaseSegmentPostProcessor):
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
        require_foreground (bool): Whether the scores must have a
            ``foreground`` (an error naming the missing score otherwise).
            False: a model without one gets a foreground of 1 everywhere
            (use it with ``min_attention_score=0``: the class probabilities
            alone decide). Defaults to True.
        relative_attention (bool): False: a_t > alpha_A. True: alpha_A is a
            fraction of each video's foreground range, a_t > min_t a +
            alpha_A (max_t a - min_t a) over its real snippets (W-TALC's
            kind of threshold), so that a drift of the foreground's scale
            from one refinement round to the next does not change which
            snippets pass. Defaults to False.

    Examples:
        RefineLoc's THUMOS14 refinement thresholds (METHOD.md)::

            dict(type='SnippetThresholdSegmenter', top_k=2,
                 min_cas_score=0.1, min_attention_score=0.92, padding=2)

        The foreground alone decides / the class probabilities alone
        decide::

            dict(type='SnippetThresholdSegmenter', min_cas_score=0.,
                 min_attention_score=0.92)
            dict(type='SnippetThresholdSegmenter', min_attention_score=0.,
                 require_foreground=False)
    """

    def __init__(self,
                 top_k: int = 2,
                 min_cas_score: float = 0.1,
                 min_attention_score: float = 0.5,
                 padding: int = 2,
                 require_foreground: bool = True,
                 relative_attention: bool = False) -> None:
        self.require_foreground = require_foreground
        self.relative_attention = relative_attention
        self.top_k = top_k
        self.min_cas_score = min_cas_score
        self.min_attention_score = min_attention_score
        self.padding = padding

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(top_k={self.top_k}, '
                f'min_cas_score={self.min_cas_score}, '
                f'min_attention_score={self.min_attention_score}, '
                f'padding={self.padding}, '
                f'relative_attention={self.relative_attention})')

    def predict_segments(self, scores: Dict[str, torch.Tensor],
                         data_samples: SampleList) -> List[np.ndarray]:
        """:meth:`__call__` on the scores dict: ``cas_softmax``,
        ``video_score``, ``mask`` and ``foreground`` (required unless
        ``require_foreground=False``, then 1 where missing)."""
        self.require_scores(
            scores, ('cas_softmax', 'video_score', 'mask') +
            (('foreground', ) if self.require_foreground else ()))
        foreground = scores.get('foreground')
        if foreground is None:  # alpha_A = 0 keeps every snippet
            foreground = torch.ones_like(scores['mask'], dtype=torch.float)
        return self(
            cas_softmax=scores['cas_softmax'],
            foreground=foreground,
            video_score=scores['video_score'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples))

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
        p = to_numpy(cas_softmax)
        a = to_numpy(foreground)
        y = to_numpy(video_score)
        valid = to_numpy(mask).astype(bool)
        batch, t, num_classes = p.shape
        k = min(self.top_k, num_classes)
        ranked = np.argsort(-y, axis=1, kind='stable')[:, :k]  # [B, K]
        p_k = np.take_along_axis(p, ranked[:, None, :], axis=2)
        p_k = p_k.transpose(0, 2, 1)  # [B, K, T]
        keep = (p_k > self.min_cas_score) & (
            a > self.attention_threshold(a, valid))[:, None, :] \
            & valid[:, None, :]
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

    def attention_threshold(self, a: np.ndarray,
                            valid: np.ndarray) -> np.ndarray:
        """alpha_A per video, [B, 1] (see ``relative_attention``).

        Args:
            a (np.ndarray): Foreground scores, [B, T].
            valid (np.ndarray): [B, T] bool, True on real snippets.
        """
        alpha = np.full((a.shape[0], 1), self.min_attention_score)
        if not self.relative_attention:
            return alpha
        any_valid = valid.any(1, keepdims=True)
        low, high = masked_range(a, valid)
        low = np.where(any_valid, low, 0.)
        high = np.where(any_valid, high, 0.)
        return low + alpha * (high - low)


__all__ = ['SnippetThresholdSegmenter']
