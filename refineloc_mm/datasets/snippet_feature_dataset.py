# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Untrimmed videos as sequences of pre-extracted snippet features.

Reads the reference layout unchanged: one HDF5 file per split (one dataset
per video name, [T, D] float32) and a ground-truth CSV with the columns
``video-name,t-start,t-end,label,video-duration,fps,video-num-frames``.
"""
import csv
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Union

import h5py
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmaction.registry import DATASETS
from ..utils.snippets import fill_segments, offsets_from_lengths

CSV_COLUMNS = ('video-name', 't-start', 't-end', 'label', 'video-duration',
               'fps', 'video-num-frames')
STREAMS = {0: 'first half', 1: 'second half', 2: 'both halves'}


class AnnotationError(ValueError):
    """Bad annotation or feature input; the message names file and video."""


def natural_class_order(labels: Sequence[str]) -> List[str]:
    """Sorted class names; numerically when every label is an integer."""
    labels = sorted(set(labels))
    if all(lab.lstrip('-').isdigit() for lab in labels):
        return sorted(labels, key=int)
    return labels


def read_groundtruth_csv(path: str) -> 'OrderedDict[str, Dict]':
    """Parse a reference ground-truth CSV, grouped by video.

    Returns:
        OrderedDict: video name -> dict(duration, fps, num_frames,
        segments: list of (t_start, t_end, label str), line numbers).

    Raises:
        AnnotationError: Missing file, bad header, malformed row (wrong
            number of fields, non-numeric value, t_end <= t_start) or
            inconsistent per-video metadata, naming file, line and video.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file {path} does not exist.')
    videos: 'OrderedDict[str, Dict]' = OrderedDict()
    with open(path, newline='') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise AnnotationError(f'{path}: the annotation file is empty.')
        if tuple(h.strip() for h in header) != CSV_COLUMNS:
            raise AnnotationError(
                f'{path}: expected the header {",".join(CSV_COLUMNS)}, '
                f'got {",".join(header)}.')
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            name = row[0].strip()
            if len(row) != len(CSV_COLUMNS):
                raise AnnotationError(
                    f'{path}, line {line} (video "{name}"): expected '
                    f'{len(CSV_COLUMNS)} fields, got {len(row)}: {row}')
            try:
                t_start, t_end = float(row[1]), float(row[2])
                duration, fps = float(row[4]), float(row[5])
                num_frames = int(float(row[6]))
            except (ValueError, OverflowError) as e:  # int(inf) overflows
                raise AnnotationError(
                    f'{path}, line {line} (video "{name}"): malformed row '
                    f'{row}: {e}') from None
            values = np.array([t_start, t_end, duration, fps])
            if not name or not np.isfinite(values).all() or fps <= 0 \
                    or duration <= 0 or t_end <= t_start:
                raise AnnotationError(
                    f'{path}, line {line} (video "{name}"): malformed row '
                    f'{row} (need a name, finite times with t-end > '
                    't-start, positive duration and fps).')
            info = videos.setdefault(
                name,
                dict(duration=duration, fps=fps, num_frames=num_frames,
                     segments=[]))
            if (info['duration'], info['fps']) != (duration, fps):
                raise AnnotationError(
                    f'{path}, line {line} (video "{name}"): duration/fps '
                    f'{duration}/{fps} differ from earlier rows '
                    f'{info["duration"]}/{info["fps"]}.')
            info['segments'].append((t_start, t_end, row[3].strip()))
    if not videos:
        raise AnnotationError(f'{path}: the annotation file has no rows.')
    return videos


