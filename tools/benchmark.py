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
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.hooks import Hook

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'refineloc_synthetic.py')
# a round that never ends and checkpoints that never come inside the run
NEVER = 10**9
GB = 1e9

# Figures of the reference implementation a --reference-results file may
# give (measured side by side with this tool, on the same machine and the
# same THUMOS14-scale synthetic set): key -> what it is.
REFERENCE_FIGURES = dict(
    train_epoch='one training epoch (s)',
    train_gflops='achieved GFLOP/s of the training epoch',
    regenerate='training-split inference + pseudo-label regeneration (s)',
    test_forward='forward over the test split (s)',
    post_processing='post-processing of the test split (s)',
    map_thumos='mAP at 0.1...0.7 on the test split (s)',
    map_thumos_first='the same, first call in the process (s)',
    round_end='all round-end work (s); default: the sum of the four above',
    schedule_wall='4 x 10 schedule, end to end (s)',
    schedule_peak_rss_gb='4 x 10 schedule, peak RSS (GB)',
    schedule_map50='4 x 10 schedule, best-round mAP@0.5 (%)')
ROUND_END_PARTS = ('regenerate', 'test_forward', 'post_processing',
                   'map_thumos')


def load_reference_results(path: Optional[str]) -> Dict[str, float]:
    """The reference implementation's figures from ``path``.

    The file is JSON, ``{"figures": {key: number}, ...}`` (any other
    top-level keys, e.g. ``"machine"``, ``"command"``, describe the
    measurement and are kept in the report), with keys of
    :data:`REFERENCE_FIGURES`; a figure not given is shown as n/a.

    Args:
        path (str, optional): The file; None gives no figures (every
            reference cell n/a).

    Raises:
        SystemExit: Unreadable file, no ``figures`` object, an unknown key
            or a value that is not a positive number, naming the file and
            the key.
    """
    if path is None:
        return {}
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(
            f'--reference-results {path}: cannot read it: {e}') from None
    figures = doc.get('figures') if isinstance(doc, dict) else None
    if not isinstance(figures, dict):
        raise SystemExit(
            f'--reference-results {path}: expected {{"figures": {{key: '
            f'number}}}} with keys {sorted(REFERENCE_FIGURES)}.')
    out = {}
    for key, value in figures.items():
        if key not in REFERENCE_FIGURES:
            raise SystemExit(
                f'--reference-results {path}: unknown figure "{key}"; the '
                f'keys are {sorted(REFERENCE_FIGURES)}.')
        if isinstance(value, bool) or not isinstance(
                value, (int, float)) or not (math.isfinite(value)
                                             and value > 0):
            raise SystemExit(
                f'--reference-results {path}: figure "{key}" must be a '
                f'positive number, got {value!r}.')
        out[key] = float(value)
    if 'round_end' not in out and all(k in out for k in ROUND_END_PARTS):
        out['round_end'] = sum(out[k] for k in ROUND_END_PARTS)
    return out


# ------------------------------------------------------------------ timing
class EpochTimerHook(Hook):
    """Reads the clock at one end of every training epoch.

    Register one instance with ``mark='start'`` at priority ``HIGHEST``
    (before every other ``before_train_epoch``) and one with ``mark='end'``
    at ``LOWEST`` (after every other ``after_train_epoch``); both append to
    the same ``record``.

    Args:
        record (dict): ``{'start': [...], 'end': [...]}``, filled in place.
        mark (str): ``'start'`` or ``'end'``.
        sync (Callable): Called before reading the clock (CUDA sync).
    """

    def __init__(self,
                 record: Dict[str, List[float]],
                 mark: str,
                 sync: Callable[[], None] = lambda: None) -> None:
        if mark not in ('start', 'end'):
            raise ValueError(f'mark must be start or end, got {mark!r}')
        self.record = record
        self.mark = mark
        self.sync = sync

    def before_train_epoch(self, runner) -> None:
        if self.mark == 'start':
            self.sync()
            self.record['start'].append(time.perf_counter())

    def after_train_epoch(self, runner) -> None:
        if self.mark == 'end':
            self.sync()
            self.record['end'].append(time.perf_counter())


