# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Convert one split of the reference layout (HDF5 + ground-truth CSV) to
per-video ``.npy`` files + ActivityNet-style JSON (layout 2), or to a
float16 copy of the reference layout.

Videos are copied one at a time (bounded memory). Run once per split; the
JSON gathers the splits (entries of the converted split are added or
replaced, the others kept)::

    python tools/data/convert_reference.py \\
        --features data/activitynet_v1-2/activitynet_v1-2_train_features.hdf5 \\
        --groundtruth data/activitynet_v1-2/activitynet_v1-2_train_groundtruth.csv \\
        --subset training --out-dir data/activitynet_v1-2_npy [--float16]

writes ``<out-dir>/features/<video>.npy`` and ``<out-dir>/annotations.json``.
With ``--format hdf5 --float16`` it writes ``<out-dir>/<features name>``
(float16) and a copy of the CSV instead, read by the reference configs
with ``data_root=<out-dir>``.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
from typing import Dict, List, Optional

import h5py
import numpy as np

from refineloc_mm.datasets.snippet_feature_dataset import \
    read_groundtruth_csv
from refineloc_mm.visualization.progress import track_progress

FLOAT16_MAX = float(np.finfo(np.float16).max)


def _checked(features: str, name: str, arr: np.ndarray,
             float16: bool) -> np.ndarray:
    if float16 and arr.size and np.abs(arr).max() > FLOAT16_MAX:
        raise ValueError(f'{features} (video "{name}"): values up to '
                         f'{np.abs(arr).max():.4g} overflow float16.')
    return arr.astype(np.float16 if float16 else np.float32)


def convert(features: str,
            groundtruth: str,
            out_dir: str,
            subset: str,
            fmt: str = 'npy',
            float16: bool = False,
            json_name: str = 'annotations.json') -> Dict[str, int]:
    """Convert one split; returns the number of videos written."""
    videos = read_groundtruth_csv(groundtruth)
    os.makedirs(out_dir, exist_ok=True)
    if fmt == 'hdf5':
        out = osp.join(out_dir, osp.basename(features))
        if osp.abspath(out) == osp.abspath(features):
            raise ValueError(f'{out} would overwrite its input')
        with h5py.File(features, 'r') as src, h5py.File(out, 'w') as dst:
            for name in track_progress(
                    videos, desc=f'Converting {features}'):
                if name not in src:
                    raise ValueError(f'Video "{name}" of {groundtruth} has '
                                     f'no features in {features}.')
                dst.create_dataset(
                    name, data=_checked(features, name, src[name][()],
                                        float16))
        shutil.copyfile(groundtruth,
                        osp.join(out_dir, osp.basename(groundtruth)))
        return dict(written=len(videos))

    feat_dir = osp.join(out_dir, 'features')
    os.makedirs(feat_dir, exist_ok=True)
    json_path = osp.join(out_dir, json_name)
    doc = dict(version='converted from the RefineLoc reference layout by '
               'tools/data/convert_reference.py', database={})
    if osp.isfile(json_path):
        with open(json_path) as f:
            doc = json.load(f)
    with h5py.File(features, 'r') as src:
        for name, info in track_progress(
                videos.items(), total=len(videos),
                desc=f'Converting {features}'):
            if name not in src:
                raise ValueError(f'Video "{name}" of {groundtruth} has no '
                                 f'features in {features}.')
            np.save(
                osp.join(feat_dir, f'{name}.npy'),
                _checked(features, name, src[name][()], float16))
            doc['database'][name] = dict(
                subset=subset,
                duration=info['duration'],
                fps=info['fps'],
                num_frames=info['num_frames'],
                annotations=[
                    dict(segment=[s, e], label=label)
                    for s, e, label in info['segments']
                ])
    tmp = f'{json_path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f)
    os.replace(tmp, json_path)
    return dict(written=len(videos))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--features', required=True, help='split HDF5')
    parser.add_argument('--groundtruth', required=True, help='split CSV')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--subset', default=None,
                        help='"subset" of the split\'s videos in the JSON '
                        '(e.g. training, validation, test); required for '
                        '--format npy')
    parser.add_argument('--format', choices=('npy', 'hdf5'), default='npy')
    parser.add_argument('--float16', action='store_true')
    args = parser.parse_args(argv)
    if args.format == 'npy' and not args.subset:
        parser.error('--subset is required with --format npy')
    try:
        counts = convert(args.features, args.groundtruth, args.out_dir,
                         args.subset, args.format, args.float16)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(f'{args.out_dir}: wrote {counts["written"]} videos '
          f'({"float16" if args.float16 else "float32"}, {args.format}).')


if __name__ == '__main__':
    main()
