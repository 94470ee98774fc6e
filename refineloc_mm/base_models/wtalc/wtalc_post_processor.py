# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's test-time segments (Paul et al., ECCV 2018; ``detectionMAP.py``
of ``sujoyp/wtalc-pytorch``), vectorized over videos and classes, with an
optional use of a class-agnostic foreground (RefineLoc's attention branch on
W-TALC)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from mmaction.registry import TASK_UTILS
from mmaction.utils import SampleList
from refineloc_mm.models.utils.snippet_ops import snippet_durations
from refineloc_mm.models.utils.temporal_runs import (connected_components,
                                                     masked_range, to_numpy)
from refineloc_mm.models.task_modules.base_segment_post_processor import (
    BaseSegmentPostProcessor)


@TASK_UTILS.register_module()
class WTALCPostProcessor(BaseSegmentPostProcessor):
    """Segments from W-TALC's class activation sequence (logits).

    Per video (T real snippets) and class c, as the original:

    1. class filter: c is kept only if the mean of its top
       ``floor(T / 8)`` logits over time, ``s_c``, is > 0 (the original's;
       ``min_class_score`` moves it, None turns it off: every class of
       the video) (T < 8: the mean of nothing, NaN, so no class is kept);
    2. threshold = ``max - 0.5 * (max - min)`` of the class's logits in
       the video; runs of consecutive snippets strictly above it;
    3. runs of at least 2 snippets are kept, scored
       ``max logit in the run + 0.7 * s_c``;
    4. no smoothing, no NMS. A run [s, e) (end exclusive) is the segment
       ``(s * d, e * d)`` seconds, d = seconds per snippet (16 / 25 =
       0.64 s for W-TALC's I3D features).

    With a ``foreground`` probability per snippet (the RefineLoc attention
    branch, once trained by pseudo labels), ``foreground_mode`` decides how
    the snippets at or above ``min_foreground`` (alpha_A), the "foreground
    snippets", are used. Step 1 (the video-level class evidence, the class
    filter) always uses every snippet; steps 3 and 4 are unchanged.

    * ``'gate_before_threshold'`` (default): snippets below alpha_A are
      dropped before step 2: the threshold's max/min are taken over the
      foreground snippets only, and dropped snippets end runs. Inside an
      action max and min are close, so the threshold cuts the action into
      pieces (issue 16: the refined model scores far below its round 0).
    * ``'gate_after_threshold'``: step 2 on every snippet (W-TALC's own
      threshold), then runs are cut at snippets below alpha_A.
    * ``'foreground_runs'``: the runs are the foreground snippets
      themselves, for every class passing the class filter (W-TALC's CAS
      then only scores them: max logit in the run + 0.7 ``s_c``).

    Args:
        topk_divisor (int): k = floor(T / topk_divisor). Defaults to 8.
        threshold_ratio (float): Threshold = max - ratio * (max - min).
            Defaults to 0.5.
        min_length (int): Shortest run kept, in snippets. Defaults to 2.
        class_score_weight (float): Weight of ``s_c`` in the segment score.
            Defaults to 0.7.
        min_class_score (float, optional): The class filter keeps class c
            when ``s_c > min_class_score``; None keeps every class with a
            score (T >= ``topk_divisor``), ranked by its segments' scores
            only (the synthetic refinement config: the filter drops true
            classes of refined models, ``docs/wtalc.md``). Defaults to 0.
            (the original's).
        min_foreground (float): alpha_A, used only when a ``foreground``
            is given. Defaults to 0.5 (ours: RefineLoc's inference
            attention threshold on THUMOS14).
        foreground_mode (str): How a given ``foreground`` is used, one of
            ``FOREGROUND_MODES`` (above). Defaults to
            ``'gate_before_threshold'``.
    """

    FOREGROUND_MODES = ('gate_before_threshold', 'gate_after_threshold',
                        'foreground_runs')

    def __init__(self,
                 topk_divisor: int = 8,
                 threshold_ratio: float = 0.5,
                 min_length: int = 2,
                 class_score_weight: float = 0.7,
                 min_class_score: Optional[float] = 0.,
                 min_foreground: float = 0.5,
                 foreground_mode: str = 'gate_before_threshold') -> None:
        if foreground_mode not in self.FOREGROUND_MODES:
            raise ValueError(f'foreground_mode must be one of '
                             f'{self.FOREGROUND_MODES}, got '
                             f'{foreground_mode!r}')
        if topk_divisor < 1:
            raise ValueError(f'topk_divisor must be >= 1, got {topk_divisor}')
        if min_length < 1:
            raise ValueError(f'min_length must be >= 1, got {min_length}')
        self.topk_divisor = topk_divisor
        self.threshold_ratio = threshold_ratio
        self.min_length = min_length
        self.class_score_weight = class_score_weight
        self.min_class_score = min_class_score
        self.min_foreground = min_foreground
        self.foreground_mode = foreground_mode

    def class_scores(self, cas: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """s: mean of the top floor(T_i / 8) logits per video and class.

        Args:
            cas (np.ndarray): [B, T, C] float32.
            valid (np.ndarray): [B, T] bool.

        Returns:
            np.ndarray: [B, C] float32 (NaN where k = 0).
        """
        ranked = -np.sort(
            -np.where(valid[..., None], cas, -np.inf), axis=1)
        k = valid.sum(1) // self.topk_divisor
        top = np.arange(cas.shape[1])[None] < k[:, None]
        total = np.where(top[..., None], ranked, 0).sum(1, dtype=np.float32)
        with np.errstate(invalid='ignore', divide='ignore'):
            return (total / k[:, None]).astype(np.float32)

    def predict_segments(self, scores: Dict[str, torch.Tensor],
                         data_samples: SampleList) -> List[np.ndarray]:
        """:meth:`__call__` on the scores dict: ``cas`` (logits),
        ``mask`` and, when present, ``foreground``."""
        self.require_scores(scores, ('cas', 'mask'))
        return self(
            cas=scores['cas'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples),
            foreground=scores.get('foreground'))

    def __call__(self,
                 cas: torch.Tensor,
                 mask: torch.Tensor,
                 seconds_per_snippet: Sequence[float],
                 foreground: Optional[torch.Tensor] = None
                 ) -> List[np.ndarray]:
        """Segments of a batch of videos.

        Args:
            cas (Tensor): CAS logits [B, T, C].
            mask (Tensor): [B, T] bool, True on real snippets.
            seconds_per_snippet (Sequence[float]): [B] seconds per snippet.
            foreground (Tensor, optional): [B, T] foreground probability,
                used as ``foreground_mode`` says.

        Returns:
            list[np.ndarray]: Per video, [M_i, 4] float64 rows
            ``(t_start, t_end, class, score)`` in seconds, ordered by class
            then time.
        """
        cas = to_numpy(cas).astype(np.float32, copy=False)
        valid = to_numpy(mask).astype(bool)
        b, t, c = cas.shape
        if len(seconds_per_snippet) != b:
            raise ValueError(f'{len(seconds_per_snippet)} snippet durations '
                             f'for {b} videos')
        class_score = self.class_scores(cas, valid)  # [B, C]
        keep_class = ~np.isnan(class_score) \
            if self.min_class_score is None else \
            class_score > self.min_class_score  # NaN -> False
        kept = valid
        mode = None if foreground is None else self.foreground_mode
        if mode is not None:
            kept = valid & (to_numpy(foreground) >= self.min_foreground)
        values = np.ascontiguousarray(cas.transpose(0, 2, 1))  # [B, C, T]
        if mode == 'foreground_runs':
            above = np.broadcast_to(kept[:, None], values.shape)
        else:
            # the threshold's snippets: gated before it or every real one
            used = kept if mode == 'gate_before_threshold' else valid
            lo, hi = masked_range(values, used[:, None], axis=2)
            with np.errstate(invalid='ignore'):
                threshold = hi - (hi - lo) * np.float32(self.threshold_ratio)
            above = (values > threshold) & kept[:, None]
        above = above & keep_class[..., None]
        rows, first, last, component = connected_components(
            above.reshape(b * c, t))
        if len(rows):
            # components are contiguous in row-major order: max per run
            run_values = values.reshape(b * c, t)[component >= 0]
            offsets = np.concatenate([[0], np.cumsum(last - first + 1)[:-1]])
            run_max = np.maximum.reduceat(run_values, offsets)
        else:
            run_max = np.zeros(0, dtype=np.float32)
        end = last + 1
        long_enough = end - first >= self.min_length
        rows, first, end, run_max = (rows[long_enough], first[long_enough],
                                     end[long_enough], run_max[long_enough])
        video, cls = np.divmod(rows, c)
        score = run_max + np.float32(
            self.class_score_weight) * class_score[video, cls]
        seconds = np.asarray(seconds_per_snippet, dtype=np.float64)[video]
        segments = np.stack([
            first * seconds, end * seconds,
            cls.astype(np.float64),
            score.astype(np.float64)
        ], 1).reshape(-1, 4)
        counts = np.bincount(video, minlength=b)
        return np.split(segments, np.cumsum(counts)[:-1])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(topk_divisor={self.topk_divisor},'
                f' threshold_ratio={self.threshold_ratio}, min_length='
                f'{self.min_length}, class_score_weight='
                f'{self.class_score_weight}, min_class_score='
                f'{self.min_class_score}, min_foreground='
                f'{self.min_foreground}, foreground_mode='
                f'{self.foreground_mode!r})')
