# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Loading of snippet features from the split's HDF5 file."""
import os
from typing import Dict, Tuple

import h5py
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadSnippetFeatures(BaseTransform):
    """Read one video's features ([T, D] -> stream -> [T, D']) lazily.

    HDF5 handles are not fork-safe, so each process (main process or
    DataLoader worker) opens the file itself on first use and keeps it.

    Required keys: ``feature_file``, ``video_name``, ``stream``,
    ``num_snippets``. Added key: ``features`` (float32 [T, D']).

    Raises:
        ValueError: NaN or Inf values, or a shape that changed since the
            dataset was indexed, naming the file and the video.
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

    def transform(self, results: Dict) -> Dict:
        path, name = results['feature_file'], results['video_name']
        data = self._file(path)[name]
        feats = np.asarray(data, dtype=np.float32)
        if feats.shape[0] != results['num_snippets']:
            raise ValueError(
                f'{path}: video "{name}" has {feats.shape[0]} snippets, but '
                f'{results["num_snippets"]} when the dataset was indexed.')
        stream = results.get('stream', 2)
        if stream != 2:
            half = feats.shape[1] // 2
            feats = feats[:, half:] if stream == 1 else feats[:, :half]
        if not np.isfinite(feats).all():
            bad = np.argwhere(~np.isfinite(feats))[0]
            raise ValueError(
                f'{path}: features of video "{name}" contain NaN or Inf '
                f'(first at snippet {bad[0]}, channel {bad[1]}).')
        results['features'] = np.ascontiguousarray(feats)
        return results
