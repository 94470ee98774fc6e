# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The config of a converted checkpoint: the base config with every value
the checkpoint's settings determine set on top, written whole (no
``_base_``) with provenance comments."""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .loading import ConversionError


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


def pseudo_gt_weighting(attention_dim: int, weighted: bool) -> str:
    """The :class:`PseudoGTLoss` weighting of the reference's
    ``weighted_psgt_loss``: class-balanced (k = 2) or ``pos_weight``
    sqrt(w_fg) (k = 1) when weighted, else none."""
    if not weighted:
        return 'none'
    return 'class_balanced' if attention_dim == 2 else 'sqrt_pos_weight'


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
                alpha_gs=float(s['alpha_group_sparsity_loss'])),
            pseudo_gt_loss=dict(
                type='PseudoGTLoss',
                weighting=pseudo_gt_weighting(
                    int(s['pseudo_gt_loss_dim']),
                    bool(s['weighted_psgt_loss'])),
                loss_weight=float(s['alpha_pseudo_gt_loss'])),
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
                post_processor=dict(
                    type='ActionSegmentPredictor',
                    top_k=int(s['refinement_top_k_labels']),
                    min_cas_score=float(s['refinement_min_cas_score']),
                    min_attention_score=float(
                        s['refinement_min_attention_score']),
                    padding=int(s['refinement_padding'])),
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
    ('alpha_pseudo_gt_loss', 'model.cls_head.pseudo_gt_loss.loss_weight'),
    ('weighted_psgt_loss', 'model.cls_head.pseudo_gt_loss.weighting'),
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
     'default_hooks.pseudo_labels.generator.post_processor.top_k'),
    ('refinement_min_cas_score',
     'default_hooks.pseudo_labels.generator.post_processor.min_cas_score'),
    ('refinement_min_attention_score',
     'default_hooks.pseudo_labels.generator.post_processor.min_attention_score'),
    ('refinement_padding',
     'default_hooks.pseudo_labels.generator.post_processor.padding'),
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
