# Copyright (c) refineloc-mm contributors. All rights reserved.
"""What every snippet-feature layout shares.

A layout (reference HDF5 + CSV, per-video ``.npy`` + ActivityNet-style
JSON, ...) only says how to read its annotations and how to index its
feature files; :class:`BaseSnippetDataset` turns both into the same
data_info dicts (class mapping, clipped ground truth, true foreground
mask), so the loading transform, :class:`PseudoLabelDataset`, the
refinement hook and the metric never see the layout.
"""
from collections import Counter, OrderedDict
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from ..utils.snippets import fill_segments, offsets_from_lengths

STREAMS = {0: 'first half', 1: 'second half', 2: 'both halves'}
ON_ERROR = ('raise', 'skip')
# at most this many video names are listed in a log line
MAX_LISTED = 20


class AnnotationError(ValueError):
    """Bad annotation or feature input; the message names file and video."""


def natural_class_order(labels: Iterable[str]) -> List[str]:
    """Sorted class names; numerically when every label is an integer."""
    labels = sorted(set(labels))
    if all(lab.lstrip('-').isdigit() for lab in labels):
        return sorted(labels, key=int)
    return labels


def listed(names: Sequence[str]) -> str:
    """``names`` for a log line, truncated after ``MAX_LISTED``."""
    names = list(names)
    more = len(names) - MAX_LISTED
    shown = ', '.join(names[:MAX_LISTED])
    return shown + (f', ... ({more} more)' if more > 0 else '')


def stream_columns(width: int, stream: int) -> Tuple[int, int]:
    """Column range [start, stop) of ``stream`` in a ``width``-d feature."""
    half = width // 2
    return {0: (0, half), 1: (half, width), 2: (0, width)}[stream]


def reference_width(shapes: Sequence[Tuple[int, ...]],
                    expected_snippets: Sequence[Optional[float]]) -> int:
    """The feature width D of a set of 2-D feature arrays.

    Feature width is the same for every video while lengths vary, so the
    value that recurs most in one axis is D: the last axis for [T, D]
    files, the first for files stored as [D, T]. On a tie (for example a
    single video) each array votes with its duration: the axis closer to
    the expected number of snippets is the time axis.

    Args:
        shapes: 2-D shapes, one per video.
        expected_snippets: duration * fps / snippet_size per video (None
            when unknown).
    """
    rows = Counter(s[0] for s in shapes)
    cols = Counter(s[1] for s in shapes)
    (row_value, n_rows), = rows.most_common(1)
    (col_value, n_cols), = cols.most_common(1)
    if n_cols != n_rows:
        return col_value if n_cols > n_rows else row_value
    votes = [
        abs(s[1] - t) < abs(s[0] - t)
        for s, t in zip(shapes, expected_snippets) if t is not None
    ]
    return row_value if votes and sum(votes) * 2 > len(votes) else col_value


def shape_problem(shape: Tuple[int, ...], width: int,
                  expected_snippets: Optional[float]
                  ) -> Optional[Tuple[str, str]]:
    """Why features of ``shape`` are not [T, ``width``], or None.

    Recognizes 1-D arrays, arrays of more dimensions, [D, T] arrays
    (stored transposed), a different width and zero snippets.

    Returns:
        tuple | None: (reason, text); reason is ``'bad feature shape'``,
        ``'bad feature width'`` or ``'zero snippets'``, text completes
        "features of video X ...".
    """
    if len(shape) == 1:
        return ('bad feature shape',
                f'have shape {tuple(shape)}: a 1-D array, expected [T, D] '
                f'(T snippets of {width} channels)')
    if len(shape) != 2:
        return ('bad feature shape',
                f'have shape {tuple(shape)}, expected [T, D]')
    rows, cols = shape
    if cols != width:
        t = expected_snippets
        if rows == width and (t is None or abs(cols - t) <= abs(rows - t)):
            return ('bad feature shape',
                    f'have shape {tuple(shape)}: stored as [D, T] (D='
                    f'{rows} channels, T={cols} snippets); expected [T, D], '
                    'transpose the array')
        return ('bad feature width',
                f'have shape {tuple(shape)}: {cols} channels where the '
                f'other videos have {width}')
    if rows == 0:
        return 'zero snippets', 'have zero snippets'
    return None


