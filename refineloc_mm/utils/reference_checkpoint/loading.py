# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Loading an authors' RefineLoc checkpoint safely, its settings as plain
validated values, and the class names of a ground-truth CSV."""
from typing import Any, Dict, Tuple

import numpy as np
import torch

# Settings the conversion needs, with what they become.
REQUIRED_SETTINGS = (
    'input_size', 'num_classes', 'num_layers', 'pseudo_gt_loss_dim',
    'snippet_size', 'stream', 'alpha_pseudo_gt_loss', 'weighted_psgt_loss',
    'alpha_l1_loss', 'alpha_group_sparsity_loss', 'top_k_labels',
    'min_cas_score', 'min_attention_score', 'padding',
    'refinement_top_k_labels', 'refinement_min_cas_score',
    'refinement_min_attention_score', 'refinement_padding',
    'refinement_from_m_iterations', 'pseudo_gt_dropout', 'initial_lr',
    'batch_size', 'max_epoch')

# Reference options this project does not implement, with the value at
# which they do nothing. A checkpoint trained with another value is still
# converted, with a warning, since they do not change the architecture.
NEUTRAL_SETTINGS = dict(
    alpha_bg_loss=0,
    alpha_fg_loss=0,
    refinement_min_attention_change=0,
    refinement_gap=0)

# Top-level entries of the reference checkpoint that are not carried over
# (recorded in the meta as dropped).
DROPPED_ENTRIES = ('optimizer', 'scheduler')


class ConversionError(ValueError):
    """The source checkpoint cannot be converted; the message names the
    file and the offending key(s)."""


# ---------------------------------------------------------------- loading
def load_reference(src: str) -> Dict[str, Any]:
    """Load an authors' checkpoint safely (``weights_only`` + allowlist).

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        refineloc_mm.utils.compat.UnsafeCheckpointError: If the pickle needs
            globals outside the allowlist.
        ConversionError: If it is not a dict with ``config`` and ``model``.
    """
    from refineloc_mm.utils.compat import safe_torch_load

    ckpt = safe_torch_load(src, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise ConversionError(
            f'{src}: expected a dict checkpoint, got {type(ckpt).__name__}.')
    missing = [k for k in ('config', 'model') if k not in ckpt]
    if missing:
        raise ConversionError(
            f'{src}: not an authors\' RefineLoc checkpoint, missing '
            f'top-level key(s) {missing} (found {sorted(map(str, ckpt))}).')
    for key in ('config', 'model'):
        if not isinstance(ckpt[key], dict):
            raise ConversionError(
                f'{src}: "{key}" must be a dict, got '
                f'{type(ckpt[key]).__name__}.')
    return ckpt


def to_plain(obj: Any, where: str = 'checkpoint') -> Any:
    """Recursively turn numpy scalars/arrays into Python numbers/lists so
    that the result unpickles with ``weights_only=True`` and no allowlist.

    Raises:
        ConversionError: On a value of any other type (named by ``where``).
    """
    # before the built-in types: np.float64 subclasses float
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {
            str(k): to_plain(v, f'{where}[{k!r}]')
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        out = [to_plain(v, f'{where}[{i}]') for i, v in enumerate(obj)]
        return tuple(out) if isinstance(obj, tuple) else out
    raise ConversionError(
        f'{where}: cannot convert a {type(obj).__name__} to a plain value.')


def reference_settings(ckpt: Dict[str, Any], src: str) -> Dict[str, Any]:
    """The checkpoint's ``config`` as plain values, validated.

    Raises:
        ConversionError: On missing or invalid settings.
    """
    settings = to_plain(ckpt['config'], f'{src}: config')
    missing = [k for k in REQUIRED_SETTINGS if k not in settings]
    if missing:
        raise ConversionError(
            f'{src}: config lacks the setting(s) {missing} needed to '
            'rebuild the model and its config.')
    checks = [
        ('num_layers', settings['num_layers'] >= 1, '>= 1'),
        ('pseudo_gt_loss_dim', settings['pseudo_gt_loss_dim'] in (1, 2),
         '1 or 2'),
        ('stream', settings['stream'] in (0, 1, 2), '0, 1 or 2'),
        ('input_size', settings['input_size'] >= 1, '>= 1'),
        ('num_classes', settings['num_classes'] >= 1, '>= 1'),
        ('snippet_size', settings['snippet_size'] >= 1, '>= 1'),
    ]
    for key, ok, want in checks:
        if not ok:
            raise ConversionError(
                f'{src}: config["{key}"] = {settings[key]!r}, expected '
                f'{want}.')
    for key in ('input_size', 'num_classes', 'num_layers',
                'pseudo_gt_loss_dim', 'snippet_size', 'stream'):
        if int(settings[key]) != settings[key]:
            raise ConversionError(
                f'{src}: config["{key}"] = {settings[key]!r} is not an '
                'integer.')
    return settings


def non_neutral_settings(settings: Dict[str, Any]) -> Dict[str, Any]:
    """Reference options set to a value this project cannot reproduce."""
    return {
        k: settings[k]
        for k, neutral in NEUTRAL_SETTINGS.items()
        if k in settings and settings[k] != neutral
    }


def classes_from_csv(path: str, num_classes: int) -> Tuple[str, ...]:
    """Class names in index order, as :class:`SnippetFeatureDataset` derives
    them from a ground-truth CSV of the reference layout.

    Raises:
        ConversionError: If the CSV does not name ``num_classes`` classes.
    """
    from refineloc_mm.datasets.snippet_feature_dataset import (
        natural_class_order, read_groundtruth_csv)

    videos = read_groundtruth_csv(path)
    classes = tuple(
        natural_class_order(
            [s[2] for v in videos.values() for s in v['segments']]))
    if len(classes) != num_classes:
        raise ConversionError(
            f'{path}: names {len(classes)} classes, but the checkpoint has '
            f'num_classes={num_classes}.')
    return classes
