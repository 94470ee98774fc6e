# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Benchmark harness: training epoch, round-end work and whole schedule.

RefineLoc's cost is many short trainings plus a full pass over the training
set after every refinement round. This tool measures each stage through the
real components (mmengine ``Runner``, datasets, :class:`PseudoLabelHook`,
:class:`TemporalmAP`) on the THUMOS14-scale synthetic set, repeats every
measurement, and prints a Markdown table (median, reference, ratio, target)
and writes the same as JSON.

Usage::

    python tools/benchmark.py                       # everything, float32
    python tools/benchmark.py --amp                 # as tools/train.py --amp
    python tools/benchmark.py --skip-schedule --anet-metric --repeats 7
    python tools/benchmark.py --device cuda --out work_dirs/benchmark/gpu.json
    python tools/benchmark.py --reference-results reference.json  # see below

Stages (all times are wall-clock ``time.perf_counter()`` seconds; on CUDA
the device is synchronized before every reading):

- **training epoch**: ``Runner.train()`` of the config with the in-process
  loader (``num_workers=0``), validation off, checkpoints off, a plain
  ``EpochBasedTrainLoop`` (the refinement hooks present but idle: no
  regeneration). Two timing hooks (priorities ``HIGHEST`` and ``LOWEST``)
  read the clock before the first ``before_train_epoch`` hook and after
  the last ``after_train_epoch`` hook, so an epoch includes data loading
  (HDF5 reads), the model, the optimizer and every per-epoch/per-iteration
  hook. The first epoch is a warm-up and dropped; the median of the rest
  is reported. GFLOP/s = analytic FLOPs / median epoch time, with FLOPs =
  3 x (2 x in x out summed over the model's ``nn.Linear`` layers) x the
  number of training snippets (forward + a backward counted as twice the
  forward, the convention of the issue).
- **arithmetic alone** of an epoch: the head's two MLPs forward and
  backward on random rows of the epoch's size in the run's precision (no
  data, no optimizer, no softmaxes/losses), median of 3: the floor of an
  epoch on this machine with these kernels.
- **round-end work**, each repeated ``--repeats`` times on the model the
  Runner just trained, in the order of a real round end:

  (a) ``PseudoLabelHook.regenerate(runner, 0)``: the training-split pass
      (HDF5 reads, model, post-processing with the refinement
      thresholds), pseudo-label generation, statistics, the ``.npz`` write
      and the logging. ``predict_segments`` alone is timed too
      ("(a1) inference"); "(a2) generation" is median(a) - median(a1)
      (clipped at 0: on a busy machine the two medians are noisy).
  (b) forward over the test split: iterating the config's test dataloader
      (in-process, HDF5 reads included) through ``model.data_preprocessor``
      and ``model.snippet_scores``, keeping the outputs; under autocast
      when ``test_cfg.fp16`` is set (``--amp``), as ``TestLoop`` does.
  (c) post-processing of the test split: the head's ``post_processor``
      (inference thresholds) on the outputs of (b).
  (d) mAP at the config's test thresholds: a fresh ``TemporalmAP`` built
      from ``test_evaluator``, ``process`` + ``compute_metrics`` over all
      test videos.

  "all round-end work" is median(a) + median(b) + median(c) + median(d).
- **ActivityNet-scale metric** (``--anet-metric``): ``TemporalmAP`` with
  tIoU 0.5:0.05:0.95 on seeded synthetic predictions and ground truth of
  ActivityNet v1.2 validation size (2,303 videos, 100 classes, ~50k
  predictions, ~3.5k ground-truth segments).
- **reference figures** come from ``--reference-results FILE`` (the
  reference implementation measured side by side on the same machine and
  data; see :func:`load_reference_results`): without it the reference
  column is n/a and the targets relative to it are not checked. They and
  the targets that depend on the scale are shown only when the data are
  the THUMOS14-scale set (200 / 212 videos) and the model is 1024-d; the
  schedule's only for 4 x 10. The line under the table counts the targets
  met, not met and not checked.
- **schedule** (unless ``--skip-schedule``): ``tools/train.py CONFIG
  --rounds R --epochs-per-round E`` in a subprocess with the config's own
  dataloader settings; wall time, the peak RSS of its largest process
  (``ru_maxrss`` from ``os.wait4``, which covers the process and its reaped
  DataLoader workers), the peak summed RSS/PSS of the process tree (sampled
  every 0.5 s from ``/proc``) and the best round's mAP@0.5 from
  ``refinement_summary.json``.

The synthetic set is generated into ``--data-dir`` when any of its four
files is missing (seeded, THUMOS14-shaped: 200 / 212 videos, 76k / 84k
snippets) and reused otherwise.

The harness lives in :mod:`refineloc_mm.utils.benchmark` (timer hook,
FLOP model, memory sampler, stages, schedule run, report); this file is its
command line.
"""
import argparse
import os
import os.path as osp
import resource
import shlex
import shutil
import sys
import tempfile
from typing import Any, Dict, Optional, Sequence

from refineloc_mm.utils.benchmark import (REFERENCE_FIGURES, bench_anet_metric,
                                          bench_in_process, build_rows,
                                          data_root_options, ensure_data,
                                          load_config, load_reference_results,
                                          machine_info, markdown,
                                          run_schedule, write_json)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'refineloc',
                          'refineloc_i3d_4x10e_synthetic.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the training epoch, the round-end work and '
        'the whole refinement schedule.')
    parser.add_argument(
        '--data-dir',
        default='data/synthetic',
        help='synthetic set (generated here when a file is missing)')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='repetitions of every round-end and metric measurement')
    parser.add_argument(
        '--train-epochs',
        type=int,
        default=10,
        help='epochs of the timed training run (the first is a warm-up); '
        'the round-end stages then run on its model, i.e. the model of a '
        'round of that many epochs')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument(
        '--out', default='work_dirs/benchmark/benchmark.json')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='what tools/train.py --amp does: bfloat16 autocast on CPU '
        '(float16 AMP on CUDA) in training, pseudo-label scoring and testing')
    parser.add_argument('--skip-schedule', action='store_true')
    parser.add_argument('--schedule-rounds', type=int, default=4)
    parser.add_argument('--schedule-epochs', type=int, default=10)
    parser.add_argument(
        '--reference-results',
        help='JSON with the reference implementation\'s figures measured '
        'side by side on this machine and data: {"figures": {key: number}}'
        f' with keys {", ".join(REFERENCE_FIGURES)}; without it the '
        'reference column is n/a')
    parser.add_argument(
        '--reference-map50',
        type=float,
        help="the reference's best-round mAP@0.5 (%%) on the same data, "
        'for the schedule target')
    parser.add_argument(
        '--anet-metric',
        action='store_true',
        help='also time the metric at ActivityNet v1.2 scale')
    parser.add_argument(
        '--work-dir',
        help='where the runs write (default: a temporary folder, removed)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides of the config, also passed to the '
        'schedule run')
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error('--repeats must be >= 1')
    if args.train_epochs < 2:
        parser.error('--train-epochs must be >= 2 (the first is a warm-up)')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    reference = load_reference_results(args.reference_results)
    command = shlex.join([sys.executable, *sys.argv]) if argv is None \
        else shlex.join([sys.executable, __file__, *argv])
    if args.device == 'cpu':
        # before anything touches CUDA; the schedule run inherits it
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    import torch
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    import refineloc_mm  # noqa: F401  (registers, patches mmengine)

    machine = machine_info(args.device)
    data = ensure_data(args.data_dir)
    options = data_root_options(args.data_dir) + list(args.cfg_options)
    cfg = load_config(args.config, options)
    if args.amp:
        from refineloc_mm.utils.precision import enable_amp
        enable_amp(cfg)

    tmp = None
    work_dir = args.work_dir
    if work_dir is None:
        tmp = tempfile.mkdtemp(prefix='refineloc_benchmark_')
        work_dir = tmp
    try:
        res = bench_in_process(cfg, osp.join(work_dir, 'in_process'),
                               args.train_epochs, args.repeats, args.device)
        if args.anet_metric:
            res['map_anet'] = bench_anet_metric(args.repeats)
        res['benchmark_peak_rss_bytes'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024
        if not args.skip_schedule:
            sched = run_schedule(args.config, options, args.schedule_rounds,
                                 args.schedule_epochs,
                                 osp.join(work_dir, 'schedule'), args.amp,
                                 repo=REPO)
            sched.update(
                rounds=args.schedule_rounds,
                epochs=args.schedule_epochs,
                reference_map50=args.reference_map50)
            res['schedule'] = sched
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    machine['load_average_end'] = list(os.getloadavg())
    reference_applies = bool(
        (data['train']['num_videos'], data['test']['num_videos']) == (200,
                                                                      212)
        and cfg.model.cls_head.in_channels == 1024)
    rows = build_rows(res, reference, reference_applies)
    table = markdown(rows, machine, command)
    doc = dict(
        command=command,
        machine=machine,
        data=data,
        config=osp.relpath(args.config, REPO) if osp.abspath(
            args.config).startswith(REPO) else args.config,
        cfg_options=list(args.cfg_options),
        amp=args.amp,
        repeats=args.repeats,
        train_epochs=args.train_epochs,
        reference=reference,
        reference_results=args.reference_results,
        reference_applies=reference_applies,
        table=rows,
        stages=res,
        markdown=table)
    write_json(args.out, doc)
    print('\n' + table)
    print(f'\nbenchmark: wrote {args.out}')
    return doc


if __name__ == '__main__':
    main()
