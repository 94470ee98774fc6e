# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Precision / recall of the pseudo labels that checkpoints would give
under other label post-processings, without training.

For every checkpoint, the config's training split is scored once by the
model (as :class:`PseudoLabelHook` does at a round's end), the config's
``PseudoGTGenerator`` turns the segments into labels with dropout 0 and
one of the variants below, and the labels are compared with the true
foreground (``label_statistics``: precision and recall of the labelled
foreground snippets). One tab-separated line per checkpoint and variant.

    python tools/pseudo_label_quality.py CONFIG CKPT [CKPT ...] \\
        --variant foreground:0.5 --variant cas_x_foreground:0.3
    python tools/pseudo_label_quality.py \\
        configs/refineloc/refineloc_i3d_4x10e_synthetic.py CKPT \\
        --variant config --variant min_attention_score=0.8

A variant overrides keys of the generator's ``post_processor`` (or, if it
has none, of the model's own, ``model.cls_head.post_processor``):
``KEY=VALUE[,KEY=VALUE...]`` (Python literals), or ``ACTIVATION:THRESHOLD``
for a BaS-Net post-processor's ``activation`` and ``act_thresh``;
``config`` (the default without ``--variant``) is the config's generator.

The logic lives in :mod:`refineloc_mm.models.pseudo_label_quality`.
"""
import argparse

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401 (registers the components)
from refineloc_mm.models.pseudo_label_quality import (QUALITY_HEADER,
                                                      checkpoints_quality,
                                                      quality_line)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Precision / recall of the pseudo labels that '
        'checkpoints would give under other label post-processings.')
    parser.add_argument('config', help='refinement config')
    parser.add_argument('checkpoints', nargs='+', help='round checkpoints')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        help='post-processor keys to override: KEY=VALUE[,KEY=VALUE...], '
        "ACTIVATION:THRESHOLD (BaS-Net), or 'config' (repeatable)")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='key=value overrides of the config (e.g. the data root)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    init_default_scope('mmaction')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(QUALITY_HEADER)
    for path, variant, stats in checkpoints_quality(cfg, args.checkpoints,
                                                    args.variant):
        print(quality_line(path, variant, stats), flush=True)


if __name__ == '__main__':
    main()
