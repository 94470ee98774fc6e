# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Time one training iteration of a base model, this project's vs its
original's arithmetic, at a config's shapes; peak memory of each.

For each ``--config``: the model built through the registry and stepped as
the Runner does (``model.train_step``, the config's optimizer), against the
original's arithmetic (the model folder's ``benchmark_original.py``, e.g.
``refineloc_mm/base_models/basnet/benchmark_original.py``, written from
``shared/BASE_MODELS.md`` / ``shared/DELU.md``) at the same shapes: batch
(``train_dataloader.batch_size``), snippets per video (the training
pipeline's crop / resampling length), feature and head widths. Each
implementation runs in its own subprocesses, ``--repeats`` of each,
alternated; each does ``--warmup`` then ``--iters`` timed iterations; the
medians of the pooled iterations (wall and CPU time), the peak RSS of the
processes and the ratio are printed, with a Markdown row per config.

Usage::

    OMP_NUM_THREADS=2 python tools/benchmark_iteration.py --config \\
        configs/basnet/basnet_i3d_1x115e_thumos14.py \\
        configs/wtalc/wtalc_i3d_1x200e_thumos14.py \\
        configs/delu/delu_i3d_1x100e_thumos14.py \\
        --json work_dirs/benchmark/iteration.json
    python tools/benchmark_iteration.py --config \\
        configs/refineloc/refineloc_i3d_50x100e_thumos14.py \\
        --whole-video-snippets 381          # RefineLoc: whole videos
    python tools/benchmark_iteration.py --config \\
        configs/basnet/basnet_i3d_1x115e_thumos14.py \\
        --batch 4 --num-snippets 64 --cfg-options \\
        model.cls_head.cas_channels=64 model.cls_head.in_channels=32

The logic lives in :mod:`refineloc_mm.utils.benchmark.iteration`.
"""
import argparse
import json
import os
from typing import Any, Dict, List, Optional, Sequence

from refineloc_mm.utils.benchmark.iteration import (TABLE_HEADER,
                                                    benchmark_iteration,
                                                    report_lines, table_row)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time one training iteration of a base model, this '
        "project's vs the original's arithmetic.")
    parser.add_argument('--config', nargs='+', required=True,
                        help='one or more configs, one line each')
    parser.add_argument(
        '--original',
        default='auto',
        help='the original to compare with: auto (the benchmark_original.py'
        " in the folder of the config model's class; none if it has none, "
        'e.g. RefineLoc), none, the name of a folder under '
        'refineloc_mm/base_models, a package, or a benchmark_original.py '
        'path')
    parser.add_argument('--batch', type=int,
                        help='videos per batch (default: the config\'s)')
    parser.add_argument(
        '--num-snippets', type=int,
        help='snippets per video (default: the training pipeline\'s crop '
        'or resampling length)')
    parser.add_argument(
        '--whole-video-snippets', type=int,
        help='snippets per video for a config that trains on whole videos '
        '(no crop / resampling)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value config overrides (both sides)')
    parser.add_argument('--iters', type=int, default=5,
                        help='timed iterations per process')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed iterations per process first')
    parser.add_argument('--repeats', type=int, default=3,
                        help='processes per implementation, alternated')
    parser.add_argument('--threads', type=int,
                        help='torch threads of the timed processes')
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    if args.iters < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error('--iters and --repeats must be >= 1, --warmup >= 0')
    return args


def main(argv: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    results = []
    for config in args.config:
        res = benchmark_iteration(
            config, args.original, args.cfg_options, args.batch,
            args.num_snippets, args.whole_video_snippets, args.iters,
            args.warmup, args.repeats, args.threads)
        print('\n'.join(report_lines(res)), flush=True)
        results.append(res)
    print('\n' + TABLE_HEADER)
    for res in results:
        print(table_row(res))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)),
                    exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'\nbenchmark_iteration: wrote {args.json}')
    return results


if __name__ == '__main__':
    main()
