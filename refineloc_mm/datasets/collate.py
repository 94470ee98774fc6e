# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Batching that packs the snippets of a batch where they are loaded."""
import math
from typing import Sequence, Tuple

import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS
from torch.utils.data import get_worker_info

__all__ = ['packed_snippet_collate']


def _shared_empty(shape: Tuple[int, ...],
                  dtype: torch.dtype) -> torch.Tensor:
    """An uninitialized tensor in shared memory whose pages are only
    touched when written (``share_memory_()`` would copy, touching
    all)."""
    nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    try:
        storage = torch.UntypedStorage._new_shared(nbytes)
        return torch.empty(0, dtype=dtype).set_(storage, 0, shape)
    except (AttributeError, RuntimeError, TypeError):  # other torch APIs
        return torch.empty(shape, dtype=dtype).share_memory_()


@FUNCTIONS.register_module()
def packed_snippet_collate(data_batch: Sequence[dict]) -> dict:
    """``pseudo_collate``, with ``inputs`` packed into one [sum T_i, ...]
    tensor instead of a list of B [T_i, ...] tensors.

    In a DataLoader worker the packed tensor lives in shared memory and is
    filled there, one video at a time, each video's own tensor being
    released once copied: the worker holds about one batch, sending it to
    the main process copies nothing, and the main process holds the batch
    once (with ``pseudo_collate`` it holds the list and, after
    :class:`SnippetDataPreprocessor` packs it, a second copy). The
    preprocessor and the model take packed inputs as they are (``sum T_i``
    rows; the lengths come from the data samples).
    """
    if not data_batch or not all(
            isinstance(d, dict) and isinstance(d.get('inputs'), torch.Tensor)
            for d in data_batch):
        return pseudo_collate(data_batch)
    first = data_batch[0]['inputs']
    shape = (sum(d['inputs'].shape[0] for d in data_batch), ) + tuple(
        first.shape[1:])
    dtype = first.dtype
    del first
    packed = _shared_empty(shape, dtype) if get_worker_info() is not None \
        else torch.empty(shape, dtype=dtype)
    offset = 0
    for sample in data_batch:
        length = sample['inputs'].shape[0]
        packed[offset:offset + length] = sample['inputs']
        offset += length
        sample['inputs'] = None  # this video's features are packed
    batch = pseudo_collate(data_batch)
    batch['inputs'] = packed
    return batch
