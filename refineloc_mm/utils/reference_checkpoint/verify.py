# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Checking the written config and checkpoint: every override took effect
and the weights load strictly into the config's model."""
from typing import Any, Dict

from .loading import ConversionError


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
