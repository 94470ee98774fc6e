# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Generate a seeded, THUMOS14-shaped synthetic dataset (reference layout).

The command line of :func:`refineloc_mm.datasets.synthetic.generate_synthetic`
(the annotation statistics and the feature model are described in
``refineloc_mm/datasets/synthetic/``). Output (``OUT`` = ``--out-dir``)::

    OUT/synthetic_valid_features.hdf5   # training split ("valid", as THUMOS14)
    OUT/synthetic_valid_groundtruth.csv
    OUT/synthetic_test_features.hdf5    # test split
    OUT/synthetic_test_groundtruth.csv

The same arguments give byte-identical files.

Example::

    python tools/data/generate_synthetic.py --out-dir data/synthetic
"""
from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from refineloc_mm.datasets.synthetic import (SyntheticStrengths,
                                             generate_synthetic)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (strength options come from the dataclass)."""
    parser = argparse.ArgumentParser(
        description='Generate a synthetic THUMOS14-shaped dataset.')
    parser.add_argument('--out-dir', default='data/synthetic')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-test', type=int, default=212)
    parser.add_argument('--num-classes', type=int, default=20)
    parser.add_argument('--feat-dim', type=int, default=2048)
    parser.add_argument('--snippet-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--duration-scale', type=float, default=1.0)
    parser.add_argument(
        '--force', action='store_true', help='overwrite existing files')
    group = parser.add_argument_group('signal strengths')
    for f in dataclasses.fields(SyntheticStrengths):
        group.add_argument(
            '--' + f.name.replace('_', '-'),
            type=type(f.default),
            default=f.default,
            help=f'{f.metadata["help"]} (default: {f.default})')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    args = parse_args(argv)
    strengths = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(SyntheticStrengths)
    }
    generate_synthetic(
        args.out_dir,
        num_train=args.num_train,
        num_test=args.num_test,
        num_classes=args.num_classes,
        feat_dim=args.feat_dim,
        snippet_size=args.snippet_size,
        seed=args.seed,
        duration_scale=args.duration_scale,
        force=args.force,
        verbose=True,
        **strengths)


if __name__ == '__main__':
    main()
