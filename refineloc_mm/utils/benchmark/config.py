# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The benchmark's data and configs: the synthetic set, the config with
its overrides, and the config of the timed Runner."""
import argparse
import copy
import os.path as osp
from typing import Any, Dict, List, Sequence

# a round that never ends and checkpoints that never come inside the run
NEVER = 10**9


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
