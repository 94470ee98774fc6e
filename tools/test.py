# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Test (evaluate) a RefineLoc checkpoint (MMAction2's tools/test.py; its
``--dump`` writes an ActivityNet-style results JSON)."""
import argparse
import os
import os.path as osp

import refineloc_mm  # noqa: F401  (patches mmaction/mmengine, registers)
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from mmaction.registry import RUNNERS
from refineloc_mm.datasets import apply_checkpoint_classes
from refineloc_mm.utils.launcher import close_process_group, set_launcher
from refineloc_mm.utils.precision import enable_amp


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a RefineLoc model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump',
        type=str,
        help='write the predictions to this ActivityNet-style results JSON')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='test under autocast (float16 on CUDA, bfloat16 on CPU)')
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
    set_launcher(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.dump is not None:
        if not args.dump.endswith('.json'):
            raise ValueError(f'--dump must name a .json file, got {args.dump}')
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, (dict, ConfigDict)):
            evaluators = [evaluators]
        for evaluator in evaluators:
            if evaluator.get('type') == 'TemporalmAP':
                evaluator['results_file'] = args.dump
        cfg.test_evaluator = evaluators
    cfg.load_from = args.checkpoint
    if args.amp:
        enable_amp(cfg, train=False)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
        if 'custom_imports' in cfg:  # imports added on the command line
            import_modules_from_strings(**cfg.custom_imports)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    # score with the class mapping the checkpoint was trained with
    apply_checkpoint_classes(cfg, args.checkpoint)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    completed = False
    try:
        runner.test()
        completed = True
    finally:
        # the model's DDP wrapper holds the process group: release it first
        del runner
        close_process_group(completed)


if __name__ == '__main__':
    main()
