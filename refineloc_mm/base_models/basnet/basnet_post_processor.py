# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net's post-processing (``test.test`` and ``utils.py`` of
``Pilhyeon/BaSNet-pytorch`` @ c8c6bbd), vectorized over classes,
thresholds and proposals.

Per video (of T snippets, each ``seconds_per_snippet`` long):

1. predicted classes: the suppression branch's video score (the C action
   classes of its softmax over C + 1) >= ``class_thresh`` (0.25); the
   original then *overwrites* the scores with 0/1 (``binarize_scores``);
2. min-max normalisation of the suppression CAS over time per class (the
   max and the min pass a ReLU first; a range <= 0 becomes 1; no clipping,
   so a class whose CAS dips below 0 keeps negative values there);
3. linear upsampling by ``scale`` (24; ``scipy.interpolate.interp1d`` at
   ``arange(0, T, 1 / scale)``, so the last ``scale - 1`` positions are
   linearly extrapolated from the last two snippets);
4. for every activation threshold (0, 0.025, ..., 0.225): values below it
   become 0 and every run of positive positions of a predicted class is a
   proposal with the outer-inner-contrast score: mean inside - mean of the
   outer band ``int(first - lambda * len) .. int(last + lambda * len)``
   (clipped to the video; the band's values are the thresholded ones) +
   ``gamma`` (0.2) x the (binarised) class score; start = first * f, end =
   (last + 1) * f, f = seconds_per_snippet / scale;
5. per-class NMS at IoU 0.7 over the proposals of all thresholds.

What the thresholds cut (``activation``) is ours to choose: ``'cas'``
(the original: the normalised suppression CAS of each predicted class),
``'foreground'`` (the foreground weights w of the filtering module, the
same map for every predicted class; used to cut the refinement's pseudo
labels from w) or ``'cas_x_foreground'`` (the normalised CAS times w).

Quirks of the original kept behind keys whose defaults reproduce it
(``binarize_scores``, ``nms_plus_one``: the NMS counts an interval's length
as end - start + 1 although times are in seconds;
``drop_if_only_class_zero``: a video whose only predicted class is index 0
gets no segment, from ``if pred.any()``; ``drop_if_only_position_zero``: a
class whose only positive position at a threshold is position 0 gives no
proposal there, from ``if temp_list.any()``).
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from scipy.interpolate import interp1d

from mmaction.registry import TASK_UTILS
from mmaction.utils import SampleList
from refineloc_mm.models.utils.snippet_ops import snippet_durations
from refineloc_mm.models.task_modules.base_segment_post_processor import (
    BaseSegmentPostProcessor)

# what the activation thresholds cut (BaSNetPostProcessor.activation)
ACTIVATIONS = ('cas', 'foreground', 'cas_x_foreground')


def minmax_norm(cas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The original's ``utils.minmax_norm`` over the real snippets.

    Args:
        cas (Tensor): [B, T, C] float32.
        mask (Tensor): [B, T] bool, True on real snippets.

    Returns:
        Tensor: [B, T, C], (cas - min) / (max - min) with the ReLU'd max
        and min; not clipped (negative where the CAS is below a positive
        ReLU'd min of 0, i.e. wherever a class's min is negative).
    """
    m = mask[..., None]
    max_val = torch.relu(cas.masked_fill(~m, float('-inf')).amax(1))
    min_val = torch.relu(cas.masked_fill(~m, float('inf')).amin(1))
    delta = max_val - min_val
    delta = torch.where(delta <= 0, torch.ones_like(delta), delta)
    return (cas - min_val[:, None]) / delta[:, None]


def upgrade_resolution(values: np.ndarray, scale: int) -> np.ndarray:
    """The original's ``utils.upgrade_resolution``: linear interpolation
    (and extrapolation) at ``arange(0, T, 1 / scale)``.

    Args:
        values (np.ndarray): [T, P].
        scale (int): Upsampling factor.

    Returns:
        np.ndarray: [T * scale, P] float64 (constant for T = 1).
    """
    t = values.shape[0]
    grid = np.arange(0, t, 1 / scale)
    if t == 1:
        return np.repeat(values.astype(np.float64), len(grid), axis=0)
    f = interp1d(np.arange(t), values, kind='linear', axis=0,
                 fill_value='extrapolate')
    return f(grid)


def oic_proposals(up: np.ndarray, act_thresh: np.ndarray,
                  class_score: np.ndarray, lambda_: float, gamma: float,
                  drop_if_only_position_zero: bool) -> np.ndarray:
    """Runs above every activation threshold with their outer-inner
    contrast scores, in the order the original hands them to its NMS
    (class, threshold, time).

    Args:
        up (np.ndarray): [U, P] upsampled, normalised CAS of the P
            predicted classes.
        act_thresh (np.ndarray): [H] activation thresholds.
        class_score (np.ndarray): [P] the classes' (binarised) scores.
        lambda_ (float): Outer band, relative to the proposal's length.
        gamma (float): Weight of the class score.
        drop_if_only_position_zero (bool): See the module docstring.

    Returns:
        np.ndarray: [M, 4] float64 rows (first, last + 1, class column p,
        score), positions on the upsampled grid.
    """
    u = up.shape[0]
    # [P, H, U] thresholded copies, time last so that nonzero() lists runs
    # class by class, threshold by threshold, in time order
    cas = up.T[:, None]
    temp = np.where(cas < act_thresh[None, :, None], 0., cas)
    pos = temp > 0
    if drop_if_only_position_zero:
        only_zero = pos[..., 0] & (pos.sum(-1) == 1)
        pos[only_zero] = False
    edges = np.diff(pos.astype(np.int8), axis=-1, prepend=0, append=0)
    p_i, h_i, first = np.nonzero(edges == 1)
    last = np.nonzero(edges == -1)[2] - 1
    csum = np.concatenate([np.zeros(temp.shape[:2] + (1, )),
                           np.cumsum(temp, axis=-1)], axis=-1)
    row = csum[p_i, h_i]  # [M, U + 1]

    def span(a, b):  # sum of positions a .. b - 1
        return (np.take_along_axis(row, b[:, None], 1) -
                np.take_along_axis(row, a[:, None], 1))[:, 0]

    length = last - first + 1
    inner = span(first, last + 1) / length
    outer_s = np.maximum(0, np.trunc(first - lambda_ * length)).astype(int)
    outer_e = np.minimum(u - 1,
                         np.trunc(last + lambda_ * length)).astype(int)
    num_outer = (first - outer_s) + (outer_e - last)
    outer_sum = span(outer_s, first) + span(last + 1, outer_e + 1)
    outer = np.where(num_outer > 0, outer_sum / np.maximum(num_outer, 1),
                     0.)
    score = inner - outer + gamma * class_score[p_i]
    return np.stack([first, last + 1, p_i, score], axis=1).astype(np.float64)


def nms_1d(start: np.ndarray, end: np.ndarray, score: np.ndarray,
           thresh: float, plus_one: bool) -> np.ndarray:
    """Greedy NMS of intervals (the original's ``utils.nms``).

    Returns:
        np.ndarray: Indices of the kept intervals, best first.
    """
    extra = 1. if plus_one else 0.
    order = score.argsort()[::-1]
    s, e = start[order], end[order]
    areas = e - s + extra
    inter = np.maximum(
        0., np.minimum(e[:, None], e[None]) -
        np.maximum(s[:, None], s[None]) + extra)
    iou = inter / (areas[:, None] + areas[None] - inter)
    suppressed = np.zeros(len(order), bool)
    keep = []
    for i in range(len(order)):  # greedy: one pass per kept interval
        if suppressed[i]:
            continue
        keep.append(order[i])
        suppressed |= iou[i] >= thresh
    return np.asarray(keep, dtype=np.int64)


@TASK_UTILS.register_module()
class BaSNetPostProcessor(BaseSegmentPostProcessor):
    """Segments of BaS-Net's suppression branch (see the module docstring).

    Args:
        class_thresh (float): Video score threshold of a predicted class.
            Defaults to 0.25.
        act_thresh (Sequence[float], optional): Activation thresholds.
            Defaults to ``np.arange(0.0, 0.25, 0.025)`` (the original's
            config, 0 .. 0.225).
        scale (int): Temporal upsampling factor. Defaults to 24.
        lambda_ (float): Outer band of the outer-inner contrast, relative
            to the proposal's length. Defaults to 0.25.
        gamma (float): Weight of the class score in a proposal's score.
            Defaults to 0.2.
        nms_thresh (float): IoU threshold of the per-class NMS. Defaults
            to 0.7.
        binarize_scores (bool): Use the 0/1 class decision instead of the
            class score in the proposal scores (the original). Defaults to
            True.
        nms_plus_one (bool): Interval length end - start + 1 in the NMS
            (the original, in seconds). Defaults to True.
        drop_if_only_class_zero (bool): No segments for a video whose only
            predicted class is 0 (the original). Defaults to True.
        drop_if_only_position_zero (bool): No proposal from a class whose
            only positive position is 0 (the original). Defaults to True.
        activation (str): The map the activation thresholds cut, see the
            module docstring: ``'cas'`` (the original), ``'foreground'``
            or ``'cas_x_foreground'``. Defaults to ``'cas'``.
    """

    def __init__(self,
                 class_thresh: float = 0.25,
                 act_thresh: Optional[Sequence[float]] = None,
                 scale: int = 24,
                 lambda_: float = 0.25,
                 gamma: float = 0.2,
                 nms_thresh: float = 0.7,
                 binarize_scores: bool = True,
                 nms_plus_one: bool = True,
                 drop_if_only_class_zero: bool = True,
                 drop_if_only_position_zero: bool = True,
                 activation: str = 'cas') -> None:
        if scale < 1:
            raise ValueError(f'scale must be >= 1, got {scale}')
        if activation not in ACTIVATIONS:
            raise ValueError(f'activation must be one of {ACTIVATIONS}, '
                             f'got {activation!r}')
        self.activation = activation
        self.class_thresh = class_thresh
        self.act_thresh = np.arange(0.0, 0.25, 0.025) if act_thresh is None \
            else np.asarray(act_thresh, dtype=np.float64)
        self.scale = scale
        self.lambda_ = lambda_
        self.gamma = gamma
        self.nms_thresh = nms_thresh
        self.binarize_scores = binarize_scores
        self.nms_plus_one = nms_plus_one
        self.drop_if_only_class_zero = drop_if_only_class_zero
        self.drop_if_only_position_zero = drop_if_only_position_zero

    def predicted_classes(self, video_score: np.ndarray) -> np.ndarray:
        """Indices of the predicted classes of one video ([C] scores)."""
        pred = np.nonzero(video_score >= self.class_thresh)[0]
        if self.drop_if_only_class_zero and not pred.any():
            return pred[:0]
        return pred

    def proposals(self, cas_norm: np.ndarray, video_score: np.ndarray,
                  seconds_per_snippet: float,
                  foreground: Optional[np.ndarray] = None) -> np.ndarray:
        """Proposals of one video before the NMS, in the original's order.

        Args:
            cas_norm (np.ndarray): [T, C] min-max normalised CAS of the C
                action classes (float32).
            video_score (np.ndarray): [C] video scores.
            seconds_per_snippet (float): Seconds of one of the T snippets.
            foreground (np.ndarray, optional): [T] foreground weights w;
                needed unless ``activation='cas'``.

        Returns:
            np.ndarray: [M, 4] float64 (t_start, t_end, class, score).
        """
        pred = self.predicted_classes(video_score)
        if len(pred) == 0:
            return np.zeros((0, 4))
        class_score = np.ones(len(pred)) if self.binarize_scores \
            else video_score[pred].astype(np.float64)
        if self.activation == 'cas':
            act = cas_norm[:, pred]
        else:
            if foreground is None:
                raise ValueError(
                    f"BaSNetPostProcessor(activation='{self.activation}') "
                    'needs the foreground weights w')
            w = np.asarray(foreground, np.float32)[:, None]
            act = np.repeat(w, len(pred), 1) \
                if self.activation == 'foreground' else cas_norm[:, pred] * w
        up = upgrade_resolution(act, self.scale)
        props = oic_proposals(up, self.act_thresh, class_score,
                              self.lambda_, self.gamma,
                              self.drop_if_only_position_zero)
        factor = seconds_per_snippet / self.scale
        return np.stack([
            props[:, 0] * factor, props[:, 1] * factor,
            pred[props[:, 2].astype(np.int64)], props[:, 3]
        ], axis=1)

    def nms(self, proposals: np.ndarray) -> np.ndarray:
        """Per-class NMS of [M, 4] proposals; classes in order of first
        appearance, each class's survivors best first."""
        out = []
        classes = proposals[:, 2]
        _, first = np.unique(classes, return_index=True)
        for c in classes[np.sort(first)]:
            rows = proposals[classes == c]
            keep = nms_1d(rows[:, 0], rows[:, 1], rows[:, 3],
                          self.nms_thresh, self.nms_plus_one)
            out.append(rows[keep])
        return np.concatenate(out) if out else np.zeros((0, 4))

    def predict_segments(self, scores: Dict[str, torch.Tensor],
                         data_samples: SampleList) -> List[np.ndarray]:
        """:meth:`__call__` on the scores dict: the suppression branch's
        ``cas_supp`` and ``score_supp``, ``mask`` and, when present,
        ``foreground`` (w)."""
        self.require_scores(scores, ('cas_supp', 'score_supp', 'mask'))
        return self(
            cas=scores['cas_supp'],
            video_score=scores['score_supp'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples),
            foreground=scores.get('foreground'))

    def __call__(self, cas: torch.Tensor, video_score: torch.Tensor,
                 mask: torch.Tensor,
                 seconds_per_snippet: Sequence[float],
                 foreground: Optional[torch.Tensor] = None
                 ) -> List[np.ndarray]:
        """Segments of a batch.

        Args:
            cas (Tensor): [B, T, C + 1] suppression-branch CAS (logits).
            video_score (Tensor): [B, C + 1] suppression-branch video
                scores.
            mask (Tensor): [B, T] bool, True on real snippets.
            seconds_per_snippet (Sequence[float]): Per video.
            foreground (Tensor, optional): [B, T] foreground weights w
                (read unless ``activation='cas'``).

        Returns:
            list[np.ndarray]: Per video, [M_i, 4] float64 rows
            ``(t_start, t_end, class, score)`` in seconds.
        """
        num_classes = video_score.shape[1] - 1
        with torch.no_grad():
            norm = minmax_norm(cas.float(), mask)[..., :num_classes]
        norm = norm.cpu().numpy()
        scores = video_score[:, :num_classes].float().cpu().numpy()
        lengths = mask.sum(1).tolist()
        fg = [None] * len(lengths)
        if self.activation != 'cas' and foreground is not None:
            fg = foreground.float().cpu().numpy()
        return [
            self.nms(self.proposals(norm[b, :lengths[b]], scores[b],
                                    float(seconds_per_snippet[b]),
                                    None if fg[b] is None else
                                    fg[b][:lengths[b]]))
            for b in range(len(lengths))
        ]
