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
        [--name NAME] [--base-config configs/refineloc_thumos.py] \\
        [--classes-from GROUNDTRUTH_CSV]

The weights then evaluate with ``python tools/test.py OUT_DIR/NAME.py
OUT_DIR/NAME.pth``.
"""
import argparse
import copy
import datetime
import hashlib
import os
import os.path as osp
import re
import sys
import warnings
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_BASE_CONFIG = osp.join(REPO_ROOT, 'configs', 'refineloc_thumos.py')

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


# ------------------------------------------------------------- weights
def mlp_shapes(prefix: str, in_channels: int, out_channels: int,
               num_layers: int) -> 'OrderedDict[str, Tuple[int, ...]]':
    """Parameter shapes of a ``SnippetMLP`` (widths halve, floored at the
    output width), keyed as in the authors' implementation."""
    shapes: 'OrderedDict[str, Tuple[int, ...]]' = OrderedDict()
    width = in_channels
    for i in range(num_layers):
        out = out_channels if i == num_layers - 1 else max(
            width // 2, out_channels)
        shapes[f'{prefix}.linear_{i}.weight'] = (out, width)
        shapes[f'{prefix}.linear_{i}.bias'] = (out, )
        width = out
    return shapes


def expected_shapes(
        settings: Dict[str, Any]) -> 'OrderedDict[str, Tuple[int, ...]]':
    """All reference parameter shapes the settings imply."""
    d, n = int(settings['input_size']), int(settings['num_classes'])
    k, num_layers = int(settings['pseudo_gt_loss_dim']), int(
        settings['num_layers'])
    shapes = mlp_shapes('fc_cas', d, n, num_layers)
    shapes.update(mlp_shapes('fc_attention', d, k, num_layers))
    return shapes


def convert_state_dict(model: Dict[str, Any], settings: Dict[str, Any],
                       src: str,
                       prefix: str = 'cls_head.') -> 'OrderedDict':
    """Check the reference weights and map them to this project's keys.

    A ``module.`` prefix (``DataParallel``) on every key is removed first.

    Raises:
        ConversionError: On unexpected or missing keys, non-tensor values,
            non-floating tensors or shape mismatches; the message names the
            file and the keys.
    """
    keys = list(model)
    if keys and all(str(k).startswith('module.') for k in keys):
        model = {str(k)[len('module.'):]: v for k, v in model.items()}
    shapes = expected_shapes(settings)
    unexpected = [k for k in model if k not in shapes]
    missing = [k for k in shapes if k not in model]
    arch = (f'input_size={settings["input_size"]}, '
            f'num_classes={settings["num_classes"]}, '
            f'num_layers={settings["num_layers"]}, '
            f'pseudo_gt_loss_dim={settings["pseudo_gt_loss_dim"]}')
    if unexpected or missing:
        msg = [f'{src}: the "model" state dict does not match the '
               f'architecture of its config ({arch}).']
        if unexpected:
            msg.append(f'Unexpected key(s): {unexpected}.')
        if missing:
            msg.append(f'Missing key(s): {missing}.')
        raise ConversionError(' '.join(msg))
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, shape in shapes.items():
        value = model[key]
        if not isinstance(value, torch.Tensor):
            raise ConversionError(
                f'{src}: model["{key}"] is a {type(value).__name__}, '
                'expected a tensor.')
        if not value.is_floating_point():
            raise ConversionError(
                f'{src}: model["{key}"] has dtype {value.dtype}, expected '
                'a floating point tensor.')
        if tuple(value.shape) != shape:
            raise ConversionError(
                f'{src}: model["{key}"] has shape {tuple(value.shape)}, '
                f'expected {shape} ({arch}).')
        if not torch.isfinite(value).all():
            raise ConversionError(
                f'{src}: model["{key}"] holds non-finite values.')
        out[prefix + key] = value.detach().to(torch.float32).contiguous(
        ).clone()
    return out


# -------------------------------------------------------------- classes
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


# --------------------------------------------------------------- config
def _find_dataset(node: Dict, path: List[str],
                  where: str) -> Tuple[Dict, List[str]]:
    """Descend through dataset wrappers (``dataset=``) to the
    :class:`SnippetFeatureDataset` config."""
    while True:
        if not isinstance(node, dict):
            raise ConversionError(
                f'{where}: expected a dataset dict at '
                f'{".".join(path)}, got {type(node).__name__}.')
        kind = str(node.get('type', ''))
        if kind.endswith('SnippetFeatureDataset') or 'snippet_size' in node:
            return node, path
        if 'dataset' not in node:
            raise ConversionError(
                f'{where}: no SnippetFeatureDataset found under '
                f'{".".join(path)} (type {kind!r}); cannot set the '
                'snippet size and stream.')
        node, path = node['dataset'], path + ['dataset']


def _nested(path: Sequence[str], leaf: Dict) -> Dict:
    out = leaf
    for key in reversed(path):
        out = {key: out}
    return out


def build_overrides(settings: Dict[str, Any], base_cfg: Any,
                    base_config: str,
                    optimizer_group: Optional[Dict[str, Any]] = None
                    ) -> 'OrderedDict[str, Any]':
    """Top-level config entries that put the checkpoint's settings on top
    of ``base_cfg`` (an :class:`mmengine.Config`)."""
    s = settings
    in_channels = int(s['input_size'])
    epochs_per_round = int(s['max_epoch'])
    num_rounds = int(s.get('refinement_iterations', 0)) or int(
        base_cfg.train_cfg.get('num_rounds', 1))
    split = dict(
        snippet_size=int(s['snippet_size']),
        stream=int(s['stream']),
        in_channels=in_channels)

    ov: 'OrderedDict[str, Any]' = OrderedDict()
    ov['snippet_size'] = split['snippet_size']
    ov['stream'] = split['stream']
    ov['in_channels'] = in_channels
    # Exactly the reference architecture: features in, no backbone/neck.
    ov['model'] = dict(
        type='RefineLoc',
        backbone=None,
        neck=None,
        cls_head=dict(
            type='RefineLocHead',
            num_classes=int(s['num_classes']),
            in_channels=in_channels,
            num_layers=int(s['num_layers']),
            attention_dim=int(s['pseudo_gt_loss_dim']),
            loss=dict(
                type='RefineLocLoss',
                alpha_l1=float(s['alpha_l1_loss']),
                alpha_gs=float(s['alpha_group_sparsity_loss']),
                alpha_pgt=float(s['alpha_pseudo_gt_loss']),
                weighted=bool(s['weighted_psgt_loss'])),
            post_processor=dict(
                type='ActionSegmentPredictor',
                top_k=int(s['top_k_labels']),
                min_cas_score=float(s['min_cas_score']),
                min_attention_score=float(s['min_attention_score']),
                padding=int(s['padding']))))

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if loader not in base_cfg:
            continue
        node = base_cfg[loader].to_dict() if hasattr(
            base_cfg[loader], 'to_dict') else dict(base_cfg[loader])
        _, path = _find_dataset(node.get('dataset'), ['dataset'],
                                f'{base_config}: {loader}')
        entry = _nested(path, dict(split))
        if loader == 'train_dataloader':
            entry = dict(batch_size=int(s['batch_size']), **entry)
        ov[loader] = entry

    # the reference trains with Adam (its optimizer state has exp_avg(_sq))
    optimizer = dict(type='Adam', lr=float(s['initial_lr']))
    for key in ('betas', 'eps', 'weight_decay'):
        if optimizer_group and key in optimizer_group:
            value = optimizer_group[key]
            optimizer[key] = tuple(float(v) for v in value) if isinstance(
                value, (list, tuple)) else float(value)
    ov['optim_wrapper'] = dict(optimizer=optimizer)

    if base_cfg.train_cfg.get('type') != 'RefinementLoop' or \
            'pseudo_labels' not in base_cfg.get('default_hooks', {}):
        raise ConversionError(
            f'{base_config}: expected a RefinementLoop train_cfg and '
            'default_hooks.pseudo_labels (the refinement).')
    # merged into the base's RefinementLoop and PseudoLabelHook
    train_cfg = dict(
        num_rounds=num_rounds, epochs_per_round=epochs_per_round)
    if 'reset' in s:
        train_cfg['reset'] = bool(s['reset'])
    if 'refinement_early_stopping' in s:
        train_cfg['early_stop_rounds'] = int(s['refinement_early_stopping'])
    ov['train_cfg'] = train_cfg
    ov['default_hooks'] = dict(
        pseudo_labels=dict(
            generator=dict(
                top_k=int(s['refinement_top_k_labels']),
                min_cas_score=float(s['refinement_min_cas_score']),
                min_attention_score=float(
                    s['refinement_min_attention_score']),
                padding=int(s['refinement_padding']),
                from_m_iterations=int(s['refinement_from_m_iterations']),
                dropout=float(s['pseudo_gt_dropout']))))

    if 'seed' in s:
        ov['randomness'] = dict(seed=int(s['seed']))
    return ov


# Reference setting -> where it goes (for the header of the config).
SETTING_TO_CONFIG = (
    ('input_size', 'model.cls_head.in_channels, datasets in_channels'),
    ('num_classes', 'model.cls_head.num_classes'),
    ('num_layers', 'model.cls_head.num_layers'),
    ('pseudo_gt_loss_dim', 'model.cls_head.attention_dim (k)'),
    ('alpha_l1_loss', 'model.cls_head.loss.alpha_l1'),
    ('alpha_group_sparsity_loss', 'model.cls_head.loss.alpha_gs'),
    ('alpha_pseudo_gt_loss', 'model.cls_head.loss.alpha_pgt'),
    ('weighted_psgt_loss', 'model.cls_head.loss.weighted'),
    ('top_k_labels', 'model.cls_head.post_processor.top_k'),
    ('min_cas_score', 'model.cls_head.post_processor.min_cas_score'),
    ('min_attention_score',
     'model.cls_head.post_processor.min_attention_score'),
    ('padding', 'model.cls_head.post_processor.padding'),
    ('snippet_size', '{train,val,test}_dataloader dataset snippet_size'),
    ('stream', '{train,val,test}_dataloader dataset stream'),
    ('batch_size', 'train_dataloader.batch_size'),
    ('initial_lr', 'optim_wrapper.optimizer.lr'),
    ('max_epoch', 'train_cfg.epochs_per_round'),
    ('refinement_iterations', 'train_cfg.num_rounds'),
    ('refinement_early_stopping', 'train_cfg.early_stop_rounds'),
    ('reset', 'train_cfg.reset'),
    ('refinement_top_k_labels',
     'default_hooks.pseudo_labels.generator.top_k'),
    ('refinement_min_cas_score',
     'default_hooks.pseudo_labels.generator.min_cas_score'),
    ('refinement_min_attention_score',
     'default_hooks.pseudo_labels.generator.min_attention_score'),
    ('refinement_padding', 'default_hooks.pseudo_labels.generator.padding'),
    ('refinement_from_m_iterations',
     'default_hooks.pseudo_labels.generator.from_m_iterations'),
    ('pseudo_gt_dropout', 'default_hooks.pseudo_labels.generator.dropout'),
    ('seed', 'randomness.seed'),
)


def _format_flat(value: Any) -> str:
    """One-line Python source of ``value``."""
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            return 'dict(' + ', '.join(
                f'{k}={_format_flat(v)}' for k, v in value.items()) + ')'
        return '{' + ', '.join(f'{k!r}: {_format_flat(v)}'
                               for k, v in value.items()) + '}'
    if isinstance(value, (list, tuple)):
        body = ', '.join(_format_flat(v) for v in value)
        if isinstance(value, tuple):
            return f'({body},)' if len(value) == 1 else f'({body})'
        return f'[{body}]'
    return repr(value)


def format_value(value: Any, indent: int = 0) -> str:
    """Python source of ``value`` in OpenMMLab config style
    (``dict(key=...)``)."""
    flat = _format_flat(value)
    if len(flat) + indent <= 60:
        return flat
    pad, inner = ' ' * indent, ' ' * (indent + 4)
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isidentifier() for k in value):
            items = [
                f'{inner}{k}={format_value(v, indent + 4)}'
                for k, v in value.items()
            ]
        else:
            items = [
                f'{inner}{k!r}: {format_value(v, indent + 4)}'
                for k, v in value.items()
            ]
            return '{\n' + ',\n'.join(items) + f'\n{pad}}}'
        return 'dict(\n' + ',\n'.join(items) + ')'
    if isinstance(value, (list, tuple)):
        items = [f'{inner}{format_value(v, indent + 4)}' for v in value]
        open_, close = ('[', ']') if isinstance(value, list) else ('(', ')')
        return open_ + '\n' + ',\n'.join(items) + f'\n{pad}{close}'
    return repr(value)


