# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Precision / recall of the pseudo labels that checkpoints would give
under other label post-processings (BaS-Net's ``activation`` and
``act_thresh``), without training.

For every checkpoint, the config's training split is scored once by the
model (as :class:`PseudoLabelHook` does at a round's end), the config's
``PseudoGTGenerator`` turns the segments into labels with dropout 0 and
one of the variants below, and the labels are compared with the true
foreground (``label_statistics``: precision and recall of the labelled
foreground snippets). One tab-separated line per checkpoint and variant.

    python tools/pseudo_label_quality.py CONFIG CKPT [CKPT ...] \
        --variant foreground:0.5 --variant cas_x_foreground:0.3

A variant ``ACTIVATION:THRESHOLD`` replaces the generator's
``post_processor.activation`` and ``act_thresh`` (a BaS-Net
post-processor); without ``--variant`` the config's generator is used.
"""
import argparse
import copy
from typing import List

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import refineloc_mm  # noqa: F401 (registers the components)
from mmaction.registry import DATASETS, MODELS, TASK_UTILS
from refineloc_mm.datasets.collate import packed_snippet_collate
from refineloc_mm.models.scoring import score_split
from refineloc_mm.models.task_modules.pseudo_gt_generator import \
    label_statistics
from refineloc_mm.utils.compat import checkpoint_safe_globals


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='refinement config')
    parser.add_argument('checkpoints', nargs='+', help='round checkpoints')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        help='ACTIVATION:THRESHOLD of the label post-processor')
    return parser.parse_args()


def build_generators(cfg: Config, variants: List[str]) -> dict:
    base = cfg.default_hooks.pseudo_labels.generator.to_dict()
    base.setdefault('type', 'PseudoGTGenerator')
    base['dropout'] = 0.0
    generators = {}
    for variant in variants or ['config']:
        gen = copy.deepcopy(base)
        if variant != 'config':
            activation, thresh = variant.split(':')
            if not gen.get('post_processor'):
                raise ValueError(f'--variant {variant} needs a generator '
                                 'post_processor in the config')
            gen['post_processor'].update(
                activation=activation, act_thresh=[float(thresh)])
        generators[variant] = TASK_UTILS.build(gen)
    return generators


def main() -> None:
    args = parse_args()
    init_default_scope('mmaction')
    cfg = Config.fromfile(args.config)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model)
    generators = build_generators(cfg, args.variant)
    loader = DataLoader(
        dataset.dataset,
        batch_size=16,
        shuffle=False,
        collate_fn=packed_snippet_collate)
    print('checkpoint\tvariant\tprecision %\trecall %\tforeground %')
    for path in args.checkpoints:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            ckpt = torch.load(path, map_location='cpu', weights_only=True)
        model.load_state_dict(ckpt['state_dict'])
        segments = {k: [] for k in generators}
        for scores, samples in score_split(model, loader):
            for k, gen in generators.items():
                segments[k].extend(gen.segments(model, scores, samples))
        for k, gen in generators.items():
            gen.history = []
            labels = gen.update(
                dataset.num_snippets,
                dataset.fps,
                dataset.snippet_size,
                0,
                segments=segments[k],
                fg_mask=dataset.fg_masks)
            s = label_statistics(labels, dataset.fg_masks)
            print(f'{path}\t{k}\t{100 * s["fg_precision"]:.1f}\t'
                  f'{100 * s["fg_recall"]:.1f}\t{100 * s["fg_ratio"]:.1f}',
                  flush=True)


if __name__ == '__main__':
    main()