def timed(fn: Callable[[], Any],
          sync: Callable[[], None] = lambda: None) -> Tuple[float, Any]:
    """Wall time of ``fn()`` (device synchronized around it) and its
    result."""
    sync()
    tic = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - tic, out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str) -> Dict[str, Any]:
    """CPU, cores, torch version and threads, device, load average."""
    import torch
    info = dict(
        cpu=cpu_model(),
        cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else os.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        device=device,
        load_average=list(os.getloadavg()))
    if device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(0)
    return info


# ------------------------------------------------------------------- data
def ensure_data(data_dir: str) -> Dict[str, Any]:
    """Generate the default synthetic set into ``data_dir`` if a file is
    missing; return its split summary."""
    from refineloc_mm.datasets.synthetic import (generate_synthetic,
                                                 output_paths,
                                                 summarize_groundtruth)
    paths = output_paths(data_dir)
    generated = False
    if not all(osp.exists(p) for p in paths.values()):
        print(f'benchmark: generating the synthetic set into {data_dir}')
        generate_synthetic(data_dir, verbose=True)
        generated = True
    return dict(
        dir=data_dir,
        generated=generated,
        train=summarize_groundtruth(paths['train_groundtruth']),
        test=summarize_groundtruth(paths['test_groundtruth']))


def data_root_options(data_dir: str) -> List[str]:
    """``--cfg-options`` pointing the three splits at ``data_dir``."""
    return [
        f'{split}.data_root={data_dir}'
        for split in ('train_dataloader.dataset.dataset',
                      'val_dataloader.dataset', 'test_dataloader.dataset')
    ]


def parse_options(options: Sequence[str]) -> Dict[str, Any]:
    """``key=value`` strings -> dict, exactly as ``--cfg-options`` does."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    if not options:
        return {}
    return parser.parse_args(['--o', *options]).o


def load_config(config: str, options: Sequence[str]):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parse_options(options))
    return cfg


def in_process(loader_cfg: dict) -> dict:
    loader_cfg = copy.deepcopy(loader_cfg)
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    return loader_cfg


def benchmark_runner_config(cfg, work_dir: str, epochs: int):
    """The config of the timed Runner: in-process loader, no validation,
    no test, no checkpoints, no regeneration inside the run."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.train_dataloader = in_process(cfg.train_dataloader)
    for key in ('val', 'test'):
        cfg[f'{key}_cfg'] = None
        cfg[f'{key}_dataloader'] = None
        cfg[f'{key}_evaluator'] = None
    if cfg.train_cfg.get('type') != 'RefinementLoop' or \
            'pseudo_labels' not in cfg.get('default_hooks', {}):
        raise ValueError(f'{cfg.filename}: the benchmark needs a '
                         'RefinementLoop and default_hooks.pseudo_labels.')
    # the epochs alone: under a plain epoch loop the refinement hooks are
    # idle (the round-end stages are timed separately)
    cfg.train_cfg = dict(
        type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=NEVER)
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None:
        checkpoint['interval'] = NEVER
        checkpoint['save_last'] = False
    return cfg


def train_flops(model, num_snippets: int) -> Tuple[int, int]:
    """(FLOPs per snippet forward, FLOPs of one training epoch)."""
    import torch.nn as nn
    forward = sum(2 * m.in_features * m.out_features
                  for m in model.modules() if isinstance(m, nn.Linear))
    return forward, 3 * forward * num_snippets


