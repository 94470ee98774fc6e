# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Time reading every video's features of each split, as training reads
them.

    python tools/benchmark_feature_reads.py [--config CONFIG]
        [--data-dir data/synthetic] [--repeats 5]
        [--out work_dirs/benchmark/feature_reads.json]

For the training split (``train_dataloader``, unwrapped) and the test
split (``test_dataloader``) of the config, built as the Runner builds
them, two readings per repeat:

- **LoadSnippetFeatures**: a fresh transform (so the HDF5 file is opened
  again) applied to every video's data_info: the stream's columns read
  as an HDF5 hyperslab, converted to float32 and checked for NaN/Inf,
  which is what a training epoch or a round-end pass reads;
- **whole datasets**: ``h5py`` reading every video's whole ``[T, D]``
  dataset (both streams) with ``dataset[()]``, the plain read speed.

Each is repeated ``--repeats`` times; the first repeat may read from disk,
the later ones from the page cache (the files are not evicted: that
would need root and disturb other processes), so the median is the warm
figure. Prints one line per split and reading, writes JSON.

Without ``--config`` the synthetic THUMOS14-shaped set of
``tools/data/generate_synthetic.py`` in ``--data-dir`` is read (generated
there when missing, as ``tools/benchmark.py`` does).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import h5py
import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'refineloc',
                          'refineloc_i3d_4x10e_synthetic.py')
MB = 1e6


def split_configs(cfg) -> Dict[str, dict]:
    """The reference-layout datasets of the training and test splits."""
    train = cfg.train_dataloader.dataset
    while 'dataset' in train:  # PseudoLabelDataset and other wrappers
        train = train.dataset
    return dict(train=train, test=cfg.test_dataloader.dataset)


def read_with_transform(dataset) -> int:
    """Every video through a fresh LoadSnippetFeatures; bytes returned."""
    from refineloc_mm.datasets.transforms import LoadSnippetFeatures
    load = LoadSnippetFeatures()
    nbytes = 0
    for i in range(len(dataset)):
        nbytes += load(dataset.get_data_info(i))['features'].nbytes
    return nbytes


def read_whole_datasets(path: str, names: Sequence[str]) -> int:
    """Every named ``[T, D]`` dataset of ``path`` read whole; bytes."""
    nbytes = 0
    with h5py.File(path, 'r') as f:
        for name in names:
            nbytes += f[name][()].nbytes
    return nbytes


def measure(fn, repeats: int) -> Dict[str, Any]:
    samples: List[float] = []
    nbytes = 0
    for _ in range(repeats):
        tic = time.perf_counter()
        nbytes = fn()
        samples.append(time.perf_counter() - tic)
    med = float(statistics.median(samples))
    return dict(samples=samples, first=samples[0], median=med,
                bytes=int(nbytes), mb_per_s=nbytes / MB / med)


def benchmark(cfg, repeats: int) -> Dict[str, Any]:
    """Both readings of both splits of ``cfg``."""
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    out = {}
    for split, ds_cfg in split_configs(cfg).items():
        dataset = DATASETS.build(ds_cfg)
        names = [
            dataset.get_data_info(i)['video_name']
            for i in range(len(dataset))
        ]
        snippets = int(np.sum(dataset.num_snippets))
        out[split] = dict(
            feature_file=dataset.feature_file,
            videos=len(dataset),
            snippets=snippets,
            stream=dataset.stream,
            feature_width=dataset.feature_width,
            load_snippet_features=measure(
                lambda d=dataset: read_with_transform(d), repeats),
            whole_datasets=measure(
                lambda p=dataset.feature_file, n=names:
                read_whole_datasets(p, n), repeats))
    return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--data-dir',
        default='data/synthetic',
        help='synthetic set for the default config (generated when a file '
        'is missing); ignored with --config')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--out', default='work_dirs/benchmark/feature_reads.json')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[],
        help='key=value overrides of the config')
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error('--repeats must be >= 1')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    import refineloc_mm  # noqa: F401  (registers)
    from refineloc_mm.utils import benchmark as bench
    options = list(args.cfg_options)
    if osp.abspath(args.config) == DEFAULT_CONFIG:
        bench.ensure_data(args.data_dir)
        options = bench.data_root_options(args.data_dir) + options
    cfg = bench.load_config(args.config, options)
    res = benchmark(cfg, args.repeats)
    doc = dict(
        command=' '.join([sys.executable] + (sys.argv if argv is None else
                                             [__file__, *argv])),
        machine=bench.machine_info('cpu'),
        repeats=args.repeats,
        splits=res)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(doc, f, indent=2)
    for split, r in res.items():
        for key, what in (('load_snippet_features',
                           f'LoadSnippetFeatures (stream {r["stream"]}, '
                           f'{r["feature_width"]}-d)'),
                          ('whole_datasets', 'whole datasets (h5py)')):
            m = r[key]
            print(f'{split}: {r["videos"]} videos, {r["snippets"]} snippets,'
                  f' {what}: median {m["median"]:.3f} s (first '
                  f'{m["first"]:.3f} s), {m["bytes"] / MB:.0f} MB, '
                  f'{m["mb_per_s"]:.0f} MB/s')
    print(f'feature reads: wrote {args.out}')
    return doc


if __name__ == '__main__':
    main()