class BaseSnippetDataset(BaseDataset):
    """Untrimmed videos with video-level labels and snippet features.

    Every sample holds the video's features ([T, D'] after stream
    selection), its multi-hot video label (all classes annotated in the
    video), its ground-truth segments (for evaluation) and its true
    snippet-level foreground mask (for pseudo-label statistics only; it is
    never used as supervision).

    After the data list is built, :attr:`feature_width` is the width of
    the features after stream selection (``in_channels`` when set), or
    None for layouts without feature files (raw video).

    Subclasses implement :meth:`read_annotations` and
    :meth:`index_features`; everything else (class mapping, clipping,
    foreground masks, the ``on_error='skip'`` bookkeeping) is shared.

    Args:
        ann_file (str): Annotation file of the split.
        snippet_size (int): Frames per snippet. Defaults to 16.
        stream (int): 0 first half of the features, 1 second half, 2 both.
            Defaults to 2.
        in_channels (int, optional): Expected feature width after stream
            selection; checked against the files. Defaults to None.
        classes (Sequence[str], optional): Class names in index order.
            Defaults to the annotations' labels, numerically sorted when
            all are integers, else alphabetically. Also accepted as
            ``metainfo=dict(classes=...)``.
        on_error (str): ``'raise'`` (default) stops at the first video
            whose features or annotation are unusable, naming file and
            video; ``'skip'`` leaves such videos out and logs, per reason,
            how many were skipped and which (see :attr:`skipped_videos`).
        pipeline (list): Transforms. Defaults to loading and packing.
        data_root (str): Prefix of the annotation and feature paths.
        test_mode (bool): Defaults to False.
    """

    def __init__(self,
                 ann_file: str,
                 snippet_size: int = 16,
                 stream: int = 2,
                 in_channels: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None,
                 on_error: str = 'raise',
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 data_root: str = '',
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if stream not in STREAMS:
            raise ValueError(f'stream must be 0, 1 or 2, got {stream}')
        if on_error not in ON_ERROR:
            raise ValueError(
                f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        self.snippet_size = snippet_size
        self.stream = stream
        self.in_channels = in_channels
        # width of the accepted videos' features after stream selection,
        # set when the data list is built (None: no width check ran)
        self.feature_width: Optional[int] = None
        self.on_error = on_error
        self.skipped_videos: Dict[str, List[str]] = OrderedDict()
        metainfo = dict(metainfo or {})
        if classes is not None:
            metainfo['classes'] = tuple(classes)
        if pipeline is None:
            pipeline = [
                dict(type='LoadSnippetFeatures'),
                dict(type='PackSnippetInputs')
            ]
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            metainfo=metainfo,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    # ------------------------------------------------------ layout API
    def read_annotations(self) -> 'OrderedDict[str, Dict]':
        """Annotations of the split, in dataset order.

        Returns:
            OrderedDict: video name -> dict(duration, fps, num_frames,
            segments: list of (t_start, t_end, label str)). Videos
            rejected with :meth:`reject` are left out.
        """
        raise NotImplementedError

    def index_features(self, videos: 'OrderedDict[str, Dict]'
                       ) -> Dict[str, Dict]:
        """Validate the features of ``videos`` without reading them.

        Returns:
            dict: video name -> dict(num_snippets=T, plus the keys the
            loading transform needs), for the videos not rejected.
        """
        raise NotImplementedError

    def class_labels(self, videos: 'OrderedDict[str, Dict]') -> List[str]:
        """Labels that define the class list when none is configured."""
        return [s[2] for v in videos.values() for s in v['segments']]

    # --------------------------------------------------------- helpers
    def reject(self, name: str, reason: str, message: str) -> None:
        """Refuse video ``name``: raise, or record it as skipped.

        Args:
            name (str): The video.
            reason (str): Short reason, the key of the skip count.
            message (str): Full message naming file and video.
        """
        if self.on_error == 'raise':
            raise AnnotationError(message)
        self.skipped_videos.setdefault(reason, []).append(name)
        MMLogger.get_current_instance().debug(f'skipped: {message}')

    def expected_snippets(self, info: Dict) -> float:
        """Snippets implied by a video's duration and fps."""
        return info['duration'] * info['fps'] / self.snippet_size

    def check_width(self, source: str, name: str,
                    full_width: int) -> Optional[Tuple[int, int]]:
        """Stream columns of a ``full_width``-d feature, checked against
        ``in_channels``; None (after :meth:`reject`) when they do not fit.
        """
        width = full_width
        if self.stream != 2:
            if full_width % 2:
                self.reject(
                    name, 'bad feature width',
                    f'{source}: video "{name}" has odd width {full_width}; '
                    f'cannot take a half (stream={self.stream}).')
                return None
            width //= 2
        if self.in_channels is not None and width != self.in_channels:
            self.reject(
                name, 'bad feature width',
                f'{source}: video "{name}" gives {width}-d features with '
                f'stream={self.stream}, but the config expects '
                f'in_channels={self.in_channels}.')
            return None
        self.feature_width = width
        return stream_columns(full_width, self.stream)

    def expected_full_width(self) -> Optional[int]:
        """Width before stream selection implied by ``in_channels``."""
        if self.in_channels is None:
            return None
        return self.in_channels * (1 if self.stream == 2 else 2)

    # ------------------------------------------------------ data list
    def load_data_list(self) -> List[dict]:
        """Read and validate annotations and feature shapes."""
        logger = MMLogger.get_current_instance()
        self.skipped_videos.clear()
        self.feature_width = None
        videos = self.read_annotations()
        if 'classes' not in self._metainfo:
            self._metainfo['classes'] = tuple(
                natural_class_order(self.class_labels(videos)))
        classes = self._metainfo['classes']
        class_index = {c: i for i, c in enumerate(classes)}
        features = self.index_features(videos)

        data_list, clipped, outside = [], 0, []
        for name, info in videos.items():
            if name not in features:
                continue
            seg = []
            for t_start, t_end, label in info['segments']:
                if label not in class_index:
                    raise AnnotationError(
                        f'{self.ann_file} (video "{name}"): unknown label '
                        f'"{label}"; classes are {list(classes)}.')
                s, e = max(t_start, 0.), min(t_end, info['duration'])
                if (s, e) != (t_start, t_end):
                    clipped += 1
                if e <= s:
                    # kept as zero-length ground truth: it still counts as
                    # an (unmatchable) instance in the metric, as in the
                    # reference evaluator, and still labels the video
                    outside.append(name)
                    s = e = min(max(t_start, 0.), info['duration'])
                seg.append((s, e, class_index[label]))
            segments = np.array(seg, dtype=np.float64).reshape(-1, 3)
            data_info = dict(
                video_name=name,
                duration=info['duration'],
                fps=info['fps'],
                num_frames=info['num_frames'],
                snippet_size=self.snippet_size,
                stream=self.stream,
                labels=sorted({int(c) for c in segments[:, 2]}),
                gt_segments=segments)
            data_info.update(features[name])
            data_list.append(data_info)
        if clipped:
            logger.warning(
                f'{self.ann_file}: clipped {clipped} segment(s) to '
                '[0, video-duration].')
        if outside:
            logger.warning(
                f'{self.ann_file}: {len(outside)} segment(s) lie entirely '
                'outside [0, video-duration] (videos '
                f'{sorted(set(outside))}); they are kept as zero-length '
                'ground truth that no prediction can match.')
        for reason, names in self.skipped_videos.items():
            logger.warning(
                f'{self.ann_file}: skipped {len(names)} video(s) '
                f'(on_error="skip"): {reason}: {listed(names)}')
        if not data_list:
            raise AnnotationError(
                f'{self.ann_file}: no usable video is left (skipped: '
                f'{ {r: len(n) for r, n in self.skipped_videos.items()} }).')
        self._attach_foreground_masks(data_list)
        return data_list

    @staticmethod
    def _attach_foreground_masks(data_list: List[dict]) -> None:
        """True snippet-level foreground of every video (statistics only),
        filled with the same rule as pseudo labels from predictions."""
        lengths = np.array([d['num_snippets'] for d in data_list])
        segs = [
            d['gt_segments'][d['gt_segments'][:, 1] > d['gt_segments'][:, 0]]
            for d in data_list
        ]
        video = np.repeat(np.arange(len(segs)), [len(s) for s in segs])
        allseg = np.concatenate(segs) if segs else np.zeros((0, 3))
        mask = fill_segments(lengths, video, allseg[:, 0], allseg[:, 1],
                             np.array([d['fps'] for d in data_list]),
                             np.array([d['snippet_size'] for d in data_list]))
        offsets = offsets_from_lengths(lengths)
        for d, s, e in zip(data_list, offsets[:-1], offsets[1:]):
            d['fg_mask'] = mask[s:e]

    def get_data_info(self, idx: int) -> dict:
        """Annotation of one video, plus ``num_classes``."""
        info = super().get_data_info(idx)
        info['num_classes'] = len(self._metainfo['classes'])
        return info

    @property
    def num_snippets(self) -> np.ndarray:
        """[V] snippets per video, in dataset order."""
        return np.array([
            self.get_data_info(i)['num_snippets'] for i in range(len(self))
        ], dtype=np.int64)
