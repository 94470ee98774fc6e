# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Run N two-process (gloo, CPU) trainings through ``tools/dist_train.sh``
and count the non-zero exits.

Each run trains ``configs/refineloc/refineloc_i3d_4x10e_synthetic.py`` on a
tiny synthetic set (generated once into the output folder) for
``--rounds`` rounds of ``--epochs-per-round`` epochs, so that it exercises
what a real run does at exit: DDP, the refinement hook's label
regeneration and its collective digest check, validation, checkpoints and
the process group teardown. A run counts as failed when ``torchrun``
exits non-zero; the stderr tail of every failed run is kept in
``<out-dir>/failures/``.

Example::

    python tools/dist_stress.py --num-runs 60 --out-dir /tmp/dist_stress
"""
import argparse
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FEAT_DIM = 64  # two 32-d streams; the THUMOS-shaped config reads stream 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--num-runs', type=int, default=60, help='number of trainings')
    parser.add_argument(
        '--out-dir',
        default=osp.join(REPO, 'work_dirs', 'dist_stress'),
        help='data, work directories and failure logs go here')
    parser.add_argument('--nproc', type=int, default=2, help='processes')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--epochs-per-round', type=int, default=1)
    parser.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='DataLoader workers per process (persistent when > 0)')
    parser.add_argument(
        '--timeout', type=float, default=600, help='seconds per run')
    parser.add_argument(
        '--keep-work-dirs',
        action='store_true',
        help='keep every run\'s work directory (default: failed runs only)')
    args = parser.parse_args()
    if args.num_runs < 1 or args.nproc < 1:
        parser.error('--num-runs and --nproc must be >= 1')
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tiny_data(out_dir: str) -> str:
    """Generate (once) a tiny synthetic set; returns its folder."""
    from refineloc_mm.datasets.synthetic import generate_synthetic
    data_root = osp.join(out_dir, 'data')
    generate_synthetic(
        data_root,
        num_train=13,
        num_test=7,
        num_classes=3,
        feat_dim=FEAT_DIM,
        duration_scale=0.15,
        seed=3)
    return data_root


def cfg_options(data_root: str, num_workers: int) -> list:
    half = FEAT_DIM // 2
    persistent = num_workers > 0
    opts = [f'model.cls_head.in_channels={half}',
            'train_dataloader.batch_size=4',
            'default_hooks.logger.interval=1',
            'model.cls_head.post_processor.min_cas_score=0.02',
            'default_hooks.pseudo_labels.generator.post_processor.'
            'min_attention_score=0.5']
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.num_workers={num_workers}',
                 f'{loader}_dataloader.persistent_workers={persistent}']
    for split in ('train_dataloader.dataset.dataset', 'val_dataloader.dataset',
                  'test_dataloader.dataset'):
        opts += [f'{split}.data_root={data_root}',
                 f'{split}.in_channels={half}']
    return opts


def classify(returncode: int, stderr: str) -> str:
    if returncode == 0:
        return 'ok'
    if 'terminate called' in stderr:
        return 'terminate called (exit-time abort)'
    if 'Traceback' in stderr:
        return 'Python error'
    return f'exit code {returncode}'


def main() -> None:
    args = parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    data_root = tiny_data(args.out_dir)
    failures_dir = osp.join(args.out_dir, 'failures')
    os.makedirs(failures_dir, exist_ok=True)
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        MASTER_ADDR='127.0.0.1',
        OMP_NUM_THREADS='1')
    outcomes = Counter()
    tic = time.perf_counter()
    for i in range(args.num_runs):
        work_dir = osp.join(args.out_dir, f'run_{i:03d}')
        env['PORT'] = str(free_port())
        cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'),
               osp.join(REPO, 'configs', 'refineloc',
                        'refineloc_i3d_4x10e_synthetic.py'),
               str(args.nproc), '--work-dir', work_dir, '--rounds',
               str(args.rounds), '--epochs-per-round',
               str(args.epochs_per_round), '--cfg-options',
               *cfg_options(data_root, args.num_workers)]
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, cwd=REPO, env=env, capture_output=True, text=True,
                timeout=args.timeout)
            returncode, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            returncode = 'timeout'
            stderr = e.stderr.decode() if isinstance(e.stderr, bytes) \
                else (e.stderr or '')
        outcome = 'timeout' if returncode == 'timeout' else classify(
            returncode, stderr)
        outcomes[outcome] += 1
        if outcome != 'ok':
            with open(osp.join(failures_dir, f'run_{i:03d}.log'), 'w') as f:
                f.write(f'exit: {returncode}\n{stderr[-20000:]}')
        elif not args.keep_work_dirs:
            shutil.rmtree(work_dir, ignore_errors=True)
        print(f'run {i + 1}/{args.num_runs}: {outcome} '
              f'({time.perf_counter() - start:.1f} s)', flush=True)
    failed = args.num_runs - outcomes['ok']
    print(f'{args.num_runs} two-process trainings ({args.nproc} processes, '
          f'{args.rounds} rounds x {args.epochs_per_round} epochs, '
          f'{args.num_workers} workers): {failed} non-zero exits '
          f'in {time.perf_counter() - tic:.0f} s')
    for outcome, count in sorted(outcomes.items()):
        print(f'  {outcome}: {count}')
    if failed:
        print(f'stderr of the failed runs: {failures_dir}')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