def gemm_floor(model, num_snippets: int, batches: int, fp16: bool,
               sync: Callable[[], None], repeats: int = 3) -> float:
    """Seconds of one training epoch's arithmetic alone on this machine.

    The head's two snippet MLPs, forward and backward, on random features
    of the epoch's size (``num_snippets`` rows in ``batches`` equal
    batches), under the training precision (bfloat16 autocast when
    ``fp16``); no data loading, no optimizer step, no softmaxes or losses.
    The median of ``repeats``. An epoch cannot be faster than this with
    these kernels, whatever the framework around them does.
    """
    import torch
    from mmengine.runner.amp import autocast

    from refineloc_mm.models.heads.refineloc_head import autocast_input
    head = model.cls_head
    param = next(head.parameters())
    rows = -(-num_snippets // batches)
    x = torch.randn(rows, head.in_channels, device=param.device)

    def epoch():
        for _ in range(batches):
            with autocast(device_type=param.device.type, enabled=fp16):
                xi = autocast_input(x)
                out = head.fc_cas(xi).float().sum() + head.fc_attention(
                    xi).float().sum()
            out.backward()
        head.zero_grad(set_to_none=True)

    epoch()  # warm-up
    return median([timed(epoch, sync)[0] for _ in range(repeats)])


# ------------------------------------------------------- round-end stages
def forward_split(model, loader,
                  fp16: bool = False) -> List[Tuple[dict, list]]:
    """(b): model outputs of every batch of ``loader``, kept; under
    mmengine's autocast when ``fp16`` (as ``TestLoop(fp16=True)``)."""
    from refineloc_mm.models.scoring import score_split
    return list(score_split(model, loader, fp16))


def post_process(predictor, outputs: List[Tuple[dict, list]]
                 ) -> List[np.ndarray]:
    """(c): segments of every video from the outputs of (b)."""
    from refineloc_mm.models.heads.refineloc_head import snippet_durations
    segments = []
    for out, samples in outputs:
        segments.extend(
            predictor(out['cas_softmax'], out['foreground'],
                      out['video_score'], out['mask'],
                      snippet_durations(samples)))
    return segments


def evaluate(metric_cfg: dict, dataset_meta: dict,
             samples: List[dict]) -> Tuple[float, Dict[str, float]]:
    """(d): wall time of ``process`` + ``compute_metrics`` of a fresh
    metric (building it is not timed) and the metrics."""
    from mmaction.registry import METRICS
    metric = METRICS.build(copy.deepcopy(metric_cfg))
    metric.dataset_meta = dataset_meta
    tic = time.perf_counter()
    metric.process(None, samples)
    metrics = metric.compute_metrics(metric.results)
    return time.perf_counter() - tic, metrics


def anet_scale_samples(num_videos: int = 2303,
                       num_classes: int = 100,
                       num_preds: int = 50000,
                       gts_per_video: float = 1.52,
                       seed: int = 0) -> List[dict]:
    """Seeded predictions and ground truth of ActivityNet v1.2 validation
    size for the metric: mostly one class per video, ~1.5 instances per
    video, about 60 % of the predictions jittered copies of ground truth
    and the rest random segments (mostly of the video's class)."""
    rng = np.random.default_rng(seed)
    per_video = np.full(num_videos, num_preds // num_videos)
    per_video[:num_preds % num_videos] += 1
    samples = []
    for v in range(num_videos):
        duration = rng.uniform(20.0, 240.0)
        cls = rng.integers(0, num_classes)
        num_gt = 1 + rng.poisson(gts_per_video - 1)
        length = duration * rng.uniform(0.05, 0.5, num_gt)
        start = rng.uniform(0.0, duration - length)
        gt = np.stack([start, start + length, np.full(num_gt, cls)], 1)
        n = int(per_video[v])
        near = rng.random(n) < 0.6
        src = rng.integers(0, num_gt, n)
        jitter = rng.normal(0.0, 0.15, (n, 2)) * length[src, None]
        p_start = np.where(near, start[src] + jitter[:, 0],
                           rng.uniform(0.0, duration * 0.8, n))
        p_len = np.where(near, length[src] + jitter[:, 1] - jitter[:, 0],
                         duration * rng.uniform(0.02, 0.4, n))
        p_start = p_start.clip(0.0, duration)
        p_end = (p_start + np.abs(p_len)).clip(p_start, duration)
        p_cls = np.where(
            near | (rng.random(n) < 0.7), cls,
            rng.integers(0, num_classes, n))
        preds = np.stack([p_start, p_end, p_cls, rng.random(n)], 1)
        samples.append(
            dict(
                video_name=f'anet_{v:05d}',
                pred_segments=preds,
                gt_segments=gt))
    return samples


# ---------------------------------------------------------------- schedule
def _children(pid: int) -> List[int]:
    kids = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def _rollup(pid: int) -> Tuple[int, int]:
    """(RSS, PSS) in bytes of ``pid`` (0, 0 when unreadable)."""
    rss = pss = 0
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Rss:'):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith('Pss:'):
                    pss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Peak summed RSS and PSS of a process tree, sampled every
    ``interval`` seconds from ``/proc`` until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.max_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo += _children(pid)
            usage = [_rollup(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(u[0] for u in usage))
            self.peak_pss = max(self.peak_pss, sum(u[1] for u in usage))
            self.max_processes = max(self.max_processes, len(pids))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_schedule(config: str,
                 options: Sequence[str],
                 rounds: int,
                 epochs: int,
                 work_dir: str,
                 amp: bool = False) -> Dict[str, Any]:
    """Train ``rounds`` x ``epochs`` with tools/train.py in a subprocess."""
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), config, '--rounds',
        str(rounds), '--epochs-per-round',
        str(epochs), '--work-dir', work_dir
    ] + (['--amp'] if amp else [])
    if options:
        cmd += ['--cfg-options', *options]
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'schedule_stdout.log')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    print(f'benchmark: {rounds} x {epochs} schedule: {shlex.join(cmd)}')
    with open(log_path, 'w') as log:
        tic = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.stop()
        wall = time.perf_counter() - tic
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'the schedule failed ({proc.returncode}); '
                           f'{log_path} ends with:\n{tail}')
    with open(osp.join(work_dir, 'refinement_summary.json')) as f:
        summary = json.load(f)
    best = summary.get('best_round')
    per_round = {
        e['round']: e.get('metrics', {}).get('mAP@0.5')
        for e in summary['rounds']
    }
    return dict(
        command=shlex.join(cmd),
        wall_s=wall,
        peak_rss_largest_process_bytes=usage.ru_maxrss * 1024,
        peak_rss_tree_bytes=sampler.peak_rss,
        peak_pss_tree_bytes=sampler.peak_pss,
        max_processes=sampler.max_processes,
        best_round=best,
        best_map50=per_round.get(best),
        map50_per_round=per_round)