def render_config(overrides: Dict[str, Any], base_config: str,
                  settings: Dict[str, Any], src: str, sha256: str,
                  weights: str, base_cfg: Any,
                  ignored: Dict[str, Any]) -> str:
    """Source of the generated config file: provenance comments, then
    ``base_cfg`` with ``overrides`` merged in (as ``_base_`` inheritance
    would), written whole."""
    lines = [
        '# Generated by tools/convert_reference_checkpoint.py from the '
        'authors\' RefineLoc',
        '# checkpoint',
        f'#   {src}',
        f'#   (sha256 {sha256}).',
        f'# Weights: {weights}.',
        '# Every value set here comes from the checkpoint\'s own settings',
        '# (reference setting -> this config):',
    ]
    for key, target in SETTING_TO_CONFIG:
        if key in settings:
            lines.append(f'#   {key} = {settings[key]!r} -> {target}')
    ref_tiou = settings.get('tiou_thresholds')
    base_tiou = None
    if 'val_evaluator' in base_cfg and isinstance(base_cfg.val_evaluator,
                                                  dict):
        base_tiou = base_cfg.val_evaluator.get('tiou_thresholds')
    lines += [
        '# Kept from the base config: the evaluators (tIoU thresholds '
        f'{tuple(base_tiou) if base_tiou is not None else "of the base"};',
        f'# the reference run evaluated at {ref_tiou!r}), data paths, '
        'workers,',
        '# learning-rate schedule (the reference used ReduceLROnPlateau('
        f'factor={settings.get("lr_decay")!r},',
        f'# patience={settings.get("lr_patience")!r}) on the validation '
        'loss; the base has no scheduler) and',
        '# the per-round model selection of the RefinementLoop.',
    ]
    if 'pseudo_gt_generator_type' in settings:
        lines.append(
            '# Reference pseudo_gt_generator_type = '
            f'{settings["pseudo_gt_generator_type"]!r}: kept the base '
            'generator source.')
    if ignored:
        lines.append('# Reference options without an equivalent here, set '
                     f'to non-neutral values: {ignored!r}.')
    lines.append(f'# Written whole: {osp.basename(base_config)} with the '
                 'values above merged in')
    lines.append('# (no _base_, so the file loads from any folder).')
    merged = copy.deepcopy(base_cfg)
    merged.merge_from_dict(dict(overrides))
    return '\n'.join(lines) + '\n' + merged.pretty_text + '\n'


