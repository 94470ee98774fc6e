# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Convert a W-TALC / STPN-style feature bundle to per-video ``.npy`` files
and an ActivityNet-style JSON (layout 2, read by
``NpySnippetFeatureDataset``).

The bundle (as distributed with W-TALC and the WTAL code built on it)::

    <name>-I3D-JOINTFeatures.npy          one object array: per video [T, D]
    <name>-Annotations/videoname.npy      video names
    <name>-Annotations/segments.npy       per video: [[start, end], ...] (s)
    <name>-Annotations/labels.npy         per video: the label of each segment
    <name>-Annotations/subset.npy         per video: e.g. validation / test
    <name>-Annotations/duration.npy       per video: seconds
    <name>-Annotations/labels_all.npy     per video: its labels (optional,
                                          checked against labels.npy)

The bundle stores no frame rate: pass the one the features were extracted
at (``--fps 25`` for the W-TALC I3D features, 16-frame snippets).

The pickled arrays are read without running code (only numpy data is
accepted) and the features are streamed: one video at a time is in
memory, so an ActivityNet-size bundle converts in a few hundred MB.

Example::

    python tools/data/convert_wtalc.py \\
        --features Thumos14reduced-I3D-JOINTFeatures.npy \\
        --annotations Thumos14reduced-Annotations \\
        --fps 25 --out-dir data/thumos14_wtalc [--float16]

writes ``data/thumos14_wtalc/features/<video>.npy`` and
``data/thumos14_wtalc/annotations.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np

from refineloc_mm.datasets.object_npy import (load_object_npy,
                                              stream_object_npy, to_str)
from refineloc_mm.visualization.progress import Progress

FLOAT16_MAX = float(np.finfo(np.float16).max)


class ConversionError(ValueError):
    """Bad bundle; the message names the file and the video."""


def _load(folder: str, name: str, required: bool = True
          ) -> Optional[np.ndarray]:
    path = osp.join(folder, f'{name}.npy')
    if not osp.isfile(path):
        if required:
            raise ConversionError(f'{path} does not exist (needed: the '
                                  f'{name} of every video).')
        return None
    arr = load_object_npy(path)
    if arr.ndim == 0:
        raise ConversionError(f'{path}: expected one entry per video, got a '
                              'scalar.')
    return arr


def read_bundle_annotations(folder: str, fps: float,
                            duration_from_features: bool = False
                            ) -> Dict[str, object]:
    """The annotation arrays of a bundle, checked for consistency."""
    names = [to_str(n) for n in _load(folder, 'videoname')]
    if not names:
        raise ConversionError(f'{folder}/videoname.npy lists no video.')
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConversionError(
            f'{folder}/videoname.npy: duplicate video names {dup[:10]}.')
    arrays = dict(
        segments=_load(folder, 'segments'),
        labels=_load(folder, 'labels'),
        subset=_load(folder, 'subset'),
        duration=_load(folder, 'duration', not duration_from_features),
        labels_all=_load(folder, 'labels_all', False))
    for key, arr in arrays.items():
        if arr is not None and len(arr) != len(names):
            raise ConversionError(
                f'{folder}/{key}.npy has {len(arr)} entries for '
                f'{len(names)} videos (videoname.npy).')
    database = {}
    for i, name in enumerate(names):
        segs = list(arrays['segments'][i])
        labels = [to_str(x) for x in arrays['labels'][i]]
        where = f'{folder} (video "{name}", index {i})'
        if len(segs) != len(labels):
            raise ConversionError(
                f'{where}: {len(segs)} segments but {len(labels)} labels.')
        anns = []
        for seg, label in zip(segs, labels):
            seg = np.asarray(seg, dtype=np.float64).ravel()
            if seg.shape != (2, ) or not np.isfinite(seg).all():
                raise ConversionError(f'{where}: malformed segment {seg}.')
            anns.append(dict(segment=[float(seg[0]), float(seg[1])],
                             label=label))
        if arrays['labels_all'] is not None:
            video_labels = {to_str(x) for x in arrays['labels_all'][i]}
            if anns and video_labels != set(labels):
                print(f'warning: {where}: labels_all {sorted(video_labels)} '
                      f'differ from the segment labels {sorted(set(labels))}'
                      '; the segment labels are used.', file=sys.stderr)
        entry = dict(subset=to_str(arrays['subset'][i]), fps=float(fps),
                     annotations=anns)
        if arrays['duration'] is not None:
            duration = float(np.asarray(arrays['duration'][i]).ravel()[0])
            if not (np.isfinite(duration) and duration > 0):
                raise ConversionError(
                    f'{folder}/duration.npy (video "{name}"): duration '
                    f'{duration} is not a positive number.')
            entry['duration'] = duration
        database[name] = entry
    return dict(names=names, database=database)