# -------------------------------------------------------------- benchmark
def bench_in_process(args: argparse.Namespace, cfg,
                     work_dir: str) -> Dict[str, Any]:
    """Training epochs and round-end stages in this process."""
    import torch
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from refineloc_mm.engine.hooks.pseudo_label_hook import (
        PseudoLabelHook, train_dataset)
    from refineloc_mm.engine.optim_wrappers.bf16_optim_wrapper import \
        is_mixed_precision
    from refineloc_mm.utils.malloc import reuse_freed_memory_if_configured
    from refineloc_mm.visualization.progress import Progress

    cuda = args.device == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    results: Dict[str, Any] = {}

    # ---- training epochs (with the allocator setting of tools/train.py)
    reuse_freed_memory_if_configured(cfg)
    runner_cfg = benchmark_runner_config(cfg, work_dir, args.train_epochs)
    runner = Runner.from_cfg(runner_cfg)
    record: Dict[str, List[float]] = dict(start=[], end=[])
    runner.register_hook(EpochTimerHook(record, 'start', sync), 'HIGHEST')
    runner.register_hook(EpochTimerHook(record, 'end', sync), 'LOWEST')
    runner.train()
    epochs = [e - s for s, e in zip(record['start'], record['end'])]
    if len(epochs) != args.train_epochs:
        raise RuntimeError(f'timed {len(epochs)} epochs, expected '
                           f'{args.train_epochs}')
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    train_set = train_dataset(runner)
    num_train = int(train_set.num_snippets.sum())
    flops_snippet, flops_epoch = train_flops(model, num_train)
    epoch_s = median(epochs[1:])
    results['train_epoch'] = dict(
        samples=epochs,
        warmup=epochs[0],
        median=epoch_s,
        batches=len(runner.train_dataloader),
        videos=len(train_set),
        snippets=num_train,
        flops_per_snippet_forward=flops_snippet,
        flops=flops_epoch)
    results['train_gflops'] = dict(median=flops_epoch / epoch_s / 1e9)
    floor = gemm_floor(model, num_train, len(runner.train_dataloader),
                       is_mixed_precision(runner.optim_wrapper), sync)
    results['train_floor'] = dict(median=floor,
                                  gflops=flops_epoch / floor / 1e9)

    # ---- round-end stages
    test_loader = Runner.build_dataloader(
        in_process(cfg.test_dataloader), seed=runner.seed)
    test_set = test_loader.dataset
    test_fp16 = bool((cfg.get('test_cfg') or {}).get('fp16', False))
    predictor = model.cls_head.post_processor
    model.eval()
    names = ('predict_train', 'regenerate', 'test_forward',
             'post_processing', 'map_thumos')
    times: Dict[str, List[float]] = {n: [] for n in names}
    progress = Progress(
        args.repeats * len(names), desc='benchmark: round-end stages')
    extra: Dict[str, Any] = {}
    for _ in range(args.repeats):
        t, segs = timed(
            partial(hook.predict_segments, runner, train_set), sync)
        times['predict_train'].append(t)
        progress.update()
        t, stats = timed(partial(hook.regenerate, runner, 0), sync)
        times['regenerate'].append(t)
        progress.update()
        with torch.no_grad():
            t, outputs = timed(
                partial(forward_split, model, test_loader, test_fp16), sync)
        times['test_forward'].append(t)
        progress.update()
        t, segments = timed(partial(post_process, predictor, outputs),
                            sync)
        times['post_processing'].append(t)
        progress.update()
        videos = [ds for _, batch in outputs for ds in batch]
        samples = [
            dict(
                video_name=ds.metainfo['video_name'],
                pred_segments=seg,
                gt_segments=ds.gt_segments)
            for ds, seg in zip(videos, segments)
        ]
        t, metrics = evaluate(cfg.test_evaluator, test_set.metainfo,
                              samples)
        times['map_thumos'].append(t)
        progress.update()
        extra = dict(
            train_predicted_segments=int(sum(len(s) for s in segs)),
            pseudo_labels=dict(
                coverage=stats.get('coverage'),
                w_fg=stats.get('w_fg')),
            test_videos=len(test_set),
            test_snippets=int(
                sum(ds.metainfo['num_snippets'] for ds in videos)),
            test_predicted_segments=int(sum(len(s) for s in segments)),
            test_metrics=metrics)
    progress.close()
    for name in names:
        results[name] = dict(
            samples=times[name],
            first=times[name][0],
            median=median(times[name]))
    results['generation'] = dict(median=max(
        results['regenerate']['median'] -
        results['predict_train']['median'], 0.0))
    results['round_end'] = dict(median=sum(
        results[n]['median']
        for n in ('regenerate', 'test_forward', 'post_processing',
                  'map_thumos')))
    results['round_end_details'] = extra
    model.train()
    return results


