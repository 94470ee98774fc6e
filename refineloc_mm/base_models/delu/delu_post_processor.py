# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's test-time detection (``proposal_methods.
multiple_threshold_hamnet``, ``utils/wsad_utils.py`` and ``test.test`` of
``MengyuanChen21/ECCV2022-DELU`` @ a60e46d), vectorized over videos,
thresholds, runs and classes.

Per video of T snippets (``cas`` [T, C + 1] logits, ``attn`` [T]):

1. w = cas * attn (all C + 1 columns);
2. class scores p = softmax over C + 1 of the mean of the max(1, T // 10)
   largest w values over time, first C columns; predicted classes:
   p >= ``class_thresh`` (0.2), or the argmax alone when none is;
3. for each attention threshold (``linspace(0.1, 0.9, 20)``): the snippets
   with attn > threshold (class-agnostic), split into runs s..e; for each
   predicted class c: score = mean of w[s..e, c] - mean over the outer band
   ``int(s - n / 4) .. s - 1`` and ``e + 1 .. int(e + n / 4)`` (clipped to
   the video; 0 when empty) + ``gamma`` (0.2) * p_c; proposal [s, e + 1)
   in snippets;
4. per class, Gaussian soft-NMS (sigma 0.3) over the proposals of all
   thresholds: the highest score is emitted (first on ties, swapped with
   the first row), every remaining score is multiplied by exp(-IoU^2 /
   sigma); nothing is removed;
5. optionally, proposals touching an ambiguous region are dropped;
6. proposals with end - start < ``min_length`` (2) are dropped, *after*
   the soft-NMS (the original's order);
7. seconds = snippets * seconds per snippet.

Quirks of the original kept behind keys whose defaults reproduce it:
``drop_if_only_position_zero`` (a threshold whose only positive snippet is
position 0 gives nothing: ``if temp_list.any()`` on the indices),
``nms_plus_one`` (the soft-NMS IoU counts a proposal as end - start + 1
snippets although ends are exclusive) and the drop of one-snippet
proposals only after the soft-NMS. ``ambiguous_file`` is None by default:
the original reads ``./Thumos14reduced-Annotations/Ambiguous_test.txt``
relative to the working directory; give that file to reproduce it.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from mmaction.registry import TASK_UTILS
from mmaction.utils import SampleList
from refineloc_mm.models.utils.snippet_ops import (snippet_durations,
                                                   topk_mean_over_time)
from refineloc_mm.models.task_modules.base_segment_post_processor import (
    BaseSegmentPostProcessor)

ArrayLike = Union[np.ndarray, torch.Tensor]


def _numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


def read_ambiguous_file(path: str) -> Dict[str, List[tuple]]:
    """Regions of the original's ``Ambiguous_test.txt`` (lines ``name
    start end`` in seconds, separated by spaces).

    Returns:
        dict[str, list[tuple[float, float]]]: Regions per video name.
    """
    regions: Dict[str, List[tuple]] = {}
    with open(path) as f:
        for num, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                raise ValueError(f'{path}:{num}: expected "name start end", '
                                 f'got {line.strip()!r}')
            regions.setdefault(parts[0], []).append(
                (float(parts[1]), float(parts[2])))
    return regions


def soft_nms_groups(group: np.ndarray, score: np.ndarray, start: np.ndarray,
                    end: np.ndarray, sigma: float = 0.3,
                    plus_one: bool = True) -> np.ndarray:
    """Gaussian soft-NMS within every group (the original's
    ``utils.soft_nms``), all groups at once: one step per emitted proposal
    of the largest group.

    Args:
        group (np.ndarray): [M] group id per proposal (sorted or not).
        score, start, end (np.ndarray): [M] scores and [start, end).
        sigma (float): Gaussian width. Defaults to 0.3.
        plus_one (bool): Length end - start + 1 and intersection + 1 (the
            original). Defaults to True.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``index`` [M] (the
        proposals in emission order, group by group), their decayed
        ``score`` [M] (float64) and ``rank`` [M] (emission step within the
        group).
    """
    m = len(score)
    if m == 0:
        empty = np.zeros(0, np.int64)
        return empty, np.zeros(0), empty
    order = np.argsort(group, kind='stable')  # keeps the original order
    g_sorted = group[order]
    ids, first, counts = np.unique(g_sorted, return_index=True,
                                   return_counts=True)
    num, width = len(ids), int(counts.max())
    col = np.arange(m) - np.repeat(first, counts)
    row = np.repeat(np.arange(num), counts)
    idx = np.full((num, width), -1, np.int64)
    idx[row, col] = order
    valid = idx >= 0
    s = np.where(valid, score[np.maximum(idx, 0)].astype(np.float64), -np.inf)
    st = np.where(valid, start[np.maximum(idx, 0)], 0).astype(np.float64)
    en = np.where(valid, end[np.maximum(idx, 0)], 0).astype(np.float64)
    extra = 1. if plus_one else 0.
    rows = np.arange(num)
    for k in range(width):
        active = counts > k
        # argmax over the remaining columns k.. (first on ties)
        pick = k + np.argmax(s[:, k:], axis=1)
        pick = np.where(active, pick, k)
        for arr in (s, st, en, idx):  # swap columns k and pick
            old = arr[rows, k]
            arr[rows, k] = arr[rows, pick]
            arr[rows, pick] = old
        if k + 1 == width:
            break
        s0, e0 = st[:, k:k + 1], en[:, k:k + 1]
        inter = np.maximum(
            np.minimum(e0, en[:, k + 1:]) - np.maximum(s0, st[:, k + 1:]) +
            extra, 0.)
        iou = inter / ((e0 - s0 + extra) + (en[:, k + 1:] - st[:, k + 1:] +
                                             extra) - inter)
        with np.errstate(invalid='ignore', over='ignore'):
            decay = np.exp(-(iou * iou) / sigma)
            s[:, k + 1:] = np.where(valid[:, k + 1:] & active[:, None],
                                    s[:, k + 1:] * decay, s[:, k + 1:])
    # valid entries stay in the first counts[g] columns after the swaps
    keep = np.arange(width)[None] < counts[:, None]
    ranks = np.broadcast_to(np.arange(width), (num, width))[keep]
    return idx[keep], s[keep], ranks


@TASK_UTILS.register_module()
class DELUPostProcessor(BaseSegmentPostProcessor):
    """DELU's proposals, Gaussian soft-NMS and filters (see the module
    docstring).

    Args:
        class_thresh (float): Class score threshold of a predicted class.
            Defaults to 0.2.
        class_topk_ratio (int): k = max(1, T // class_topk_ratio) of the
            class scores. Defaults to 10.
        act_thresh (Sequence[float], optional): Attention thresholds.
            Defaults to ``np.linspace(0.1, 0.9, 20)``.
        lambda_ (float): Outer band, relative to the run's length.
            Defaults to 0.25.
        gamma (float): Weight of the class score. Defaults to 0.2.
        sigma (float): Gaussian soft-NMS width. Defaults to 0.3.
        min_length (int): Proposals shorter than this many snippets are
            dropped after the soft-NMS. Defaults to 2 (the original's
            ``t-end - t-start > 1``).
        drop_if_only_position_zero (bool): See the module docstring.
            Defaults to True.
        nms_plus_one (bool): See the module docstring. Defaults to True.
        ambiguous_file (str, optional): Regions whose overlapping proposals
            are dropped (the original's ``Ambiguous_test.txt`` format).
            Defaults to None (no filter).
    """

    def __init__(self,
                 class_thresh: float = 0.2,
                 class_topk_ratio: int = 10,
                 act_thresh: Optional[Sequence[float]] = None,
                 lambda_: float = 0.25,
                 gamma: float = 0.2,
                 sigma: float = 0.3,
                 min_length: int = 2,
                 drop_if_only_position_zero: bool = True,
                 nms_plus_one: bool = True,
                 ambiguous_file: Optional[str] = None) -> None:
        if class_topk_ratio < 1:
            raise ValueError(
                f'class_topk_ratio must be >= 1, got {class_topk_ratio}')
        self.class_thresh = class_thresh
        self.class_topk_ratio = class_topk_ratio
        self.act_thresh = np.linspace(0.1, 0.9, 20) if act_thresh is None \
            else np.asarray(act_thresh, dtype=np.float64).reshape(-1)
        self.lambda_ = lambda_
        self.gamma = gamma
        self.sigma = sigma
        self.min_length = min_length
        self.drop_if_only_position_zero = drop_if_only_position_zero
        self.nms_plus_one = nms_plus_one
        self.ambiguous_file = ambiguous_file
        self.ambiguous = read_ambiguous_file(ambiguous_file) \
            if ambiguous_file else {}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(class_thresh={self.class_thresh}'
                f', act_thresh={len(self.act_thresh)} values, sigma='
                f'{self.sigma}, min_length={self.min_length}, '
                f'ambiguous_file={self.ambiguous_file})')

    def class_scores(self, cas: torch.Tensor, attn: torch.Tensor,
                     mask: torch.Tensor) -> torch.Tensor:
        """p [B, C]: softmax over C + 1 of the top-k mean of cas * attn
        (``get_cls_score(cas * attn, rat=10)``), first C columns."""
        w = cas * attn[..., None]
        k = (mask.sum(1) // self.class_topk_ratio).clamp(min=1)
        return torch.softmax(topk_mean_over_time(w, mask, k), -1)[:, :-1]

    def proposals(self, cas: ArrayLike, attn: ArrayLike,
                  mask: ArrayLike) -> Dict[str, np.ndarray]:
        """Proposals of every threshold, before the soft-NMS.

        Args:
            cas (Tensor): [B, T, C + 1] logits.
            attn (Tensor): [B, T] attention.
            mask (Tensor): [B, T] bool.

        Returns:
            dict[str, np.ndarray]: ``class_scores`` [B, C], ``pred`` [B, C]
            bool (predicted classes) and per proposal (grouped by video and
            class, then in the original's order: threshold, time):
            ``video``, ``cls``, ``threshold_index``, ``start``, ``end``
            (snippets, end exclusive) and ``score`` (float64).
        """
        cas = torch.as_tensor(cas, dtype=torch.float32)
        attn = torch.as_tensor(attn, dtype=torch.float32)
        mask = torch.as_tensor(mask, dtype=torch.bool, device=cas.device)
        p = _numpy(self.class_scores(cas, attn, mask))  # float32
        b, t, c1 = cas.shape
        pred = p >= self.class_thresh
        none = ~pred.any(1)
        pred[none, p[none].argmax(1)] = True
        valid = _numpy(mask).astype(bool)
        w = _numpy(cas * attn[..., None]).astype(np.float64)  # [B, T, C+1]
        a = _numpy(attn).astype(np.float64)
        h = len(self.act_thresh)
        pos = (a[:, None] > self.act_thresh[None, :, None]) & valid[:, None]
        if self.drop_if_only_position_zero:
            only_zero = pos[..., 0] & (pos.sum(-1) == 1)
            pos[only_zero] = False
        edges = np.diff(pos.reshape(b * h, t).astype(np.int8), axis=1,
                        prepend=0, append=0)
        rows, first = np.nonzero(edges == 1)
        last = np.nonzero(edges == -1)[1] - 1
        run_video, run_thr = np.divmod(rows, h)
        # runs x predicted classes of their video
        pv, pc = np.nonzero(pred)  # sorted by video, then class
        per_video = np.bincount(pv, minlength=b)
        offset = np.concatenate([[0], np.cumsum(per_video)[:-1]])
        reps = per_video[run_video]
        run = np.repeat(np.arange(len(rows)), reps)
        within = np.arange(len(run)) - np.repeat(
            np.cumsum(reps) - reps, reps)
        video = run_video[run]
        cls = pc[offset[video] + within]
        s, e, thr = first[run], last[run], run_thr[run]
        # outer-inner contrast from cumulative sums over time
        csum = np.concatenate([np.zeros((b, 1, c1)), np.cumsum(w, 1)], 1)

        def span(lo, hi):  # sum of w[video, lo .. hi - 1, cls]
            return csum[video, hi, cls] - csum[video, lo, cls]

        n = e - s + 1
        inner = span(s, e + 1) / n
        lengths = valid.sum(1)[video]
        outer_s = np.maximum(0, np.trunc(s - self.lambda_ * n)).astype(int)
        outer_e = np.minimum(lengths - 1,
                             np.trunc(e + self.lambda_ * n)).astype(int)
        count = (s - outer_s) + (outer_e - e)
        outer = np.where(count > 0,
                         (span(outer_s, s) + span(e + 1, outer_e + 1)) /
                         np.maximum(count, 1), 0.)
        score = inner - outer + self.gamma * p[video, cls].astype(np.float64)
        # group by (video, class), keeping threshold-then-time order
        order = np.lexsort((s, thr, cls, video))
        return dict(
            class_scores=p,
            pred=pred,
            video=video[order],
            cls=cls[order],
            threshold_index=thr[order],
            start=s[order],
            end=e[order] + 1,
            score=score[order])

    def soft_nms(self, props: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Gaussian soft-NMS per (video, class) over ``props`` (the output
        of :meth:`proposals`).

        Returns:
            dict[str, np.ndarray]: ``video``, ``cls``, ``start``, ``end``,
            ``score`` (decayed) of every proposal, in emission order.
        """
        num_cls = int(props['pred'].shape[1])
        group = props['video'] * num_cls + props['cls']
        idx, score, _ = soft_nms_groups(group, props['score'],
                                        props['start'], props['end'],
                                        self.sigma, self.nms_plus_one)
        return dict(
            video=props['video'][idx],
            cls=props['cls'][idx],
            start=props['start'][idx],
            end=props['end'][idx],
            score=score)

    def ambiguous_mask(self, dets: Dict[str, np.ndarray],
                       video_names: Optional[Sequence[Optional[str]]],
                       seconds_per_snippet: Sequence[float]) -> np.ndarray:
        """[M] bool: proposals sharing a snippet with an ambiguous region
        of their video (region ``round(start / f) .. round(end / f) - 1``,
        f = seconds per snippet)."""
        drop = np.zeros(len(dets['video']), bool)
        if not self.ambiguous or video_names is None:
            return drop
        for v, name in enumerate(video_names):  # loop over regions only
            for t0, t1 in self.ambiguous.get(name, ()):
                f = seconds_per_snippet[v]
                lo, hi = round(t0 / f), round(t1 / f)
                drop |= (dets['video'] == v) & (np.maximum(
                    dets['start'], lo) < np.minimum(dets['end'], hi))
        return drop

    def predict_segments(self, scores: Dict[str, torch.Tensor],
                         data_samples: SampleList) -> List[np.ndarray]:
        """:meth:`__call__` on the scores dict: ``cas`` [B, T, C + 1]
        logits, ``attn`` [B, T] and ``mask``; the samples' video names
        for the ambiguous regions."""
        self.require_scores(scores, ('cas', 'attn', 'mask'))
        return self(
            cas=scores['cas'],
            attn=scores['attn'],
            mask=scores['mask'],
            seconds_per_snippet=snippet_durations(data_samples),
            video_names=[
                ds.metainfo.get('video_name') for ds in data_samples
            ])

    def __call__(self,
                 cas: ArrayLike,
                 attn: ArrayLike,
                 mask: ArrayLike,
                 seconds_per_snippet: Sequence[float],
                 video_names: Optional[Sequence[Optional[str]]] = None
                 ) -> List[np.ndarray]:
        """Segments of a padded batch.

        Args:
            cas (Tensor): [B, T, C + 1] logits.
            attn (Tensor): [B, T] attention.
            mask (Tensor): [B, T] bool.
            seconds_per_snippet (Sequence[float]): Per video, length B.
            video_names (Sequence[str], optional): For the ambiguous
                regions.

        Returns:
            list[np.ndarray]: Per video, [M_i, 4] float64 rows
            ``(t_start, t_end, class_index, score)`` in seconds, class by
            class in soft-NMS emission order.
        """
        batch = len(seconds_per_snippet)
        dets = self.soft_nms(self.proposals(cas, attn, mask))
        keep = ~self.ambiguous_mask(dets, video_names, seconds_per_snippet)
        keep &= dets['end'] - dets['start'] >= self.min_length
        dets = {k: v[keep] for k, v in dets.items()}
        order = np.argsort(dets['video'], kind='stable')
        dets = {k: v[order] for k, v in dets.items()}
        f = np.asarray(seconds_per_snippet, dtype=np.float64)[dets['video']]
        segments = np.stack([
            dets['start'] * f, dets['end'] * f,
            dets['cls'].astype(np.float64), dets['score']
        ], 1).reshape(-1, 4)
        counts = np.bincount(dets['video'], minlength=batch)
        return np.split(segments, np.cumsum(counts)[:-1])
