# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Loading of one video's snippet features, lazily, in any layout."""
import os
from typing import Dict, Tuple

import h5py
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadSnippetFeatures(BaseTransform):
    """Read one video's features ([T, D] -> stream -> [T, D']) lazily.

    Dispatches on the ``feature_format`` key the dataset sets:

    - ``'hdf5'`` (the default when absent; :class:`SnippetFeatureDataset`):
      the video's dataset in ``feature_file``. HDF5 handles are not
      fork-safe, so each process (main process or DataLoader worker)
      opens the file itself on first use and keeps it.
    - ``'npy'`` (:class:`NpySnippetFeatureDataset`): the files
      ``feature_paths``, each memory-mapped, cut to ``num_snippets`` rows
      and its ``feature_columns`` range, copied, unmapped and
      concatenated along D. Nothing stays mapped between videos, so the
      process never holds more than the current video.

    Features stored as float16 (or float64) are converted to float32 per
    video.

    Required keys: ``video_name``, ``num_snippets`` and ``feature_file`` +
    ``stream`` (hdf5) or ``feature_paths`` + ``feature_columns`` (+
    ``feature_rows``) (npy). Added key: ``features`` (float32 [T, D']).

    Raises:
        ValueError: NaN or Inf values, an unreadable ``.npy`` file, or a
            shape that changed since the dataset was indexed, naming the
            file and the video.
        OSError: An HDF5 file that cannot be opened or read (truncated,
            corrupt), naming the file and the video.
    """

    def __init__(self) -> None:
        self._handles: Dict[Tuple[int, str], h5py.File] = {}

    def _file(self, path: str) -> h5py.File:
        key = (os.getpid(), path)
        handle = self._handles.get(key)
        if handle is None:
            handle = h5py.File(path, 'r')
            self._handles[key] = handle
        return handle

    def __getstate__(self) -> dict:
        # handles never travel to another process
        return dict(self.__dict__, _handles={})

    def _load_hdf5(self, results: Dict) -> Tuple[np.ndarray, str]:
        path, name = results['feature_file'], results['video_name']
        try:
            data = self._file(path)[name]
            shape = data.shape
            if data.ndim == 2 and shape[0] == results['num_snippets']:
                # read only the selected stream's columns (a hyperslab)
                half = shape[1] // 2
                columns = {0: slice(0, half), 1: slice(half, None)}.get(
                    results.get('stream', 2), slice(None))
                feats = data[:, columns].astype(np.float32, copy=False)
        except (OSError, KeyError) as e:
            raise OSError(
                f'{path}: cannot read the features of video "{name}" (a '
                f'truncated or corrupt HDF5 file?): {e}') from e
        if len(shape) != 2 or shape[0] != results['num_snippets']:
            raise ValueError(
                f'{path}: video "{name}" has shape {shape}, but '
                f'{results["num_snippets"]} snippets when the dataset was '
                'indexed.')
        return feats, path

    @staticmethod
    def _load_npy(results: Dict) -> Tuple[np.ndarray, str]:
        name, num = results['video_name'], results['num_snippets']
        paths = results['feature_paths']
        rows = results.get('feature_rows') or [None] * len(paths)
        parts = []
        for path, (start, stop), expected in zip(paths,
                                                 results['feature_columns'],
                                                 rows):
            try:
                mapped = np.load(path, mmap_mode='r', allow_pickle=False)
            except (OSError, ValueError) as e:
                raise ValueError(f'{path}: cannot read the features of '
                                 f'video "{name}": {e}') from None
            if mapped.ndim != 2 or mapped.shape[0] < num or (
                    expected is not None and mapped.shape[0] != expected):
                shape = mapped.shape
                del mapped
                raise ValueError(
                    f'{path}: features of video "{name}" have shape {shape},'
                    f' but {expected or num} snippets when the dataset was '
                    'indexed.')
            # a copy: the mapping is released right away
            parts.append(np.array(mapped[:num, start:stop], dtype=np.float32))
            del mapped
        feats = parts[0] if len(parts) == 1 else np.concatenate(parts, 1)
        return feats, ' + '.join(paths)

    def transform(self, results: Dict) -> Dict:
        fmt = results.get('feature_format', 'hdf5')
        if fmt == 'hdf5':
            feats, source = self._load_hdf5(results)
        elif fmt == 'npy':
            feats, source = self._load_npy(results)
        else:
            raise ValueError(f'unknown feature_format {fmt!r} (video '
                             f'"{results["video_name"]}")')
        if not np.isfinite(feats).all():
            bad = np.argwhere(~np.isfinite(feats))[0]
            raise ValueError(
                f'{source}: features of video "{results["video_name"]}" '
                f'contain NaN or Inf (first at snippet {bad[0]}, channel '
                f'{bad[1]}).')
        results['features'] = np.ascontiguousarray(feats)
        return results
