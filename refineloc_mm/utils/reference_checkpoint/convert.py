# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The whole conversion of an authors' RefineLoc checkpoint into
``OUT_DIR/NAME.pth`` (an mmengine checkpoint that loads with
``weights_only=True``) and ``OUT_DIR/NAME.py`` (its config, written whole)."""
import datetime
import hashlib
import os
import os.path as osp
import re
import warnings
from typing import Dict, Optional

import torch

from .config_writer import build_overrides, render_config
from .loading import (DROPPED_ENTRIES, ConversionError, classes_from_csv,
                      load_reference, non_neutral_settings,
                      reference_settings, to_plain)
from .verify import verify_outputs
from .weights import convert_state_dict

# the package folder (refineloc_mm/)
_PACKAGE = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the default base config, under configs/
THUMOS14_CONFIG = ('refineloc', 'refineloc_i3d_50x100e_thumos14.py')


def default_base_config() -> str:
    """``configs/refineloc/refineloc_i3d_50x100e_thumos14.py`` (RefineLoc,
    THUMOS14, I3D) of the checkout this package lies in, or of the
    installed package's ``.mim/configs``."""
    candidates = (osp.join(osp.dirname(_PACKAGE), 'configs'),
                  osp.join(_PACKAGE, '.mim', 'configs'))
    for root in candidates:
        path = osp.join(root, *THUMOS14_CONFIG)
        if osp.isfile(path):
            return path
    return osp.join(candidates[0], *THUMOS14_CONFIG)


DEFAULT_BASE_CONFIG = default_base_config()


def sha256sum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def default_name(src: str) -> str:
    """``NAME`` from the source file name (extension removed)."""
    name = osp.splitext(osp.basename(src))[0]
    return re.sub(r'[^A-Za-z0-9_.-]', '_', name)


def convert(src: str,
            out_dir: str,
            name: Optional[str] = None,
            base_config: Optional[str] = None,
            classes_from: Optional[str] = None,
            verify: bool = True) -> Dict[str, str]:
    """Convert ``src`` into ``out_dir/name.pth`` and ``out_dir/name.py``.

    Args:
        src (str): The authors' checkpoint.
        out_dir (str): Output folder, created if needed.
        name (str, optional): Output stem. Defaults to the stem of ``src``.
        base_config (str, optional): Config whose values, with the
            checkpoint's settings on top, are written. Defaults to
            :data:`DEFAULT_BASE_CONFIG`.
        classes_from (str, optional): Ground-truth CSV whose labels give
            ``dataset_meta['classes']`` (in the dataset's order).
        verify (bool): Reload both files and check them. Defaults to True.

    Returns:
        dict: ``checkpoint`` and ``config`` paths.

    Raises:
        ConversionError: On any inconsistency (the message names the file
            and key).
    """
    import refineloc_mm  # noqa: F401  (patches mmengine, registers)
    from mmengine.config import Config

    if base_config is None:
        base_config = DEFAULT_BASE_CONFIG
    src = osp.abspath(src)
    name = name or default_name(src)
    if not re.fullmatch(r'[A-Za-z0-9_.-]+', name) or name.startswith('.'):
        raise ConversionError(f'--name {name!r}: use letters, digits, '
                              '"_", "-" and "." only.')
    if not osp.isfile(base_config):
        raise FileNotFoundError(f'Base config {base_config} does not exist.')

    ckpt = load_reference(src)
    settings = reference_settings(ckpt, src)
    state_dict = convert_state_dict(ckpt['model'], settings, src)
    ignored = non_neutral_settings(settings)
    for key, value in ignored.items():
        warnings.warn(
            f'{src}: config["{key}"] = {value!r} has no equivalent in '
            'refineloc_mm (converted anyway; it does not change the '
            'architecture, but training with this config differs).',
            stacklevel=2)
    classes = classes_from_csv(
        classes_from, int(settings['num_classes'])) if classes_from else None

    optimizer_group = None
    optim = ckpt.get('optimizer')
    if isinstance(optim, dict) and optim.get('param_groups'):
        optimizer_group = to_plain(
            {k: v
             for k, v in optim['param_groups'][0].items() if k != 'params'},
            f'{src}: optimizer')

    base_cfg = Config.fromfile(base_config)
    overrides = build_overrides(settings, base_cfg, base_config,
                                optimizer_group)

    os.makedirs(out_dir, exist_ok=True)
    ckpt_path = osp.join(out_dir, f'{name}.pth')
    cfg_path = osp.join(out_dir, f'{name}.py')
    sha256 = sha256sum(src)

    stats = to_plain(ckpt.get('refinement_stats') or {},
                     f'{src}: refinement_stats')
    rounds = stats.get('avg_mAP_over_iterations') or []
    round_idx = len(rounds) - 1 if rounds else None
    round_epoch = ckpt.get('convergence_epoch')
    round_epoch = int(round_epoch) if round_epoch is not None else None
    epoch = None
    if round_epoch is not None:
        # completed epochs in this project's numbering (round r covers
        # epochs [r * epochs_per_round, (r + 1) * epochs_per_round))
        epoch = (round_idx or 0) * int(settings['max_epoch']) + round_epoch
    metrics = {
        k: to_plain(ckpt[k], f'{src}: {k}')
        for k in ('train_metrics', 'valid_metrics', 'convergence_epoch',
                  'num_epochs_since_best_valid_loss') if k in ckpt
    }
    meta = dict(
        converted_by='tools/convert_reference_checkpoint.py',
        converted_at=datetime.datetime.now().isoformat(timespec='seconds'),
        source=dict(
            file=src,
            sha256=sha256,
            format='authors\' RefineLoc checkpoint (pickled dict)',
            key_map={k[len('cls_head.'):]: k
                     for k in state_dict},
            dropped=[k for k in DROPPED_ENTRIES if k in ckpt]),
        config=osp.abspath(cfg_path),
        reference_config=settings,
        reference_metrics=metrics,
        refinement_stats=stats,
        refinement_round=round_idx,
        round_epoch=round_epoch,
        epoch=epoch,
        ignored_settings=ignored,
        torch_version=str(torch.__version__))
    if classes is not None:
        meta['dataset_meta'] = dict(classes=classes)
    torch.save(dict(meta=meta, state_dict=state_dict), ckpt_path)

    text = render_config(overrides, base_config, settings, src, sha256,
                         f'{name}.pth', base_cfg, ignored)
    with open(cfg_path, 'w') as f:
        f.write(text)

    if verify:
        verify_outputs(cfg_path, ckpt_path, overrides)
    return dict(checkpoint=ckpt_path, config=cfg_path)
