# Copyright (c) refineloc-mm contributors. All rights reserved.
"""ActivityNet-v1.2-scale benchmark of the data path (not a test).

Builds a synthetic training split of ActivityNet v1.2's size (4,702
videos, ~950k snippets of 2048-d features: 7.8 GB as float32), then trains
one epoch and regenerates the pseudo labels once (the PseudoLabelHook's
pass over the whole training split) with the ActivityNet config, and
reports wall times and peak memory:

- ``peak_rss_main``: ``ru_maxrss`` of the training process;
- ``peak_rss_largest_worker``: the largest peak RSS (``VmHWM``) of its
  DataLoader workers (``RUSAGE_CHILDREN`` only covers children that have
  exited, and a forked child starts from its parent's RSS);
- ``peak_pss_tree`` / ``peak_rss_tree``: the largest sum over the process
  tree (main + workers) of PSS (shared pages split between the processes
  that map them: the memory the tree really holds) and of RSS (shared
  pages counted once per process), sampled every 0.2 s.

Usage::

    python tools/benchmark_activitynet_scale.py                 # npy, float32
    python tools/benchmark_activitynet_scale.py --format hdf5   # layout 1
    python tools/benchmark_activitynet_scale.py --float16 --keep-data

The data go to ``--data-dir`` (default ``data/anet_scale``) and are deleted
at the end unless ``--keep-data``; an existing set of the same settings is
reused.
"""
import argparse
import json
import os
import os.path as osp
import resource
import shutil
import subprocess
import sys
import threading
import time
from typing import Dict, List

import numpy as np

from refineloc_mm.visualization.progress import track_progress

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    npy=osp.join(REPO, 'configs', 'refineloc',
                 'refineloc_i3d_50x50e_activitynet12-npy.py'),
    hdf5=osp.join(REPO, 'configs', 'refineloc',
                  'refineloc_i3d_50x50e_activitynet12.py'))
WIDTH = 2048
SNIPPET = 16
GiB = 1024**3


# ---------------------------------------------------------------- data
def activitynet_classes() -> List[str]:
    from mmengine.config import Config
    return list(
        Config.fromfile(
            osp.join(REPO, 'configs', '_base_', 'datasets',
                     'activitynet12_classes.py')).classes)


def generate(out_dir: str, fmt: str, num_videos: int, mean_snippets: int,
             float16: bool, seed: int = 0) -> Dict:
    """Write the synthetic split, one video at a time (bounded memory)."""
    rng = np.random.default_rng(seed)
    classes = activitynet_classes()
    # ActivityNet v1.2 training videos have 3..447 snippets, mean ~201
    lengths = rng.integers(3, 2 * mean_snippets - 2, num_videos)
    fps_choices = np.array([25.0, 29.97, 30.0])
    dtype = np.float16 if float16 else np.float32
    pool = rng.standard_normal((8192, WIDTH), dtype=np.float32)
    patterns = rng.standard_normal((len(classes), WIDTH),
                                   dtype=np.float32)
    os.makedirs(out_dir, exist_ok=True)
    database, rows = {}, []
    h5 = None
    if fmt == 'hdf5':
        import h5py
        h5 = h5py.File(osp.join(out_dir, 'train_features.hdf5'), 'w')
    else:
        os.makedirs(osp.join(out_dir, 'features'), exist_ok=True)
    for i, t in enumerate(
            track_progress(lengths, desc='Writing the synthetic split')):
        t = int(t)
        name = f'v_{i:06d}'
        fps = float(rng.choice(fps_choices))
        dur = t * SNIPPET / fps
        label = classes[int(rng.integers(len(classes)))]
        n_seg = int(rng.integers(1, 3))
        bounds = np.sort(rng.uniform(0, dur, 2 * n_seg))
        segs = [(float(bounds[2 * k]), float(bounds[2 * k + 1]) + 1e-3)
                for k in range(n_seg)]
        fg = np.zeros(t, bool)
        for s, e in segs:
            fg[int(s * fps / SNIPPET):int(e * fps / SNIPPET) + 1] = True
        start = int(rng.integers(len(pool)))
        idx = (start + np.arange(t)) % len(pool)
        feats = pool[idx] * 0.5
        feats[fg] += patterns[classes.index(label)]
        feats = feats.astype(dtype, copy=False)
        if h5 is not None:
            h5.create_dataset(name, data=feats)
        else:
            np.save(osp.join(out_dir, 'features', f'{name}.npy'), feats)
        database[name] = dict(
            subset='training',
            duration=dur,
            fps=fps,
            annotations=[dict(segment=[s, e], label=label) for s, e in segs])
        for s, e in segs:
            rows.append([name, s, e, label, dur, fps, t * SNIPPET])
    if h5 is not None:
        h5.close()
        import csv
        from refineloc_mm.datasets.snippet_feature_dataset import \
            CSV_COLUMNS
        with open(osp.join(out_dir, 'train_groundtruth.csv'), 'w',
                  newline='') as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
    else:
        with open(osp.join(out_dir, 'annotations.json'), 'w') as f:
            json.dump(dict(database=database), f)
    return dict(
        videos=num_videos,
        snippets=int(lengths.sum()),
        feature_bytes=int(lengths.sum()) * WIDTH * np.dtype(dtype).itemsize)


