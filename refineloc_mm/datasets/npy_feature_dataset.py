# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Per-video ``.npy`` features with an ActivityNet-style JSON annotation.

The layout most recent WTAL/TAL code distributes::

    features/<video>.npy          # [T, D], float32 or float16
    annotations.json              # {"database": {video: {"subset",
                                  #   "duration", "fps"?, "annotations":
                                  #   [{"segment": [s, e], "label"}]}}}

optionally with one folder per stream (``rgb/<video>.npy``,
``flow/<video>.npy``), concatenated along D in the configured order.
"""
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import (Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
from mmengine.logging import MMLogger, print_log

from mmaction.registry import DATASETS
from .base_snippet_dataset import (AnnotationError, BaseSnippetDataset,
                                   reference_width, shape_problem)

__all__ = [
    'NpySnippetFeatureDataset', 'load_activitynet_json', 'read_npy_header'
]


class _Object(dict):
    """A JSON object that remembers its repeated keys.

    Attributes:
        conflicts (list[str]): Keys repeated with different values.
        repeats (int): Keys repeated with the same value (read once).
    """
    conflicts: Sequence[str] = ()
    repeats = 0


def _object_pairs(pairs: List[Tuple[str, object]]) -> _Object:
    """``object_pairs_hook`` of :func:`json.loads`: a dict that records
    repeated keys instead of silently keeping the last value."""
    obj, conflicts, repeats = _Object(), [], 0
    for key, value in pairs:
        if key in obj:
            if obj[key] == value:
                repeats += 1
                continue
            conflicts.append(key)
        obj[key] = value
    if conflicts or repeats:
        obj.conflicts, obj.repeats = conflicts, repeats
    return obj


def _repeated_keys(path: str, value, where: str) -> int:
    """Raise on a key repeated with different values anywhere in
    ``value``; return how many keys repeat with the same value."""
    repeats = 0
    if isinstance(value, _Object):
        if value.conflicts:
            key = value.conflicts[0]
            raise AnnotationError(
                f'{path}{where}: the key "{key}" appears more than once '
                'with different values; keep one.')
        repeats += value.repeats
        for child in value.values():
            repeats += _repeated_keys(path, child, where)
    elif isinstance(value, list):
        for child in value:
            repeats += _repeated_keys(path, child, where)
    return repeats


def load_activitynet_json(path: str) -> Dict[str, Dict]:
    """The ``database`` of an ActivityNet-style annotation file.

    A key (a video, or a field of one) repeated with different values is
    an error; one repeated with the same value is read once and counted
    in one log line. A UTF-8 byte-order mark is stripped.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        AnnotationError: Empty file, invalid JSON, no ``database`` object
            or an empty one, naming the file; a key repeated with
            different values, naming the file, the video and the key.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file {path} does not exist.')
    with open(path, 'rb') as f:
        text = f.read()
    if not text.strip():
        raise AnnotationError(f'{path}: the annotation file is empty.')
    try:
        doc = json.loads(
            text.decode('utf-8-sig'), object_pairs_hook=_object_pairs)
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise AnnotationError(f'{path}: not valid JSON ({e}).') from None
    if not isinstance(doc, dict) or not isinstance(doc.get('database'),
                                                   dict):
        raise AnnotationError(
            f'{path}: expected an ActivityNet-style annotation file, '
            '{"database": {video: {"subset", "duration", "fps", '
            '"annotations": [{"segment": [start, end], "label"}]}}}; '
            'found no "database" object.')
    if isinstance(doc, _Object) and doc.conflicts:
        raise AnnotationError(
            f'{path}: the key "{doc.conflicts[0]}" appears more than once '
            'with different values; keep one.')
    database = doc['database']
    if not database:
        raise AnnotationError(f'{path}: the annotation file has no videos '
                              '("database" is empty).')
    if isinstance(database, _Object) and database.conflicts:
        raise AnnotationError(
            f'{path}: video "{database.conflicts[0]}" appears more than '
            'once in "database" with different annotations; keep one.')
    repeats = getattr(doc, 'repeats', 0) + getattr(database, 'repeats', 0)
    for key, value in doc.items():
        if key != 'database':
            repeats += _repeated_keys(path, value, '')
    for name, entry in database.items():
        repeats += _repeated_keys(path, entry, f' (video "{name}")')
    if repeats:
        print_log(
            f'{path}: {repeats} key(s) repeated with identical values '
            '(e.g. a video listed twice) are read once.',
            logger='current')
    return database


