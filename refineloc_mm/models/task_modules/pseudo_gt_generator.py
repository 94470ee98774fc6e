# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Pseudo ground truth generation of RefineLoc.

After a round, the round's model predicts on the training set and the
generator turns that into one label per snippet: -1 ignore, 0 background,
1 foreground. All videos of the split are processed together as one flat
snippet array (no loop over videos or snippets).

The generators work for every base model of the refinement through the
base-model contract (:class:`BaseSnippetHead`): the model's
``snippet_scores`` (the scores dict) and a post-processor reading it;
nothing here depends on the model's type or holds a model's defaults.

Sources (``source``):

* ``predictions`` (default): ``post_processor`` (any ``TASK_UTILS``
  post-processor with ``predict_segments``, e.g.
  ``SnippetThresholdSegmenter`` with RefineLoc's refinement thresholds)
  or, without one, the base model's *own* post-processing turns its
  scores into segments; the snippets of each predicted segment
  (``round(t_start * fps / s)`` .. ``round(t_end * fps / s)`` inclusive)
  are foreground, everything else background. (The former ``attention``
  and ``cas`` sources are ``post_processor=dict(
  type='SnippetThresholdSegmenter', min_cas_score=0., ...)`` and
  ``dict(type='SnippetThresholdSegmenter', min_attention_score=0.,
  require_foreground=False, ...)``.)
* ``oracle``: segments cut from the true foreground mask with the same
  dilation and padding, filled the same way (analysis only).
* ``biased_random``: foreground with probability 0.6.
* ``uniform_random``: foreground with probability 0.5.

Whatever the source, the segments can then be filtered by generic keys that
know nothing of the model: ``video_label_classes_only`` keeps only the
segments of the classes the training video is labelled with (the video
labels are known during training, so labels cannot drift towards "every
class is everywhere"), and ``min_segment_score`` drops segments scored
below it.

Then the foreground of the last ``from_m_iterations`` rounds is united and,
per video, a random ``floor(T * dropout)`` snippets are set to -1.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from mmaction.registry import TASK_UTILS
from mmaction.utils import SampleList
from ...utils.snippets import fill_segments, offsets_from_lengths
from ..utils.temporal_runs import connected_components, dilate_along_time

SOURCES = ('predictions', 'oracle', 'biased_random', 'uniform_random')
RANDOM_FG_PROB = dict(biased_random=0.6, uniform_random=0.5)
# the former sources whose labelers are now post-processor configs
THRESHOLD_SOURCES = dict(
    attention="post_processor=dict(type='SnippetThresholdSegmenter', "
    'min_cas_score=0., min_attention_score=..., top_k=..., padding=...)',
    cas="post_processor=dict(type='SnippetThresholdSegmenter', "
    'min_attention_score=0., require_foreground=False, min_cas_score=...)')


def segments_to_labels(segments: Sequence[np.ndarray],
                       num_snippets: np.ndarray, fps: np.ndarray,
                       snippet_size: np.ndarray) -> np.ndarray:
    """Flat bool foreground of all videos from their predicted segments.

    Args:
        segments (Sequence[np.ndarray]): Per video [M_i, >= 2] rows starting
            with (t_start, t_end) in seconds.
        num_snippets (np.ndarray): [V] snippets per video.
        fps (np.ndarray): [V] frames per second.
        snippet_size (np.ndarray): [V] frames per snippet.
    """
    counts = [len(s) for s in segments]
    video = np.repeat(np.arange(len(segments)), counts)
    rows = np.concatenate([np.asarray(s).reshape(-1, 4)[:, :2]
                           for s in segments]) if sum(counts) else np.zeros(
                               (0, 2))
    return fill_segments(num_snippets, video, rows[:, 0], rows[:, 1], fps,
                         snippet_size)


def oracle_segments(fg_mask: np.ndarray, num_snippets: np.ndarray,
                    padding: int, fps: np.ndarray,
                    snippet_size: np.ndarray) -> List[np.ndarray]:
    """Segments cut from the true foreground mask (dilated, padded)."""
    t = int(num_snippets.max()) if len(num_snippets) else 0
    valid = np.arange(t)[None] < num_snippets[:, None]
    grid = np.zeros(valid.shape, dtype=bool)
    grid[valid] = fg_mask
    grid = dilate_along_time(grid, valid)
    rows, first, last, _ = connected_components(grid)
    start = np.maximum(first - padding, 0)
    end = np.minimum(last + padding, num_snippets[rows] - 1)
    sps = (np.asarray(snippet_size, np.float64) /
           np.asarray(fps, np.float64))[rows] if len(rows) else np.zeros(0)
    seg = np.stack([start * sps, (end + 1) * sps,
                    np.zeros_like(sps), np.ones_like(sps)], axis=1)
    splits = np.searchsorted(rows, np.arange(1, len(num_snippets)))
    return np.split(seg, splits)


def random_dropout(labels: np.ndarray, num_snippets: np.ndarray, rate: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Set a random ``floor(T * rate)`` snippets of every video to -1."""
    if rate <= 0:
        return labels
    video = np.repeat(np.arange(len(num_snippets)), num_snippets)
    keys = rng.random(labels.shape[0])
    order = np.lexsort((keys, video))  # by video, then random key
    offsets = offsets_from_lengths(num_snippets)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0]) - offsets[video[order]]
    drop = rank < np.floor(num_snippets * rate).astype(np.int64)[video]
    out = labels.copy()
    out[drop] = -1
    return out


def label_statistics(labels: np.ndarray, fg_mask: np.ndarray) -> Dict:
    """Precision/recall/coverage of pseudo labels against the true mask
    and the w_fg statistic.

    Returns:
        dict: ``fg_precision`` (true foreground among pseudo foreground),
        ``fg_recall`` (pseudo foreground among true foreground),
        ``bg_precision``, ``coverage`` (share of snippets with a label),
        ``fg_ratio`` (share of labelled snippets that are foreground) and
        ``w_fg`` = #background / (#background + #foreground).
    """
    fg, bg = labels == 1, labels == 0
    n_fg, n_bg = int(fg.sum()), int(bg.sum())
    true_fg = fg_mask.astype(bool)

    def ratio(a: int, b: int) -> float:
        return float(a) / b if b else 0.0

    return dict(
        fg_precision=ratio(int((fg & true_fg).sum()), n_fg),
        fg_recall=ratio(int((fg & true_fg).sum()), int(true_fg.sum())),
        bg_precision=ratio(int((bg & ~true_fg).sum()), n_bg),
        coverage=ratio(n_fg + n_bg, labels.shape[0]),
        fg_ratio=ratio(n_fg, n_fg + n_bg),
        w_fg=ratio(n_bg, n_fg + n_bg))


@TASK_UTILS.register_module()
class PseudoGTGenerator:
    """Build snippet-level pseudo ground truth for the next round.

    Args:
        source (str): One of ``SOURCES``. Defaults to ``'predictions'``.
        post_processor (dict, optional): For ``source='predictions'``: the
            post-processor (a ``TASK_UTILS`` config with
            ``predict_segments``, reading the model's scores dict) that
            turns the model's scores into segments. Defaults to None: the
            model's own post-processing.
        padding (int): The oracle's padding (snippets on each side of a
            true segment). Defaults to 2.
        from_m_iterations (int): Unite the foreground of the last m rounds.
            Defaults to 1.
        dropout (float): Share of each video's snippets set to -1.
            Defaults to 0.
        seed (int): Base seed of the random parts; round r uses
            ``seed + r`` so that a resumed run draws the same labels.
            Defaults to 0.
        video_label_classes_only (bool): Keep only the segments whose
            class the training video is labelled with (its ``gt_label``).
            Defaults to False (every class the post-processing keeps).
        min_segment_score (float, optional): Drop segments whose score
            (the rows' 4th column) is below it. Defaults to None (keep
            all).
    """

    def __init__(self,
                 source: str = 'predictions',
                 post_processor: Optional[dict] = None,
                 padding: int = 2,
                 from_m_iterations: int = 1,
                 dropout: float = 0.0,
                 seed: int = 0,
                 video_label_classes_only: bool = False,
                 min_segment_score: Optional[float] = None) -> None:
        if source in THRESHOLD_SOURCES:
            raise ValueError(
                f"PseudoGTGenerator(source='{source}') is now "
                f"source='predictions' with {THRESHOLD_SOURCES[source]}")
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source}')
        if from_m_iterations < 1:
            raise ValueError('from_m_iterations must be >= 1')
        self.source = source
        self.from_m_iterations = from_m_iterations
        # flat bool foreground of the last m rounds, oldest first
        self.history: List[np.ndarray] = []
        self.dropout = dropout
        self.seed = seed
        self.video_label_classes_only = video_label_classes_only
        self.min_segment_score = min_segment_score
        self.padding = padding
        self.post_processor = None  # the model's own
        if post_processor is not None:
            if source != 'predictions':
                raise ValueError(
                    f"post_processor is for source='predictions', not "
                    f"'{source}'")
            self.post_processor = TASK_UTILS.build(post_processor)

    @property
    def needs_predictions(self) -> bool:
        """Whether the round's model must run on the training set."""
        return self.source == 'predictions'

    def segments(self, model: torch.nn.Module,
                 scores: Dict[str, torch.Tensor],
                 data_samples: SampleList) -> List[np.ndarray]:
        """Segments of a batch of training videos from the round's model.

        Args:
            model (BaseSnippetLocalizer): The round's model (unwrapped).
            scores (dict[str, Tensor]): ``model.snippet_scores`` of the
                batch.
            data_samples (list[ActionDataSample]): The batch's samples.

        Returns:
            list[np.ndarray]: Per video, [M_i, >= 2] rows starting with
            (t_start, t_end) in seconds.
        """
        segments = model.post_process(scores, data_samples,
                                      self.post_processor)
        return self.filter_segments(segments, data_samples)

    def filter_segments(self, segments: Sequence[np.ndarray],
                        data_samples: SampleList) -> List[np.ndarray]:
        """The generic segment filters (``video_label_classes_only``,
        ``min_segment_score``) on one batch.

        Args:
            segments (Sequence[np.ndarray]): Per video [M_i, 4] rows
                ``(t_start, t_end, class_index, score)``.
            data_samples (list[ActionDataSample]): The batch's samples;
                ``gt_label`` ([N] multi-hot) for the class filter.

        Returns:
            list[np.ndarray]: The kept rows of each video.
        """
        if not self.video_label_classes_only and \
                self.min_segment_score is None:
            return list(segments)
        out = []
        for seg, ds in zip(segments, data_samples):
            seg = np.asarray(seg, dtype=np.float64).reshape(-1, 4)
            keep = np.ones(len(seg), dtype=bool)
            if self.video_label_classes_only:
                if 'gt_label' not in ds:
                    raise ValueError(
                        'PseudoGTGenerator(video_label_classes_only=True) '
                        'needs the video labels (gt_label) of training '
                        f'video "{ds.metainfo.get("video_name")}"')
                classes = np.flatnonzero(
                    ds.gt_label.detach().cpu().numpy() > 0)
                keep &= np.isin(seg[:, 2].astype(np.int64), classes)
            if self.min_segment_score is not None:
                keep &= seg[:, 3] >= self.min_segment_score
            out.append(seg[keep])
        return out

    def foreground(self, num_snippets: np.ndarray, fps: np.ndarray,
                   snippet_size: np.ndarray, round_idx: int,
                   segments: Optional[Sequence[np.ndarray]] = None,
                   fg_mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Flat bool foreground of this round, before union and dropout.

        Args:
            num_snippets, fps, snippet_size (np.ndarray): [V] per video.
            round_idx (int): The round that just ended.
            segments (list[np.ndarray], optional): Predicted segments per
                video (from the post-processor), for ``predictions``.
            fg_mask (np.ndarray, optional): Flat true foreground, for the
                oracle.
        """
        total = int(np.sum(num_snippets))
        if self.source in RANDOM_FG_PROB:
            rng = np.random.default_rng([self.seed, round_idx, 1])
            return rng.random(total) < RANDOM_FG_PROB[self.source]
        if self.source == 'oracle':
            if fg_mask is None:
                raise ValueError('the oracle generator needs fg_mask')
            segments = oracle_segments(fg_mask, num_snippets, self.padding,
                                       fps, snippet_size)
        if segments is None:
            raise ValueError(f'source "{self.source}" needs segments')
        return segments_to_labels(segments, num_snippets, fps, snippet_size)

    def update(self,
               num_snippets: np.ndarray,
               fps: np.ndarray,
               snippet_size: np.ndarray,
               round_idx: int,
               segments: Optional[Sequence[np.ndarray]] = None,
               fg_mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Labels for the next round: this round's foreground (see
        :meth:`foreground`, same arguments) joins the history of the last
        ``from_m_iterations`` rounds, whose union, with dropout, gives the
        labels (:meth:`__call__`).

        Returns:
            np.ndarray: Flat int8 labels in {-1, 0, 1}.
        """
        fg = self.foreground(num_snippets, fps, snippet_size, round_idx,
                             segments=segments, fg_mask=fg_mask)
        self.history = (self.history + [fg])[-self.from_m_iterations:]
        return self(self.history, num_snippets, round_idx)

    def state_dict(self) -> Dict:
        """The foreground history (what resume must restore)."""
        return dict(history=[torch.from_numpy(h) for h in self.history])

    def load_state_dict(self, state: Dict) -> None:
        """Restore :meth:`state_dict`'s history."""
        self.history = [
            np.asarray(h.numpy() if torch.is_tensor(h) else h).astype(bool)
            for h in state['history']
        ]

    def __call__(self, foreground_history: List[np.ndarray],
                 num_snippets: np.ndarray, round_idx: int) -> np.ndarray:
        """Final labels from the foreground of the latest rounds.

        Args:
            foreground_history (list[np.ndarray]): Flat bool foreground of
                past rounds, oldest first; the last m are united.
            num_snippets (np.ndarray): [V] snippets per video.
            round_idx (int): The round that just ended (seeds dropout).

        Returns:
            np.ndarray: Flat int8 labels in {-1, 0, 1}.
        """
        fg = np.logical_or.reduce(
            foreground_history[-self.from_m_iterations:])
        labels = fg.astype(np.int8)
        rng = np.random.default_rng([self.seed, round_idx, 2])
        return random_dropout(labels, np.asarray(num_snippets), self.dropout,
                              rng)


__all__ = [
    'PseudoGTGenerator', 'segments_to_labels', 'label_statistics',
    'random_dropout', 'oracle_segments'
]