@DATASETS.register_module()
class SnippetFeatureDataset(BaseDataset):
    """Untrimmed videos with video-level labels and snippet features.

    Every sample holds the video's features ([T, D'] after stream
    selection), its multi-hot video label (all classes annotated in the
    video), its ground-truth segments (for evaluation) and its true
    snippet-level foreground mask (for pseudo-label statistics only; it is
    never used as supervision).

    Args:
        ann_file (str): Ground-truth CSV of the split.
        feature_file (str): HDF5 file of the split.
        snippet_size (int): Frames per snippet. Defaults to 16.
        stream (int): 0 first half of the features, 1 second half, 2 both.
            Defaults to 2.
        in_channels (int, optional): Expected feature width after stream
            selection; checked against the file. Defaults to None.
        classes (Sequence[str], optional): Class names in index order.
            Defaults to the CSV's labels, numerically sorted when all are
            integers, else alphabetically. Also accepted as
            ``metainfo=dict(classes=...)``.
        pipeline (list): Transforms. Defaults to loading and packing.
        data_root (str): Prefix of ``ann_file`` and ``feature_file``.
        test_mode (bool): Defaults to False.
    """

    def __init__(self,
                 ann_file: str,
                 feature_file: str,
                 snippet_size: int = 16,
                 stream: int = 2,
                 in_channels: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None,
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 data_root: str = '',
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if stream not in STREAMS:
            raise ValueError(f'stream must be 0, 1 or 2, got {stream}')
        self.feature_file = osp.join(data_root, feature_file) \
            if data_root else feature_file
        self.snippet_size = snippet_size
        self.stream = stream
        self.in_channels = in_channels
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

    def load_data_list(self) -> List[dict]:
        """Read the CSV and the feature shapes; validate both."""
        logger = MMLogger.get_current_instance()
        videos = read_groundtruth_csv(self.ann_file)
        if 'classes' not in self._metainfo:
            self._metainfo['classes'] = tuple(
                natural_class_order(
                    [s[2] for v in videos.values() for s in v['segments']]))
        classes = self._metainfo['classes']
        class_index = {c: i for i, c in enumerate(classes)}
        shapes = self._feature_shapes(list(videos))

        data_list, clipped, outside = [], 0, []
        for name, info in videos.items():
            num_snippets, width = shapes[name]
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
            data_list.append(
                dict(
                    video_name=name,
                    duration=info['duration'],
                    fps=info['fps'],
                    num_frames=info['num_frames'],
                    snippet_size=self.snippet_size,
                    num_snippets=num_snippets,
                    feature_file=self.feature_file,
                    stream=self.stream,
                    labels=sorted({int(c) for c in segments[:, 2]}),
                    gt_segments=segments))
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
        self._attach_foreground_masks(data_list)
        return data_list

    def _feature_shapes(self, names: List[str]) -> Dict[str, tuple]:
        """Snippets and width per video, validated against the config."""
        if not osp.isfile(self.feature_file):
            raise FileNotFoundError(
                f'Feature file {self.feature_file} does not exist '
                f'(annotations: {self.ann_file}).')
        logger = MMLogger.get_current_instance()
        shapes = {}
        with h5py.File(self.feature_file, 'r') as f:
            for name in names:
                if name not in f:
                    raise AnnotationError(
                        f'Video "{name}" of {self.ann_file} has no features '
                        f'in {self.feature_file}.')
                shape = f[name].shape
                if len(shape) != 2:
                    raise AnnotationError(
                        f'{self.feature_file}: features of video "{name}" '
                        f'have shape {shape}, expected [T, D].')
                num_snippets, width = shape
                if num_snippets == 0:
                    raise AnnotationError(
                        f'{self.feature_file}: video "{name}" has zero '
                        'snippets.')
                if self.stream != 2:
                    if width % 2:
                        raise AnnotationError(
                            f'{self.feature_file}: video "{name}" has odd '
                            f'width {width}; cannot take a half '
                            f'(stream={self.stream}).')
                    width //= 2
                if self.in_channels is not None and width != self.in_channels:
                    raise AnnotationError(
                        f'{self.feature_file}: video "{name}" gives '
                        f'{width}-d features with stream={self.stream}, but '
                        f'the config expects in_channels={self.in_channels}.')
                shapes[name] = (num_snippets, width)
            extra = len(f.keys()) - len(names)
        if extra > 0:
            logger.info(f'{self.feature_file}: {extra} video(s) without '
                        f'annotations in {self.ann_file} are not used.')
        return shapes

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
