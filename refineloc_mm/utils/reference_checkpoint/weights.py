# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The authors' weights checked against the architecture their settings
describe and mapped onto :class:`RefineLoc` (``cls_head.`` prefix)."""
from collections import OrderedDict
from typing import Any, Dict, Tuple

import torch

from .loading import ConversionError


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
