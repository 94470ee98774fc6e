# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Train a RefineLoc localizer (MMAction2's tools/train.py, plus the
refinement schedule options)."""
import argparse
import os
import os.path as osp


import refineloc_mm  # noqa: F401  (patches mmaction/mmengine, registers)
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from mmaction.registry import RUNNERS
from refineloc_mm.utils.launcher import close_process_group, set_launcher
from refineloc_mm.utils.precision import enable_amp


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a RefineLoc model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work directory when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training, validation and '
        'pseudo-label scoring (float16 with loss scaling on CUDA, bfloat16 '
        'autocast on CPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate after each round')
    parser.add_argument(
        '--rounds',
        type=int,
        help='number of refinement rounds (= --cfg-options '
        'train_cfg.num_rounds=N)')
    parser.add_argument(
        '--epochs-per-round',
        type=int,
        help='epochs of each round (= --cfg-options '
        'train_cfg.epochs_per_round=N)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='whether to set deterministic options for CUDNN backend.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge CLI arguments to config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    set_launcher(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.seed is not None:
        cfg.randomness = dict(
            cfg.get('randomness') or {},
            seed=args.seed,
            deterministic=args.deterministic)
    schedule = dict(
        num_rounds=args.rounds, epochs_per_round=args.epochs_per_round)
    schedule = {k: v for k, v in schedule.items() if v is not None}
    if schedule:
        if cfg.train_cfg.get('type') not in ('RefinementLoop',
                                             'refineloc_mm.RefinementLoop'):
            raise ValueError(
                '--rounds/--epochs-per-round need a config whose train_cfg '
                f"is a RefinementLoop; {args.config} has "
                f"{cfg.train_cfg.get('type')}")
        cfg.train_cfg.update(schedule)
    # --cfg-options come last: an explicit key overrides the options above
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
        if 'custom_imports' in cfg:  # imports added on the command line
            import_modules_from_strings(**cfg.custom_imports)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    completed = False
    try:
        runner.train()
        completed = True
    finally:
        # the model's DDP wrapper holds the process group: release it first
        del runner
        close_process_group(completed)


if __name__ == '__main__':
    main()