def bench_anet_metric(repeats: int) -> Dict[str, Any]:
    """TemporalmAP at ActivityNet v1.2 scale, ``repeats`` times."""
    samples = anet_scale_samples()
    cfg = dict(
        type='TemporalmAP',
        tiou_thresholds=tuple(np.round(np.linspace(0.5, 0.95, 10), 2)))
    meta = dict(classes=tuple(str(i) for i in range(100)))
    times, metrics = [], {}
    for _ in range(repeats):
        t, metrics = evaluate(cfg, meta, samples)
        times.append(t)
    return dict(
        samples=times,
        first=times[0],
        median=median(times),
        videos=len(samples),
        predictions=int(sum(len(s['pred_segments']) for s in samples)),
        ground_truth=int(sum(len(s['gt_segments']) for s in samples)),
        average_mAP=metrics.get('average_mAP'))


# ------------------------------------------------------------------ report
def _fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return 'n/a'
    if unit == 's':
        return f'{value:.3f} s' if value < 10 else f'{value:.1f} s'
    if unit == 'GB':
        return f'{value:.2f} GB'
    if unit == 'GFLOP/s':
        return f'{value:.3g} GFLOP/s'
    if unit == '%':
        return f'{value:.2f} %'
    return f'{value:g}'


def build_rows(res: Dict[str, Any],
               reference: Optional[Dict[str, float]] = None,
               reference_applies: bool = True) -> List[Dict[str, Any]]:
    """Table rows: stage, value, unit, reference, ratio, target (text)
    and whether it is met (None: not checked, e.g. a target relative to a
    reference figure that was not given).

    Args:
        res (dict): The measurements (``stages`` of the JSON).
        reference (dict, optional): The reference implementation's figures
            (:func:`load_reference_results`); missing ones are n/a.
        reference_applies (bool): The data and model are those of the
            reference figures (THUMOS14-scale synthetic set, 1024-d). When
            False, the reference figures and the targets that depend on the
            scale are left out (shown as n/a, ``met`` None).
    """
    rows = []

    def row(key: str,
            stage: str,
            value: Optional[float],
            unit: str,
            ref: Optional[float] = None,
            target: str = '',
            met: Optional[bool] = None,
            higher_is_better: bool = False,
            scale_bound: bool = True) -> None:
        if scale_bound and not reference_applies:
            ref, met = None, None
        ratio = None
        if value is not None and ref:
            ratio = value / ref
        rows.append(
            dict(
                key=key,
                stage=stage,
                value=value,
                unit=unit,
                reference=ref,
                ratio=ratio,
                target=target,
                met=met,
                higher_is_better=higher_is_better))

    r = dict(reference or {})
    ep = res['train_epoch']['median']
    ref_ep = r.get('train_epoch')
    row('train_epoch', 'one training epoch, in-process loader '
        '(HDF5 reads included)', ep, 's', ref_ep,
        '<= 1.2 x ref' + ('' if ref_ep is None else
                          f' ({1.2 * ref_ep:.2f} s)'),
        None if ref_ep is None else ep <= 1.2 * ref_ep)
    row('train_gflops', 'achieved GFLOP/s of the training epoch',
        res['train_gflops']['median'], 'GFLOP/s', r.get('train_gflops'),
        higher_is_better=True)
    if 'train_floor' in res:
        fl = res['train_floor']
        row('train_floor', 'arithmetic alone of an epoch on this machine '
            '(the two MLPs forward + backward on random rows, no data, no '
            f'optimizer; {fl["gflops"]:.0f} GFLOP/s)', fl['median'], 's',
            scale_bound=False)
    row('regenerate', '(a) training-split inference + pseudo-label '
        'regeneration (hook.regenerate, HDF5 reads included)',
        res['regenerate']['median'], 's', r.get('regenerate'))
    row('predict_train', '(a1) of which training-split inference '
        '(_predict_train_split)', res['predict_train']['median'], 's')
    row('generation', '(a2) of which label generation, save, log (a - a1)',
        res['generation']['median'], 's')
    row('test_forward', '(b) forward over the test split '
        '(HDF5 reads included)', res['test_forward']['median'], 's',
        r.get('test_forward'))
    row('post_processing', '(c) post-processing of the test split',
        res['post_processing']['median'], 's', r.get('post_processing'))
    row('map_thumos', '(d) mAP at 0.1...0.7 on the test split',
        res['map_thumos']['median'], 's', r.get('map_thumos'))
    row('map_thumos_first', '(d) first call in the process',
        res['map_thumos']['first'], 's', r.get('map_thumos_first'))
    total = res['round_end']['median']
    row('round_end', 'all round-end work (a + b + c + d)', total, 's',
        r.get('round_end'), '< 1.6 s', total < 1.6)
    if 'map_anet' in res:
        v = res['map_anet']['median']
        row('map_anet', 'mAP at ActivityNet v1.2 scale (2,303 videos, 10 '
            'thresholds, ~50k predictions)',
            v,
            's',
            None,
            '< 2 s',
            v < 2,
            scale_bound=False)
    if 'schedule' in res:
        s = res['schedule']
        tag = f'{s["rounds"]} x {s["epochs"]} schedule'
        full = (s['rounds'], s['epochs']) == (4, 10)
        row('schedule_wall', f'{tag}, end to end (tools/train.py)',
            s['wall_s'], 's', r.get('schedule_wall') if full else None,
            '< 90 s', s['wall_s'] < 90 if full else None)
        rss = s['peak_rss_largest_process_bytes'] / GB
        ref_rss = r.get('schedule_peak_rss_gb') if full else None
        row('schedule_peak_rss', f'{tag}, peak RSS (largest process)', rss,
            'GB', ref_rss, '<= ref', None if ref_rss is None else
            rss <= ref_rss)
        row('schedule_tree_pss', f'{tag}, peak PSS of the process tree '
            '(sampled)', s['peak_pss_tree_bytes'] / GB, 'GB')
        best = s['best_map50']
        ref_map = s.get('reference_map50')
        if ref_map is None and full:
            ref_map = r.get('schedule_map50')
        row('schedule_map50', f'{tag}, best-round mAP@0.5 (round '
            f'{s["best_round"]})', None if best is None else 100 * best, '%',
            ref_map, '>= reference',
            None if ref_map is None or best is None else
            100 * best >= ref_map, True)
    row('benchmark_peak_rss',
        'peak RSS of this benchmark process',
        res['benchmark_peak_rss_bytes'] / GB,
        'GB',
        scale_bound=False)
    return rows