# ----------------------------------------------------- memory sampling
def _tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f'/proc/{p}/task'):
                with open(f'/proc/{p}/task/{task}/children') as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def _rollup(pid: int) -> Dict[str, int]:
    """Rss and Pss (smaps_rollup) and VmHWM (peak RSS, status) in bytes."""
    out = {}
    for name, keys in (('smaps_rollup', ('Rss', 'Pss')),
                       ('status', ('VmHWM', ))):
        try:
            with open(f'/proc/{pid}/{name}') as f:
                for line in f:
                    key, _, rest = line.partition(':')
                    if key in keys:
                        out[key] = int(rest.split()[0]) * 1024
        except OSError:
            pass
    return out


class TreeSampler(threading.Thread):
    """Peak sum of RSS and PSS over this process and its descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 1
        self.peak_rss_child = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = _tree(os.getpid())
            stats = [_rollup(p) for p in pids]
            self.peak_rss = max(self.peak_rss,
                                sum(s.get('Rss', 0) for s in stats))
            self.peak_pss = max(self.peak_pss,
                                sum(s.get('Pss', 0) for s in stats))
            self.peak_processes = max(self.peak_processes, len(pids))
            self.peak_rss_child = max([self.peak_rss_child] + [
                s.get('VmHWM', 0) for p, s in zip(pids, stats)
                if p != os.getpid()
            ])
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# ------------------------------------------------------------ training
def train(args: argparse.Namespace) -> Dict:
    """One epoch + one pseudo-label regeneration; returns the figures."""
    sampler = TreeSampler()
    sampler.start()
    t0 = time.time()
    import refineloc_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmaction.registry import HOOKS
    from refineloc_mm.utils.malloc import reuse_freed_memory_if_configured

    times: Dict[str, float] = {}

    @HOOKS.register_module(force=True)
    class BenchmarkStartHook(Hook):
        priority = 'VERY_HIGH'

        def before_train_epoch(self, runner) -> None:
            times['epoch_start'] = time.time()

        def after_train_epoch(self, runner) -> None:
            times['epoch_end'] = time.time()

    @HOOKS.register_module(force=True)
    class BenchmarkStopHook(Hook):
        """Stop after the first epoch, once the PseudoLabelHook (NORMAL)
        has regenerated the labels (the loop then saves the round)."""
        priority = 'LOWEST'

        def after_train_epoch(self, runner) -> None:
            times['regenerated'] = time.time()
            runner.train_loop.stop_training = True

    cfg = Config.fromfile(CONFIGS[args.format])
    split = cfg.train_dataloader.dataset.dataset
    split.data_root = args.data_dir
    if args.format == 'npy':
        split.ann_file = 'annotations.json'
        split.feature_dir = 'features'
        split.subset = 'training'
    else:
        split.ann_file = 'train_groundtruth.csv'
        split.feature_file = 'train_features.hdf5'
    if args.num_workers is not None:
        cfg.train_dataloader.num_workers = args.num_workers
        cfg.train_dataloader.persistent_workers = args.num_workers > 0
        if args.num_workers == 0:
            cfg.train_dataloader.pop('prefetch_factor', None)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    # 2 rounds of one epoch: the first ends with a regeneration, the
    # stop hook ends the run there
    cfg.train_cfg.update(num_rounds=2, epochs_per_round=1)
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        dict(type='BenchmarkStartHook'),
        dict(type='BenchmarkStopHook')
    ]
    cfg.work_dir = args.work_dir
    cfg.launcher = 'none'
    reuse_freed_memory_if_configured(cfg)
    runner = Runner.from_cfg(cfg)
    t_built = time.time()
    runner.train()
    t_end = time.time()
    sampler.stop()
    dataset = runner.train_dataloader.dataset
    labels = dataset.labels
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(
        config=osp.relpath(CONFIGS[args.format], REPO),
        batch_size=cfg.train_dataloader.batch_size,
        num_workers=cfg.train_dataloader.num_workers,
        torch_threads=__import__('torch').get_num_threads(),
        videos=len(dataset),
        snippets=int(dataset.num_snippets.sum()),
        labelled_snippets=int((labels >= 0).sum()),
        seconds_startup_and_index=round(t_built - t0, 1),
        seconds_epoch=round(times['epoch_end'] - times['epoch_start'], 1),
        seconds_regeneration_and_round_checkpoint=round(
            times['regenerated'] - times['epoch_end'], 1),
        seconds_total=round(t_end - t0, 1),
        peak_rss_main_gib=round(self_peak / GiB, 3),
        peak_rss_largest_worker_gib=round(sampler.peak_rss_child / GiB, 3),
        peak_pss_tree_gib=round(sampler.peak_pss / GiB, 3),
        peak_rss_tree_gib=round(sampler.peak_rss / GiB, 3),
        processes=sampler.peak_processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--format', choices=('npy', 'hdf5'), default='npy')
    parser.add_argument('--float16', action='store_true',
                        help='store the features as float16')
    parser.add_argument('--data-dir', default=osp.join('data', 'anet_scale'))
    parser.add_argument('--work-dir',
                        default=osp.join('work_dirs', 'anet_scale'))
    parser.add_argument('--videos', type=int, default=4702)
    parser.add_argument('--mean-snippets', type=int, default=202,
                        help='mean snippets per video (ActivityNet v1.2 '
                        'training: 944,671 / 4,702 = 201)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='override the config\'s DataLoader workers')
    parser.add_argument('--keep-data', action='store_true')
    parser.add_argument('--phase', choices=('all', 'train'), default='all',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == 'train':
        print('BENCHMARK ' + json.dumps(train(args)), flush=True)
        return

    stamp = osp.join(args.data_dir, 'settings.json')
    settings = dict(format=args.format, float16=args.float16,
                    videos=args.videos, mean_snippets=args.mean_snippets)
    report = dict(settings=settings)
    reuse = osp.isfile(stamp) and json.load(open(stamp)) == settings
    if not reuse:
        shutil.rmtree(args.data_dir, ignore_errors=True)
        t = time.time()
        report['data'] = generate(args.data_dir, args.format, args.videos,
                                  args.mean_snippets, args.float16)
        report['data']['seconds_generate'] = round(time.time() - t, 1)
        json.dump(settings, open(stamp, 'w'))
    try:
        cmd = [sys.executable, osp.abspath(__file__), '--phase', 'train',
               '--format', args.format, '--data-dir', args.data_dir,
               '--work-dir', args.work_dir]
        if args.num_workers is not None:
            cmd += ['--num-workers', str(args.num_workers)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        result = None
        for line in proc.stdout:
            if line.startswith('BENCHMARK '):
                result = json.loads(line[len('BENCHMARK '):])
            else:
                sys.stdout.write(line)
        if proc.wait() != 0 or result is None:
            sys.exit(f'training failed (exit code {proc.returncode})')
        report['train'] = result
    finally:
        if not args.keep_data:
            shutil.rmtree(args.data_dir, ignore_errors=True)
    report['machine'] = dict(
        cpus=os.cpu_count(),
        python=sys.version.split()[0],
        memory_gib=round(
            os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GiB,
            1))
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'benchmark.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