def convert(features: str,
            annotations: str,
            out_dir: str,
            fps: float,
            float16: bool = False,
            subsets: Optional[List[str]] = None,
            snippet_size: int = 16,
            duration_from_features: bool = False,
            json_name: str = 'annotations.json') -> Dict[str, int]:
    """Convert a bundle; returns counts (videos written, skipped, ...)."""
    if not (np.isfinite(fps) and fps > 0):
        raise ConversionError(f'--fps must be positive, got {fps}')
    ann = read_bundle_annotations(annotations, fps, duration_from_features)
    names, database = ann['names'], ann['database']
    wanted = None if not subsets else {s.lower() for s in subsets}
    feat_dir = osp.join(out_dir, 'features')
    os.makedirs(feat_dir, exist_ok=True)
    dtype = np.float16 if float16 else np.float32
    counts = dict(written=0, other_subset=0, no_segments=0)
    kept = {}
    progress = Progress(len(names), desc=f'Converting {features}')

    def write(i: int, arr: np.ndarray) -> None:
        progress.update()
        if i >= len(names):
            raise ConversionError(
                f'{features}: more feature arrays than the {len(names)} '
                f'videos of {annotations}/videoname.npy.')
        name, entry = names[i], database[names[i]]
        if wanted is not None and entry['subset'].lower() not in wanted:
            counts['other_subset'] += 1
            return
        if arr.ndim != 2 or arr.dtype.kind != 'f':
            raise ConversionError(
                f'{features} (video "{name}", index {i}): features of shape '
                f'{arr.shape} and dtype {arr.dtype}, expected [T, D] '
                'floats.')
        if not np.isfinite(arr).all():
            raise ConversionError(f'{features} (video "{name}", index {i}): '
                                  'features contain NaN or Inf.')
        if float16 and arr.size and np.abs(arr).max() > FLOAT16_MAX:
            raise ConversionError(
                f'{features} (video "{name}", index {i}): values up to '
                f'{np.abs(arr).max():.4g} overflow float16; convert without '
                '--float16.')
        if 'duration' not in entry:
            entry['duration'] = arr.shape[0] * snippet_size / fps
        np.save(osp.join(feat_dir, f'{name}.npy'), arr.astype(dtype))
        counts['no_segments'] += not entry['annotations']
        kept[name] = entry
        counts['written'] += 1

    n = stream_object_npy(features, write)
    progress.close()
    if n != len(names):
        raise ConversionError(
            f'{features} holds {n} feature arrays for {len(names)} videos '
            f'({annotations}/videoname.npy).')
    doc = dict(
        version=f'converted from {osp.basename(features)} by '
        'tools/data/convert_wtalc.py',
        database=kept)
    json_path = osp.join(out_dir, json_name)
    tmp = f'{json_path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f)
    os.replace(tmp, json_path)
    return counts


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--features', required=True,
                        help='<name>-I3D-JOINTFeatures.npy (object array)')
    parser.add_argument('--annotations', required=True,
                        help='the <name>-Annotations folder')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--fps', type=float, required=True,
                        help='frame rate the features were extracted at')
    parser.add_argument('--float16', action='store_true',
                        help='store the features as float16 (half the disk '
                        'and I/O; read back as float32)')
    parser.add_argument('--subsets', nargs='+',
                        help='convert only these subsets (default: all)')
    parser.add_argument('--duration-from-features', action='store_true',
                        help='without duration.npy, take T * snippet-size / '
                        'fps as the duration')
    parser.add_argument('--snippet-size', type=int, default=16)
    args = parser.parse_args(argv)
    try:
        counts = convert(args.features, args.annotations, args.out_dir,
                         args.fps, args.float16, args.subsets,
                         args.snippet_size, args.duration_from_features)
    except ConversionError as e:
        sys.exit(f'error: {e}')
    print(f'{args.out_dir}: wrote {counts["written"]} videos '
          f'({"float16" if args.float16 else "float32"}); left out '
          f'{counts["other_subset"]} of other subsets.')
    if counts['no_segments']:
        print(f'note: {counts["no_segments"]} written video(s) have no '
              'segments; NpySnippetFeatureDataset refuses them unless '
              "on_error='skip'.")


if __name__ == '__main__':
    main()
