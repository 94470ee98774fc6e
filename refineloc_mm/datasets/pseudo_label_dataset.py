# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Dataset wrapper that adds a snippet-level pseudo label to each sample."""
from typing import List, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset

from mmaction.registry import DATASETS
from ..utils.snippets import offsets_from_lengths
from .transforms.snippet_selection import SAMPLE_VIEW_KEY, TRAIN_VIEW


@DATASETS.register_module()
class PseudoLabelDataset:
    """Wrap a snippet dataset and hold one pseudo label per snippet
    (-1 ignore, 0 background, 1 foreground), initially all -1.

    The labels of all videos live in one flat int8 tensor in shared memory,
    together with w_fg, so that :meth:`set_labels` in the main process is
    seen by every DataLoader worker, persistent ones included: the
    wrapper is created (and the memory shared) before workers start, and
    updates are written in place.

    Args:
        dataset (dict | BaseDataset): The wrapped dataset; its
            ``get_data_info`` must give ``num_snippets`` and ``fg_mask``.
    """

    def __init__(self, dataset: Union[dict, BaseDataset]) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset,
                                                             dict) else dataset
        infos = [self.dataset.get_data_info(i) for i in range(len(self))]
        self.num_snippets = np.array([d['num_snippets'] for d in infos],
                                     dtype=np.int64)
        self.offsets = offsets_from_lengths(self.num_snippets)
        self.fps = np.array([d['fps'] for d in infos], dtype=np.float64)
        self.snippet_size = np.array([d['snippet_size'] for d in infos],
                                     dtype=np.float64)
        self.fg_masks = np.concatenate([d['fg_mask'] for d in infos])
        self.video_names: List[str] = [d['video_name'] for d in infos]
        total = int(self.offsets[-1])
        self._labels = torch.full((total, ), -1,
                                  dtype=torch.int8).share_memory_()
        self._fg_weight = torch.full((1, ), float('nan'),
                                     dtype=torch.float64).share_memory_()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    @property
    def labels(self) -> np.ndarray:
        """Flat [sum T] int8 copy of the current pseudo labels."""
        return self._labels.numpy().copy()

    @property
    def fg_weight(self) -> float:
        """w_fg of the current labels (NaN before the first update)."""
        return float(self._fg_weight[0])

    def video_labels(self, idx: int) -> np.ndarray:
        """[T] pseudo labels of video ``idx``."""
        return self._labels[self.offsets[idx]:self.offsets[idx + 1]].numpy()

    def set_labels(self, labels: np.ndarray, fg_weight: float) -> None:
        """Replace every pseudo label in place (seen by all workers).

        Args:
            labels (np.ndarray): Flat [sum T] labels in {-1, 0, 1}.
            fg_weight (float): w_fg of these labels.
        """
        labels = np.asarray(labels)
        if labels.shape != self._labels.shape:
            raise ValueError(f'expected {self._labels.shape[0]} pseudo '
                             f'labels, got shape {labels.shape}')
        # isin also refuses fractions and NaN, which a min/max range check
        # lets through and the int8 cast below silently truncates
        if not np.isin(labels, (-1, 0, 1)).all():
            raise ValueError('pseudo labels must be -1, 0 or 1')
        self._labels.copy_(torch.from_numpy(labels.astype(np.int8)))
        self._fg_weight[0] = fg_weight

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's info plus ``pseudo_label``, ``fg_weight``
        and ``sample_view='train'`` (the training view of the
        transforms)."""
        info = self.dataset.get_data_info(idx)
        info[SAMPLE_VIEW_KEY] = TRAIN_VIEW
        info['pseudo_label'] = self.video_labels(idx).astype(np.int64)
        w = self.fg_weight
        info['fg_weight'] = None if np.isnan(w) else w
        return info

    def __getitem__(self, idx: int) -> dict:
        return self.dataset.pipeline(self.get_data_info(idx))