# ------------------------------------------------------------- checking
def _get(cfg: Any, dotted: str) -> Any:
    node = cfg
    for part in dotted.split('.'):
        node = node[int(part)] if isinstance(node,
                                             (list, tuple)) else node[part]
    return node


def verify_outputs(config_path: str, checkpoint_path: str,
                   overrides: Dict[str, Any]) -> None:
    """Load the written config, check that every override took effect,
    build the model and load the checkpoint strictly.

    Raises:
        ConversionError: If a value differs or the weights do not load.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmaction.registry import MODELS

    cfg = Config.fromfile(config_path)

    def compare(expected: Any, path: str) -> None:
        if isinstance(expected, dict):
            for key, value in expected.items():
                compare(value, f'{path}.{key}' if path else key)
            return
        if isinstance(expected, (list, tuple)) and any(
                isinstance(v, dict) for v in expected):
            for i, value in enumerate(expected):
                compare(value, f'{path}.{i}')
            return
        got = _get(cfg, path)
        if isinstance(got, (list, tuple)):
            got = type(expected)(got) if isinstance(
                expected, (list, tuple)) else got
        if got != expected:
            raise ConversionError(
                f'{config_path}: {path} = {got!r} after loading, expected '
                f'{expected!r} (check the base config).')

    compare(dict(overrides), '')
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    try:
        load_checkpoint(model, checkpoint_path, map_location='cpu',
                        strict=True)
    except RuntimeError as e:
        raise ConversionError(
            f'{checkpoint_path} does not load strictly into the model of '
            f'{config_path}: {e}') from None


# ----------------------------------------------------------------- main
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
            base_config: str = DEFAULT_BASE_CONFIG,
            classes_from: Optional[str] = None,
            verify: bool = True) -> Dict[str, str]:
    """Convert ``src`` into ``out_dir/name.pth`` and ``out_dir/name.py``.

    Args:
        src (str): The authors' checkpoint.
        out_dir (str): Output folder, created if needed.
        name (str, optional): Output stem. Defaults to the stem of ``src``.
        base_config (str): Config the written one ``_base_``-s on.
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
        'configs/refineloc_thumos.py)')
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
