# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The batches of the co-activity losses (W-TALC, DELU): ``num_similar``
pairs of videos sharing a class, then random videos. The shared epoch
bookkeeping; each model's sampler keeps its own draws."""
import math
from typing import Iterator, List, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import BatchSampler, Sampler


class SameClassPairBatchSampler(BatchSampler):
    """Base of the batch samplers whose batches start with ``num_similar``
    pairs of videos sharing a class (read at positions (0, 1), (2, 3), ...
    by the co-activity loss), followed by ``batch_size - 2 * num_similar``
    random videos. Not registered: use a subclass.

    Epoch: ``num_batches`` batches in all (default ``ceil(N /
    batch_size)`` for N videos), drawn by :meth:`draw_epoch` from ``seed +
    epoch`` (the wrapped sampler's; ``DistSamplerSeedHook`` sets the
    epoch), identically on every rank; rank r of W takes batches r, r + W,
    ... (``ceil(num_batches / W)`` each): seeded, and resumable at epoch
    boundaries like mmengine's samplers.

    Subclasses implement :meth:`check_sizes` (their ``num_similar``
    checks), :meth:`build_class_index` and :meth:`draw_epoch`.

    Args:
        sampler (Sampler): The dataloader's sampler (e.g. mmengine's
            ``DefaultSampler``): its ``dataset``, ``seed``, ``epoch``,
            ``rank`` and ``world_size`` are used, not its order.
        batch_size (int): Videos per batch.
        num_similar (int): Class pairs at the start of each batch. Must
            equal the co-activity loss's ``num_similar``.
        num_batches (int, optional): Batches per epoch, all ranks together.
            Defaults to ``ceil(len(dataset) / batch_size)``.
        drop_last (bool): Unused (every batch is full); kept for the
            ``BatchSampler`` signature.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int = 10,
                 num_similar: int = 3,
                 num_batches: Optional[int] = None,
                 drop_last: bool = False) -> None:
        self.check_sizes(batch_size, num_similar)
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None:
            raise ValueError(
                f'{type(self).__name__} needs a sampler with a `dataset` '
                "(e.g. dict(type='DefaultSampler')), got "
                f'{type(sampler).__name__}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.num_similar = num_similar
        self.drop_last = drop_last
        self.dataset_size = len(dataset)
        if num_batches is None:
            num_batches = math.ceil(self.dataset_size / batch_size)
        if num_batches < 1:
            raise ValueError(f'num_batches must be >= 1, got {num_batches}')
        self.num_batches = num_batches
        rank, world_size = get_dist_info()
        self.rank = getattr(sampler, 'rank', rank)
        self.world_size = getattr(sampler, 'world_size', world_size)
        seed = getattr(sampler, 'seed', None)
        self.seed = sync_random_seed() if seed is None else seed
        self._epoch = 0
        self.build_class_index(dataset)

    def check_sizes(self, batch_size: int, num_similar: int) -> None:
        """Raise ``ValueError`` if ``batch_size`` cannot hold
        ``num_similar`` pairs (each sampler's own bounds)."""
        raise NotImplementedError

    def build_class_index(self, dataset) -> None:
        """Index the videos of each class (``get_data_info(i)['labels']``);
        raise ``ValueError`` if no pair can be drawn."""
        raise NotImplementedError

    def draw_epoch(self, seed: int, total: int) -> np.ndarray:
        """``total`` batches drawn from ``seed`` (= sampler seed + epoch).

        Returns:
            np.ndarray: [total, batch_size] int64 dataset indices.
        """
        raise NotImplementedError

    @property
    def epoch(self) -> int:
        """The wrapped sampler's epoch (set by ``DistSamplerSeedHook``)."""
        return getattr(self.sampler, 'epoch', self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (also on the wrapped sampler if it has one)."""
        self._epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def epoch_batches(self, epoch: Optional[int] = None) -> np.ndarray:
        """Every batch of an epoch, all ranks together.

        Returns:
            np.ndarray: [ceil(num_batches / W) * W, batch_size] int64
            dataset indices.
        """
        epoch = self.epoch if epoch is None else epoch
        return self.draw_epoch(self.seed + epoch, len(self) * self.world_size)

    def __iter__(self) -> Iterator[List[int]]:
        batches = self.epoch_batches()[self.rank::self.world_size]
        for batch in batches:
            yield batch.tolist()

    def __len__(self) -> int:
        """Batches of this rank per epoch."""
        return math.ceil(self.num_batches / self.world_size)