def markdown(rows: List[Dict[str, Any]], machine: Dict[str, Any],
             command: str) -> str:
    lines = [
        '| stage | this project (median) | reference | ratio | target |',
        '|---|---|---|---|---|'
    ]
    for r in rows:
        ratio = 'n/a' if r['ratio'] is None else f'{r["ratio"]:.2f}'
        target = r['target']
        if r['met'] is not None:
            target += ' (met)' if r['met'] else ' (NOT met)'
        elif target:
            target += ' (n/a: not checked)'
        lines.append(f'| {r["stage"]} | {_fmt(r["value"], r["unit"])} | '
                     f'{_fmt(r["reference"], r["unit"])} | {ratio} | '
                     f'{target} |')
    lines += ['', target_summary(rows)]
    lines += [
        '',
        f'Machine: {machine["cpu"]}, {machine["cores"]} cores '
        f'({machine["usable_cores"]} usable), torch {machine["torch"]} '
        f'({machine["torch_threads"]} threads), device '
        f'{machine["device"]}'
        + (f' ({machine["gpu"]})' if 'gpu' in machine else '')
        + f', load average at start {machine["load_average"][0]:.2f}, '
        f'at end {machine["load_average_end"][0]:.2f}.',
        f'Command: `{command}`',
    ]
    return '\n'.join(lines)


def target_summary(rows: List[Dict[str, Any]]) -> str:
    """One line: how many targets are met, not met and not checked (a
    target whose figure is n/a is never counted as met)."""
    with_target = [r for r in rows if r['target']]
    met = [r for r in with_target if r['met'] is True]
    missed = [r for r in with_target if r['met'] is False]
    unchecked = [r for r in with_target if r['met'] is None]
    text = (f'Targets: {len(met)} of {len(with_target)} met, '
            f'{len(missed)} not met, {len(unchecked)} not checked')
    if unchecked:
        text += ' (n/a: ' + '; '.join(r['stage']
                                      for r in unchecked) + ')'
    return text + '.'


def write_json(path: str, doc: Dict[str, Any]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)


# -------------------------------------------------------------------- main
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
        res = bench_in_process(args, cfg, osp.join(work_dir, 'in_process'))
        if args.anet_metric:
            res['map_anet'] = bench_anet_metric(args.repeats)
        res['benchmark_peak_rss_bytes'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024
        if not args.skip_schedule:
            sched = run_schedule(args.config, options, args.schedule_rounds,
                                 args.schedule_epochs,
                                 osp.join(work_dir, 'schedule'), args.amp)
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
