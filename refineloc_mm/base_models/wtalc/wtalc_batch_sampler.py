# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's training batches (``video_dataset.load_data`` of
``sujoyp/wtalc-pytorch``): pairs of videos sharing a class, then random
videos."""
import numpy as np

from mmaction.registry import DATA_SAMPLERS
from refineloc_mm.datasets.samplers.same_class_batch_sampler import (
    SameClassPairBatchSampler)


@DATA_SAMPLERS.register_module()
class WTALCBatchSampler(SameClassPairBatchSampler):
    """Batches of ``num_similar`` random classes x 2 videos that share the
    class, followed by ``batch_size - 2 * num_similar`` random videos (W-TALC:
    3 x 2 + 4 = 10), as the original draws them: the classes, the two
    videos of each class and the random videos are all drawn uniformly
    *with* replacement (a class may come twice, a pair may be one video
    twice). The co-activity loss reads the pairs at positions (0, 1),
    (2, 3), ... of the batch, which the packed collate keeps.

    Usage with mmengine's Runner (the Runner passes ``sampler`` and
    ``batch_size``; the ``sampler`` config is still required, and gives
    the dataset, the seed, the rank and the epoch)::

        train_dataloader = dict(
            batch_size=10,
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='WTALCBatchSampler', num_similar=3,
                               num_batches=500),
            ...)

    Epoch: ``num_batches`` batches in all (default: ``ceil(N / batch_size)``
    for N videos, so that an epoch draws about N videos, as a plain
    epoch). The batches of an epoch are drawn from ``seed + epoch`` (the
    wrapped sampler's; ``DistSamplerSeedHook`` sets the epoch), identically
    on every rank, and rank r of W takes batches r, r + W, ... (``ceil(
    num_batches / W)`` each, so every rank runs the same number of
    iterations): seeded, and resumable at epoch boundaries like mmengine's
    samplers.

    A video's classes are its ``labels`` (``get_data_info``); classes
    without a training video are never drawn (the original would fail).

    Args:
        sampler (Sampler): The dataloader's sampler (e.g. mmengine's
            ``DefaultSampler``): its ``dataset``, ``seed``, ``epoch``,
            ``rank`` and ``world_size`` are used, not its order.
        batch_size (int): Videos per batch. W-TALC: 10.
        num_similar (int): Class pairs at the start of each batch. W-TALC:
            3. Must equal the co-activity loss's ``num_similar``.
        num_batches (int, optional): Batches per epoch, all ranks together.
            Defaults to ``ceil(len(dataset) / batch_size)``.
        drop_last (bool): Unused (every batch is full); kept for the
            ``BatchSampler`` signature.
    """

    def check_sizes(self, batch_size: int, num_similar: int) -> None:
        """``1 <= num_similar`` and ``2 * num_similar <= batch_size``."""
        if num_similar < 1 or batch_size < 2 * num_similar:
            raise ValueError(
                f'batch_size ({batch_size}) must hold num_similar '
                f'({num_similar}) >= 1 pairs of videos')

    def build_class_index(self, dataset) -> None:
        """Videos of each class, flat and sorted by class."""
        video, cls = [], []
        for i in range(self.dataset_size):
            labels = list(dataset.get_data_info(i)['labels'])
            video += [i] * len(labels)
            cls += labels
        if not cls:
            raise ValueError('WTALCBatchSampler: no training video has a '
                             'class label, no pair can be drawn')
        video, cls = np.asarray(video), np.asarray(cls)
        order = np.argsort(cls, kind='stable')
        self.class_videos = video[order]
        self.classes, starts, counts = np.unique(
            cls[order], return_index=True, return_counts=True)
        self.class_starts, self.class_counts = starts, counts

    def draw_epoch(self, seed: int, total: int) -> np.ndarray:
        """``total`` batches from ``np.random.default_rng(seed)``, all at
        once: classes, the two videos of each pair and the random videos
        uniformly with replacement.

        Returns:
            np.ndarray: [total, batch_size] int64 dataset indices.
        """
        rng = np.random.default_rng(seed)
        picked = rng.integers(len(self.classes), size=(total,
                                                       self.num_similar))
        offset = rng.random((total, self.num_similar, 2))
        within = (offset * self.class_counts[picked][..., None]).astype(
            np.int64)
        pairs = self.class_videos[self.class_starts[picked][..., None] +
                                  within].reshape(total, -1)
        others = rng.integers(
            self.dataset_size,
            size=(total, self.batch_size - 2 * self.num_similar))
        return np.concatenate([pairs, others], 1).astype(np.int64)
