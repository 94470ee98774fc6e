# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The class list a checkpoint was trained with, for testing it.

mmengine's ``Runner.save_checkpoint`` stores the training dataset's
``metainfo`` (for :class:`PseudoLabelDataset`, the wrapped dataset's:
``classes`` in index order) as ``meta['dataset_meta']``. A test config
whose dataset names no classes takes them from there, so the checkpoint
is scored with the mapping it was trained with, whatever classes the test
annotations happen to contain.
"""
from typing import Optional, Tuple

from mmengine.logging import print_log

__all__ = ['checkpoint_classes', 'apply_checkpoint_classes']

_LOADER_KEYS = ('test_dataloader', 'val_dataloader')


def checkpoint_classes(checkpoint: str) -> Optional[Tuple[str, ...]]:
    """``meta['dataset_meta']['classes']`` of a checkpoint, or None.

    Read through mmengine's checkpoint loader (local paths and URLs),
    which importing ``refineloc_mm`` routes to ``weights_only=True`` and
    the project's allowlist (:mod:`refineloc_mm.utils.compat`).
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    dataset_meta = (meta or {}).get('dataset_meta') or {}
    classes = dataset_meta.get('classes')
    return None if classes is None else tuple(str(c) for c in classes)


def _innermost(dataset_cfg):
    """The config of the dataset that reads annotations (unwraps
    ``dataset=`` wrappers such as PseudoLabelDataset)."""
    while isinstance(dataset_cfg, dict) and isinstance(
            dataset_cfg.get('dataset'), dict):
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def apply_checkpoint_classes(cfg, checkpoint: str
                             ) -> Optional[Tuple[str, ...]]:
    """Give the test/val datasets of ``cfg`` the checkpoint's classes.

    A dataset config without ``classes`` (nor ``metainfo.classes``) gets
    the checkpoint's list; one with a list must agree with it.

    Args:
        cfg (Config | dict): The test config (changed in place).
        checkpoint (str): Checkpoint path.

    Returns:
        tuple | None: The checkpoint's classes (None if it has none, in
        which case ``cfg`` is left unchanged).

    Raises:
        ValueError: If a dataset of ``cfg`` names classes other than the
            checkpoint's (in order), naming both.
    """
    classes = checkpoint_classes(checkpoint)
    if classes is None:
        return None
    for key in _LOADER_KEYS:
        loader = cfg.get(key)
        if not isinstance(loader, dict):
            continue
        dataset = _innermost(loader.get('dataset'))
        if not isinstance(dataset, dict):
            continue
        configured = dataset.get('classes')
        if configured is None:
            configured = (dataset.get('metainfo') or {}).get('classes')
        if configured is None:
            dataset['classes'] = list(classes)
            print_log(
                f'{key}: classes taken from {checkpoint} ({len(classes)} '
                'classes, the order it was trained with).',
                logger='current')
        elif tuple(str(c) for c in configured) != classes:
            raise ValueError(
                f'{key}.dataset names the classes {list(configured)}, but '
                f'{checkpoint} was trained with {list(classes)} (in this '
                'order); remove classes from the config to use the '
                "checkpoint's.")
    return classes
