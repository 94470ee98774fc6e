# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Score a split with a base model: the one loop behind the pseudo labels
(:class:`PseudoLabelHook`), the timelines (``visualization.timeline``),
the benchmark (``tools/benchmark.py``) and the pseudo-label quality of
checkpoints (:mod:`.pseudo_label_quality`)."""
from typing import Dict, Iterable, Iterator, Optional, Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner.amp import autocast

from mmaction.utils import SampleList


def score_split(model: torch.nn.Module,
                batches: Iterable,
                fp16: bool = False,
                dtype: Optional[torch.dtype] = None,
                eval_mode: bool = True
                ) -> Iterator[Tuple[Dict[str, torch.Tensor], SampleList]]:
    """Yield ``model.snippet_scores`` of every batch, with its samples.

    Uses the base-model contract (:class:`BaseSnippetLocalizer`): each
    batch goes through the model's data preprocessor (``training=False``)
    and ``snippet_scores``, without gradients and, when ``fp16``, under
    mmengine's autocast (as ``ValLoop(fp16=True)``). No random number is
    drawn here (a DataLoader given as ``batches`` may draw its own).

    Args:
        model (nn.Module): The base model (a model wrapper is unwrapped).
        batches (Iterable): Collated batches, e.g. a DataLoader.
        fp16 (bool): Score under autocast. Defaults to False.
        dtype (torch.dtype, optional): The autocast dtype (None: mmengine's
            default for the device).
        eval_mode (bool): Switch the model to eval mode while scoring and
            restore its mode afterwards. Defaults to True.

    Yields:
        tuple: ``(scores, data_samples)``: the dict of ``snippet_scores``
        ([B, T, ...] tensors) and the batch's samples.
    """
    model = model.module if is_model_wrapper(model) else model
    was_training = model.training
    if eval_mode:
        model.eval()
    device_type = next(model.parameters()).device.type
    try:
        for data in batches:
            with torch.no_grad():
                data = model.data_preprocessor(data, False)
                with autocast(device_type=device_type, dtype=dtype,
                              enabled=fp16):
                    scores = model.snippet_scores(data['inputs'],
                                                  data['data_samples'])
            yield scores, data['data_samples']
    finally:
        model.train(was_training)


__all__ = ['score_split']
