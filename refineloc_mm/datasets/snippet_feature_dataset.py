# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Untrimmed videos as sequences of pre-extracted snippet features.

Reads the reference layout unchanged: one HDF5 file per split (one dataset
per video name, [T, D] float32 or float16) and a ground-truth CSV with the
columns ``video-name,t-start,t-end,label,video-duration,fps,
video-num-frames``.
"""
import csv
import io
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Union

import h5py
import numpy as np
from mmengine.logging import MMLogger, print_log

from mmaction.registry import DATASETS
from .base_snippet_dataset import (STREAMS, AnnotationError,
                                   BaseSnippetDataset, natural_class_order,
                                   reference_width, shape_problem)

__all__ = [
    'CSV_COLUMNS', 'STREAMS', 'AnnotationError', 'natural_class_order',
    'read_groundtruth_csv', 'SnippetFeatureDataset'
]

CSV_COLUMNS = ('video-name', 't-start', 't-end', 'label', 'video-duration',
               'fps', 'video-num-frames')


def _column_index(path: str, header: List[str]) -> Dict[str, int]:
    """Position of every column of :data:`CSV_COLUMNS` in ``header``.

    Columns are found by name (surrounding spaces ignored), in any order;
    unknown columns are ignored with one log line.

    Raises:
        AnnotationError: A required column is missing or a column name
            is repeated, naming the file and the columns.
    """
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AnnotationError(
            f'{path}: the header repeats the column(s) {repeated}: '
            f'{header!r}.')
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        raise AnnotationError(
            f'{path}: the header lacks the column(s) {missing}; it needs '
            f'{list(CSV_COLUMNS)} (in any order) and has {header!r}.')
    extra = [n for n in names if n not in CSV_COLUMNS]
    if extra:
        print_log(
            f'{path}: ignoring {len(extra)} unknown column(s) {extra}.',
            logger='current')
    return {c: names.index(c) for c in CSV_COLUMNS}


def read_groundtruth_csv(path: str) -> 'OrderedDict[str, Dict]':
    """Parse a reference ground-truth CSV, grouped by video.

    The columns of :data:`CSV_COLUMNS` are read by name, in any order;
    other columns are ignored (one log line) and a UTF-8 byte-order mark
    (a spreadsheet's "CSV UTF-8") is stripped.

    Returns:
        OrderedDict: video name -> dict(duration, fps, num_frames,
        segments: list of (t_start, t_end, label str), line numbers).

    Raises:
        AnnotationError: Missing file, bad header (a required column
            missing or repeated), malformed row (wrong number of fields,
            non-numeric value, t_end <= t_start) or inconsistent per-video
            metadata, naming file, line and video.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file {path} does not exist.')
    videos: 'OrderedDict[str, Dict]' = OrderedDict()
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise AnnotationError(
            f'{path}: not a UTF-8 text file ({e}).') from None
    reader = csv.reader(io.StringIO(text, newline=''))
    header = next(reader, None)
    if header is None:
        raise AnnotationError(f'{path}: the annotation file is empty.')
    col = _column_index(path, header)
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        name = row[col['video-name']].strip() if len(
            row) > col['video-name'] else ''
        if len(row) != len(header):
            raise AnnotationError(
                f'{path}, line {line} (video "{name}"): expected '
                f'{len(header)} fields, got {len(row)}: {row}')
        try:
            t_start = float(row[col['t-start']])
            t_end = float(row[col['t-end']])
            duration = float(row[col['video-duration']])
            fps = float(row[col['fps']])
            num_frames = int(float(row[col['video-num-frames']]))
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
        info['segments'].append(
            (t_start, t_end, row[col['label']].strip()))
    if not videos:
        raise AnnotationError(f'{path}: the annotation file has no rows.')
    return videos


@DATASETS.register_module()
class SnippetFeatureDataset(BaseSnippetDataset):
    """Snippet features in the reference layout (HDF5 + ground-truth CSV).

    Every sample holds the video's features ([T, D'] after stream
    selection), its multi-hot video label (all classes annotated in the
    video), its ground-truth segments (for evaluation) and its true
    snippet-level foreground mask (for pseudo-label statistics only; it is
    never used as supervision). Features are read lazily, one video at a
    time, by :class:`LoadSnippetFeatures`; float16 files are converted to
    float32 per video.

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
        on_error (str): ``'raise'`` (default) or ``'skip'`` videos whose
            features are missing or malformed (logged with a count).
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
                 on_error: str = 'raise',
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 data_root: str = '',
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.feature_file = osp.join(data_root, feature_file) \
            if data_root else feature_file
        super().__init__(
            ann_file=ann_file,
            snippet_size=snippet_size,
            stream=stream,
            in_channels=in_channels,
            classes=classes,
            on_error=on_error,
            pipeline=pipeline,
            data_root=data_root,
            metainfo=metainfo,
            test_mode=test_mode,
            **kwargs)

    def read_annotations(self) -> 'OrderedDict[str, Dict]':
        return read_groundtruth_csv(self.ann_file)

    def index_features(self, videos: 'OrderedDict[str, Dict]'
                       ) -> Dict[str, Dict]:
        """Snippets and width per video, validated against the config."""
        if not osp.isfile(self.feature_file):
            raise FileNotFoundError(
                f'Feature file {self.feature_file} does not exist '
                f'(annotations: {self.ann_file}).')
        logger = MMLogger.get_current_instance()
        shapes: Dict[str, tuple] = {}
        name = None
        try:
            with h5py.File(self.feature_file, 'r') as f:
                for name in videos:
                    self._index_video(f, name, shapes)
                name = None
                extra = sum(1 for key in f.keys() if key not in videos)
        except OSError as e:
            video = '' if name is None else f', video "{name}"'
            raise OSError(
                f'{self.feature_file}: cannot read the feature HDF5 of the '
                f'split {self.ann_file}{video} (a truncated or corrupt file, '
                f'e.g. an interrupted download?): {e}') from e
        if extra > 0:
            logger.info(f'{self.feature_file}: {extra} video(s) without '
                        f'annotations in {self.ann_file} are not used.')
        return self._validate_shapes(videos, shapes)

    def _index_video(self, f: h5py.File, name: str,
                     shapes: Dict[str, tuple]) -> None:
        """Check that ``name`` is a float [T, D] dataset of ``f`` and
        record its shape in ``shapes`` (else :meth:`reject`)."""
        if name not in f:
            self.reject(
                name, 'no features',
                f'Video "{name}" of {self.ann_file} has no features in '
                f'{self.feature_file}.')
            return
        data = f[name]
        if not isinstance(data, h5py.Dataset):
            self.reject(
                name, 'bad feature shape',
                f'{self.feature_file}: "{name}" is an HDF5 group, not a '
                '[T, D] dataset.')
            return
        if data.dtype.kind != 'f':
            self.reject(
                name, 'bad feature dtype',
                f'{self.feature_file}: features of video "{name}" have '
                f'dtype {data.dtype}, expected float16/32/64.')
            return
        shapes[name] = data.shape

    def _validate_shapes(self, videos: 'OrderedDict[str, Dict]',
                         shapes: Dict[str, tuple]) -> Dict[str, Dict]:
        two_d = [n for n, s in shapes.items() if len(s) == 2]
        width = self.expected_full_width()
        if width is None and two_d:
            width = reference_width(
                [shapes[n] for n in two_d],
                [self.expected_snippets(videos[n]) for n in two_d])
        index = {}
        for name, shape in shapes.items():
            problem = shape_problem(shape, width,
                                    self.expected_snippets(videos[name]))
            if problem is not None and not (problem[0] == 'bad feature width'
                                            and self.in_channels is not None):
                self.reject(
                    name, problem[0], f'{self.feature_file}: features of '
                    f'video "{name}" {problem[1]}.')
                continue
            if self.check_width(self.feature_file, name, shape[1]) is None:
                continue
            index[name] = dict(
                num_snippets=int(shape[0]), feature_file=self.feature_file)
        return index
