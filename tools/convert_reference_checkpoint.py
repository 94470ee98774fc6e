# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Convert an authors' RefineLoc checkpoint into a checkpoint and a config
of this project.

The authors' checkpoints (e.g. ``thumos14_untrimmednet_reference_best_
refinement_state.ckpt``) are pickled dicts holding the run's settings
(``config``), the model weights (``model``, keys ``fc_cas.linear_{i}.*`` and
``fc_attention.linear_{i}.*``), the optimizer and scheduler states and
metrics. This tool

1. loads one with :func:`refineloc_mm.utils.compat.safe_torch_load` (never
   with plain pickle), checks its weights against the architecture its
   settings describe and maps them onto :class:`RefineLoc`
   (``cls_head.`` prefix);
2. writes ``OUT_DIR/NAME.pth``, an mmengine checkpoint
   (``dict(meta=..., state_dict=...)``) that holds only tensors and plain
   Python values, so it loads with ``weights_only=True``;
3. writes ``OUT_DIR/NAME.py``, the base config with every value the
   checkpoint's settings determine (architecture, loss weights, inference
   and refinement thresholds, snippet size, feature stream, learning rate,
   batch size, schedule, seed) set on top, written whole (no ``_base_``):
   it loads from any folder, after the checkout or the output folder
   moved, and for a ``pip install`` user (the default base config is
   found next to this tool, in the checkout or in the installed package's
   ``.mim/configs``);
4. builds the model from the written config, loads the written checkpoint
   strictly and checks the config's values against the settings.

Usage::

    python tools/convert_reference_checkpoint.py SRC OUT_DIR \\
        [--name NAME] \\
        [--base-config configs/refineloc/refineloc_i3d_50x100e_thumos14.py] \\
        [--classes-from GROUNDTRUTH_CSV]

The weights then evaluate with ``python tools/test.py OUT_DIR/NAME.py
OUT_DIR/NAME.pth``.

The logic lives in :mod:`refineloc_mm.utils.reference_checkpoint`
(``convert``); this file is its command line.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

from refineloc_mm.utils.reference_checkpoint import ConversionError, convert

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# next to this tool: in the checkout, or in the installed package's .mim
DEFAULT_BASE_CONFIG = osp.join(REPO_ROOT, 'configs', 'refineloc',
                               'refineloc_i3d_50x100e_thumos14.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an authors\' RefineLoc checkpoint into an '
        'MMAction2 checkpoint and config.')
    parser.add_argument('src', help='the authors\' checkpoint (.ckpt)')
    parser.add_argument('out_dir', help='folder for NAME.pth and NAME.py')
    parser.add_argument(
        '--name', help='output file stem (default: the stem of SRC)')
    parser.add_argument(
        '--base-config',
        default=DEFAULT_BASE_CONFIG,
        help='config the generated one inherits (default: '
        'configs/refineloc/refineloc_i3d_50x100e_thumos14.py)')
    parser.add_argument(
        '--classes-from',
        metavar='GROUNDTRUTH_CSV',
        help='ground-truth CSV (reference layout) whose labels name the '
        'classes, stored as meta.dataset_meta.classes')
    parser.add_argument(
        '--no-verify',
        action='store_true',
        help='skip reloading the written config and checkpoint')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, str]:
    args = parse_args(argv)
    try:
        paths = convert(
            args.src,
            args.out_dir,
            name=args.name,
            base_config=args.base_config,
            classes_from=args.classes_from,
            verify=not args.no_verify)
    except (ConversionError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    print(f'Wrote checkpoint {paths["checkpoint"]}')
    print(f'Wrote config     {paths["config"]}')
    if not args.no_verify:
        print('Checked: the config reproduces the checkpoint settings and '
              'the weights load strictly into its model.')
    return paths


if __name__ == '__main__':
    main()
