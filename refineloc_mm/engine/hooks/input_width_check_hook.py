# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The model's input width against the features' width, before running.

A model whose ``cls_head.in_channels`` differs from the width of the
features the datasets give fails in its first forward pass with a bare
matrix-shape error. This hook compares both once the runner has built
its loops (``before_run``: after the model and the datasets are built,
before any weight is initialized or any batch is read) and names both
config keys.
"""
from typing import Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from mmaction.registry import HOOKS

LOOPS = ('train', 'val', 'test')


def _feature_dataset(dataset, key: str) -> Tuple[Optional[object], str]:
    """The innermost dataset that knows its ``feature_width`` (unwrapping
    ``.dataset`` wrappers such as :class:`PseudoLabelDataset`) and its
    config key, e.g. ``train_dataloader.dataset.dataset``."""
    while not hasattr(dataset, 'feature_width') and hasattr(
            dataset, 'dataset'):
        dataset, key = dataset.dataset, f'{key}.dataset'
    return (dataset if hasattr(dataset, 'feature_width') else None), key


@HOOKS.register_module()
class InputWidthCheckHook(Hook):
    """Refuse a model whose input width differs from the features'.

    The model's width is ``model.cls_head.in_channels`` (every base model
    of this project has one); a model with a backbone (raw video) is not
    checked, as its head reads the backbone's output. The features' width
    is the ``feature_width`` of each built dataset (train, val, test):
    ``in_channels`` when the dataset config sets it (checked against the
    files when the dataset is built), else the width the files give after
    stream selection. Datasets without a ``feature_width`` (raw video) are
    not checked.

    Raises:
        ValueError: In ``before_run``, naming ``model.cls_head.in_channels``
            and the dataset's ``in_channels`` config key, with both widths
            and the dataset's annotation file.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if getattr(model, 'backbone', None) is not None:
            return
        width = getattr(getattr(model, 'cls_head', None), 'in_channels',
                        None)
        if width is None:
            return
        for name in LOOPS:
            loop = getattr(runner, f'_{name}_loop', None)
            if not isinstance(loop, BaseLoop):
                continue  # not built: this run does not use it
            dataset, key = _feature_dataset(loop.dataloader.dataset,
                                            f'{name}_dataloader.dataset')
            if dataset is None or dataset.feature_width is None:
                continue
            if dataset.feature_width == width:
                continue
            configured = getattr(dataset, 'in_channels', None)
            source = getattr(dataset, 'ann_file', '')
            stream = getattr(dataset, 'stream', None)
            if configured is None:
                what = (f'{key}.in_channels is not set and the features of '
                        f'{source} are {dataset.feature_width}-d')
            else:
                what = f'{key}.in_channels={configured}'
            if stream is not None:
                what += f' (stream={stream})'
            raise ValueError(
                f'model.cls_head.in_channels={width} does not match the '
                f'features of {key} ({source}): {what}. Set '
                'model.cls_head.in_channels to the width of the features '
                'after stream selection.')