def read_npy_header(path: str) -> Tuple[Tuple[int, ...], np.dtype]:
    """Shape and dtype of a ``.npy`` file, reading only its header.

    Raises:
        ValueError: Not a ``.npy`` file, a pickled object array, or a file
            shorter than its header says (truncated download).
    """
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            shape, _, dtype = np.lib.format._read_array_header(f, version)
        if dtype.hasobject:
            raise ValueError('it stores pickled Python objects, not a '
                             'numeric array (a W-TALC-style bundle? see '
                             'tools/data/convert_wtalc.py)')
        need = f.tell() + int(np.prod(shape)) * dtype.itemsize
        size = os.fstat(f.fileno()).st_size
    if size < need:
        raise ValueError(f'the file has {size} bytes, its header needs '
                         f'{need} (truncated?)')
    return tuple(int(s) for s in shape), dtype


def _number(value) -> float:
    """float(value) for numbers and numeric strings; ValueError else."""
    if isinstance(value, bool):
        raise ValueError(f'{value!r} is not a number')
    return float(value)


@DATASETS.register_module()
class NpySnippetFeatureDataset(BaseSnippetDataset):
    """Snippet features as per-video ``.npy`` files (memory-mapped, one
    video at a time) with an ActivityNet-style JSON annotation.

    The data_info dicts are those of :class:`SnippetFeatureDataset`; the
    loading transform :class:`LoadSnippetFeatures` reads them through
    ``feature_format='npy'``.

    Args:
        ann_file (str): ActivityNet-style JSON. Segments are in seconds.
        feature_dir (str | Sequence[str]): Folder of ``<video>.npy`` files
            ([T, D], float16/32/64), or one folder per stream whose
            features are concatenated along D in this order.
        subset (str | Sequence[str], optional): The split: videos whose
            ``"subset"`` is this (case-insensitive), e.g. ``'training'``,
            ``'validation'``; a video without a ``"subset"`` is then an
            error naming file and video (left out and logged with
            ``on_error='skip'``). None takes every video of the file.
        filename_tmpl (str): File name of a video's features. Defaults to
            ``'{}.npy'`` (e.g. ``'v_{}.npy'`` for ActivityNet features
            named after the YouTube id with a ``v_`` prefix).
        fps (float, optional): Frame rate for videos whose annotation has
            no ``"fps"``; without it such a video is an error.
        max_length_difference (int): Streams of one video whose lengths
            differ by at most this many snippets are cut to the shortest
            (counted in the log); larger differences are errors. Defaults
            to 0.
        snippet_size, stream, in_channels, classes, on_error, pipeline,
        data_root, metainfo, test_mode: As :class:`SnippetFeatureDataset`.
            Without ``classes`` the class list is the labels of the whole
            annotation file (every subset), so all splits of one file
            share one mapping.
    """

    def __init__(self,
                 ann_file: str,
                 feature_dir: Union[str, Sequence[str]],
                 subset: Optional[Union[str, Sequence[str]]] = None,
                 filename_tmpl: str = '{}.npy',
                 fps: Optional[float] = None,
                 max_length_difference: int = 0,
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
        dirs = [feature_dir] if isinstance(feature_dir, str) else list(
            feature_dir)
        if not dirs:
            raise ValueError('feature_dir names no folder')
        self.feature_dirs = [
            osp.join(data_root, d) if data_root else d for d in dirs
        ]
        if subset is None or isinstance(subset, str):
            self.subset = subset
        else:
            self.subset = tuple(subset)
        if filename_tmpl.count('{}') != 1:
            raise ValueError('filename_tmpl must contain "{}" once, got '
                             f'{filename_tmpl!r}')
        self.filename_tmpl = filename_tmpl
        if fps is not None and not (np.isfinite(fps) and fps > 0):
            raise ValueError(f'fps must be positive, got {fps}')
        self.fps = fps
        if max_length_difference < 0:
            raise ValueError('max_length_difference must be >= 0')
        self.max_length_difference = max_length_difference
        self._all_labels: List[str] = []
        self._database_names: set = set()
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

    # ------------------------------------------------------- annotations
    def _in_subset(self, entry: Dict) -> bool:
        if self.subset is None:
            return True
        wanted = (self.subset, ) if isinstance(self.subset,
                                               str) else self.subset
        value = entry.get('subset')
        return isinstance(value, str) and value.lower() in {
            w.lower()
            for w in wanted
        }

    def read_annotations(self) -> 'OrderedDict[str, Dict]':
        path = self.ann_file
        database = load_activitynet_json(path)
        self._database_names = set(database)
        self._all_labels = [
            str(a['label']) for e in database.values()
            if isinstance(e, dict) and isinstance(e.get('annotations'), list)
            for a in e['annotations']
            if isinstance(a, dict) and a.get('label') is not None
        ]
        if self.subset is not None:
            # a video without a "subset" belongs to no split: refused, not
            # silently left out of every split
            for name, entry in database.items():
                if isinstance(entry, dict) and not isinstance(
                        entry.get('subset'), str):
                    self.reject(
                        name, 'no subset',
                        f'{path} (video "{name}"): "subset" is '
                        f'{entry.get("subset")!r}, expected the name of the '
                        f'split (e.g. "training", "validation"); the '
                        f'dataset takes subset={self.subset!r}.')
        names = [
            n for n, e in database.items()
            if not isinstance(e, dict) or self._in_subset(e)
        ]
        if not names:
            present = sorted({
                str(e.get('subset'))
                for e in database.values() if isinstance(e, dict)
            })
            raise AnnotationError(
                f'{path}: no video has subset {self.subset!r}; the subsets '
                f'present are {present}.')
        videos: 'OrderedDict[str, Dict]' = OrderedDict()
        for name in names:
            if not isinstance(database[name], dict):
                self.reject(
                    name, 'malformed annotation',
                    f'{path} (video "{name}"): the entry is not an object '
                    '{"subset", "duration", "fps", "annotations"}.')
                continue
            info = self._parse_video(path, name, database[name])
            if info is not None:
                videos[name] = info
        return videos

    def _parse_video(self, path: str, name: str,
                     entry: Dict) -> Optional[Dict]:
        """One database entry -> dict(duration, fps, num_frames,
        segments), or None after :meth:`reject`."""
        where = f'{path} (video "{name}")'
        if 'duration' not in entry:
            self.reject(name, 'no duration', f'{where}: no "duration".')
            return None
        try:
            duration = _number(entry['duration'])
        except (TypeError, ValueError):
            duration = float('nan')
        if not (np.isfinite(duration) and duration > 0):
            self.reject(
                name, 'bad duration', f'{where}: "duration" must be a '
                f'positive number, got {entry["duration"]!r}.')
            return None
        if entry.get('fps') is not None:
            try:
                fps = _number(entry['fps'])
            except (TypeError, ValueError):
                fps = float('nan')
            if not (np.isfinite(fps) and fps > 0):
                self.reject(
                    name, 'bad fps', f'{where}: "fps" must be a positive '
                    f'number, got {entry["fps"]!r}.')
                return None
        elif self.fps is not None:
            fps = self.fps
        else:
            self.reject(
                name, 'no fps', f'{where}: no "fps" in the annotation and '
                'no fps= in the dataset config (the frame rate the features '
                'were extracted at).')
            return None
        anns = entry.get('annotations')
        if not isinstance(anns, list) or not anns:
            self.reject(
                name, 'no annotations', f'{where}: no annotations '
                f'("annotations" is {anns!r}); a video needs at least one '
                'labelled segment.')
            return None
        segments = []
        for i, ann in enumerate(anns):
            try:
                label = ann['label']
                seg = ann['segment']
                if label is None or len(seg) != 2:
                    raise ValueError
            except (KeyError, TypeError, ValueError):
                self.reject(
                    name, 'malformed annotation', f'{where}: annotation {i} '
                    f'{ann!r} is not {{"segment": [start, end], "label"}}.')
                return None
            try:
                t_start, t_end = _number(seg[0]), _number(seg[1])
            except (TypeError, ValueError):
                self.reject(
                    name, 'malformed annotation', f'{where}: annotation {i} '
                    f'has "segment" {seg!r}; expected two numbers [start, '
                    'end] in seconds.')
                return None
            if not (np.isfinite([t_start, t_end]).all()
                    and t_end > t_start):
                self.reject(
                    name, 'malformed annotation', f'{where}: annotation {i} '
                    f'has segment {seg!r}; need finite times with end > '
                    'start.')
                return None
            segments.append((t_start, t_end, str(label)))
        if entry.get('num_frames') is None:
            num_frames = int(round(duration * fps))
        else:
            try:
                num_frames = _number(entry['num_frames'])
            except (TypeError, ValueError):
                num_frames = float('nan')
            if not (np.isfinite(num_frames) and num_frames > 0):
                self.reject(
                    name, 'bad num_frames', f'{where}: "num_frames" must be '
                    f'a positive number, got {entry["num_frames"]!r}.')
                return None
        return dict(
            duration=duration,
            fps=fps,
            num_frames=int(num_frames),
            segments=segments)

    def class_labels(self, videos: 'OrderedDict[str, Dict]') -> List[str]:
        # the whole file, so that every subset gets the same mapping
        return self._all_labels

    # ---------------------------------------------------------- features
    def _path(self, folder: str, name: str) -> str:
        return osp.join(folder, self.filename_tmpl.format(name))

    def index_features(self, videos: 'OrderedDict[str, Dict]'
                       ) -> Dict[str, Dict]:
        for folder in self.feature_dirs:
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'Feature folder {folder} does not exist (annotations: '
                    f'{self.ann_file}).')
        headers: Dict[str, List[Tuple[str, Tuple[int, ...]]]] = {}
        for name in videos:
            files = []
            for folder in self.feature_dirs:
                path = self._path(folder, name)
                if not osp.isfile(path):
                    self.reject(
                        name, 'missing feature file',
                        f'{path}: no feature file for video "{name}" of '
                        f'{self.ann_file}.')
                    break
                try:
                    shape, dtype = read_npy_header(path)
                except (OSError, ValueError) as e:
                    self.reject(
                        name, 'unreadable feature file',
                        f'{path}: cannot read the features of video '
                        f'"{name}": {e}.')
                    break
                if dtype.kind != 'f':
                    self.reject(
                        name, 'bad feature dtype',
                        f'{path}: features of video "{name}" have dtype '
                        f'{dtype}, expected float16/32/64.')
                    break
                files.append((path, shape))
            else:
                headers[name] = files
        self._log_unannotated()
        return self._validate_shapes(videos, headers)

    def _folder_widths(self, videos: 'OrderedDict[str, Dict]',
                       headers: Dict) -> List[int]:
        """Feature width of each folder (from ``in_channels`` when one
        folder, else from the files themselves)."""
        full = self.expected_full_width()
        if full is not None and len(self.feature_dirs) == 1:
            return [full]
        widths = []
        for k in range(len(self.feature_dirs)):
            names = [n for n, f in headers.items() if len(f[k][1]) == 2]
            if not names:
                widths.append(-1)  # every file is malformed: all rejected
                continue
            widths.append(
                reference_width(
                    [headers[n][k][1] for n in names],
                    [self.expected_snippets(videos[n]) for n in names]))
        return widths

    def _validate_shapes(self, videos: 'OrderedDict[str, Dict]',
                         headers: Dict) -> Dict[str, Dict]:
        widths = self._folder_widths(videos, headers)
        single = len(self.feature_dirs) == 1
        index, truncated = {}, []
        for name, files in headers.items():
            expected = self.expected_snippets(videos[name])
            bad = False
            for (path, shape), width in zip(files, widths):
                problem = shape_problem(shape, width, expected)
                if problem is None or (problem[0] == 'bad feature width'
                                       and single
                                       and self.in_channels is not None):
                    continue  # a wrong width is named by check_width
                self.reject(name, problem[0],
                            f'{path}: features of video "{name}" '
                            f'{problem[1]}.')
                bad = True
                break
            if bad:
                continue
            lengths = [shape[0] for _, shape in files]
            if max(lengths) - min(lengths) > self.max_length_difference:
                self.reject(
                    name, 'streams of different lengths',
                    f'video "{name}": its streams have different lengths ('
                    + ', '.join(f'{p}: {s[0]} snippets' for p, s in files)
                    + '); max_length_difference='
                    f'{self.max_length_difference}.')
                continue
            if max(lengths) != min(lengths):
                truncated.append(name)
            source = files[0][0] if single else ' + '.join(
                p for p, _ in files)
            columns = self.check_width(source, name,
                                       sum(s[1] for _, s in files))
            if columns is None:
                continue
            index[name] = self._loader_keys(files, min(lengths), columns)
        if truncated:
            MMLogger.get_current_instance().warning(
                f'{self.ann_file}: cut {len(truncated)} video(s) to their '
                'shortest stream (streams differ by at most '
                f'max_length_difference={self.max_length_difference} '
                'snippets).')
        return index

    @staticmethod
    def _loader_keys(files: List[Tuple[str, Tuple[int, ...]]],
                     num_snippets: int, columns: Tuple[int, int]) -> Dict:
        """What :class:`LoadSnippetFeatures` needs: the files overlapping
        the stream's columns, with their own column ranges."""
        start, stop = columns
        paths, cols, rows, offset = [], [], [], 0
        for path, (t, d) in files:
            lo, hi = max(start, offset), min(stop, offset + d)
            if hi > lo:
                paths.append(path)
                cols.append((lo - offset, hi - offset))
                rows.append(t)
            offset += d
        return dict(
            num_snippets=int(num_snippets),
            feature_format='npy',
            feature_paths=paths,
            feature_columns=cols,
            feature_rows=rows)

    def _log_unannotated(self) -> None:
        """Count feature files of videos absent from the annotation file
        (never dropped silently)."""
        database = self._database_names
        prefix, suffix = self.filename_tmpl.split('{}')
        logger = MMLogger.get_current_instance()
        for folder in self.feature_dirs:
            extra = [
                f for f in os.listdir(folder)
                if f.startswith(prefix) and f.endswith(suffix) and len(f) >
                len(prefix) + len(suffix) and f[len(prefix):len(f) -
                                               len(suffix)] not in database
            ]
            if extra:
                logger.info(f'{folder}: {len(extra)} feature file(s) of '
                            f'videos without annotations in {self.ann_file} '
                            'are not used.')
