# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's training batches (``wsad_dataset.SampleDataset.load_data`` of
``MengyuanChen21/ECCV2022-DELU`` @ a60e46d, from CO2-Net): pairs of
distinct videos sharing a class, then random videos."""
from typing import List

import numpy as np

from mmaction.registry import DATA_SAMPLERS
from refineloc_mm.datasets.samplers.same_class_batch_sampler import (
    SameClassPairBatchSampler)


@DATA_SAMPLERS.register_module()
class DELUBatchSampler(SameClassPairBatchSampler):
    """Batches of ``num_similar`` random classes x 2 distinct videos of
    that class, followed by ``batch_size - 2 * num_similar`` random videos
    (DELU: 3 x 2 + 4 = 10), drawn with the original's calls in its order
    (:meth:`draw_batch`): ``choice(num_classes, num_similar)`` (classes
    with replacement), per class ``choice(n_c, 2, replace=False)`` (two
    distinct videos of the class, in dataset order), then
    ``choice(num_videos, batch_size - 2 * num_similar)`` (with
    replacement). The co-activity loss reads the pairs at positions (0, 1),
    (2, 3), ... of the batch, which the packed collate keeps.

    Classes with fewer than 2 training videos cannot give a pair: they are
    left out of the class draw (the original requires every class to have
    2; with all classes eligible the draws are the original's).

    The snippets of each drawn video are resampled by the pipeline
    (:class:`RandomPerturbSnippets`), in the dataloader's workers, from
    their own generators (the original draws them from the same global
    generator right after the batch; :meth:`draw_batch` with
    ``random_indices`` reproduces that sequence, see the parity tests).

    Epoch: ``num_batches`` batches in all (default ``ceil(N /
    batch_size)``), drawn from ``np.random.RandomState(seed + epoch)``
    identically on every rank; rank r of W takes batches r, r + W, ...
    (seeded and resumable at epoch boundaries like mmengine's samplers).

    Args:
        sampler (Sampler): The dataloader's sampler (e.g. mmengine's
            ``DefaultSampler``): its ``dataset``, ``seed``, ``epoch``,
            ``rank`` and ``world_size`` are used, not its order.
        batch_size (int): Videos per batch. DELU: 10.
        num_similar (int): Class pairs at the start of each batch. DELU: 3.
            Must equal the co-activity loss's ``num_similar``.
        num_batches (int, optional): Batches per epoch, all ranks together.
        drop_last (bool): Unused (every batch is full).
    """

    def check_sizes(self, batch_size: int, num_similar: int) -> None:
        """``0 <= num_similar`` (0: random videos only), ``2 *
        num_similar <= batch_size`` and ``batch_size >= 1``."""
        if num_similar < 0 or batch_size < 2 * num_similar or batch_size < 1:
            raise ValueError(
                f'batch_size ({batch_size}) must hold num_similar '
                f'({num_similar}) pairs of videos')

    def build_class_index(self, dataset) -> None:
        """``class_videos``: :meth:`index_classes` of the dataset's labels."""
        labels = [
            list(dataset.get_data_info(i)['labels'])
            for i in range(self.dataset_size)
        ]
        self.class_videos = self.index_classes(labels)
        if self.num_similar and not self.class_videos:
            raise ValueError(
                'DELUBatchSampler: no class has 2 training videos, no pair '
                'can be drawn (set num_similar=0 to draw random videos only)')

    @staticmethod
    def index_classes(labels: List[List[int]]) -> List[np.ndarray]:
        """Videos of every class with at least 2 of them, classes in
        increasing order, videos in dataset order (the original's
        ``classwiseidx``).

        Args:
            labels (list[list[int]]): The class indices of every video.

        Returns:
            list[np.ndarray]: One int64 array of video indices per
            eligible class.
        """
        per_class: dict = {}
        for video, classes in enumerate(labels):
            for c in sorted(set(int(c) for c in classes)):
                per_class.setdefault(c, []).append(video)
        return [
            np.asarray(v, dtype=np.int64)
            for _, v in sorted(per_class.items()) if len(v) >= 2
        ]

    def draw_batch(self, rng: np.random.RandomState) -> np.ndarray:
        """One batch, with the original's calls in its order.

        Args:
            rng (np.random.RandomState): The generator (the original uses
                numpy's global one).

        Returns:
            np.ndarray: [batch_size] int64 dataset indices, pairs first.
        """
        idx = []
        if self.num_similar:
            for cid in rng.choice(len(self.class_videos), self.num_similar):
                videos = self.class_videos[cid]
                idx += videos[rng.choice(len(videos), 2,
                                         replace=False)].tolist()
        idx += rng.choice(self.dataset_size,
                          self.batch_size - 2 * self.num_similar).tolist()
        return np.asarray(idx, dtype=np.int64)

    def draw_epoch(self, seed: int, total: int) -> np.ndarray:
        """``total`` batches of :meth:`draw_batch` from
        ``np.random.RandomState(seed % 2**32)``.

        Returns:
            np.ndarray: [total, batch_size] int64.
        """
        rng = np.random.RandomState(seed % 2**32)
        return np.stack([self.draw_batch(rng) for _ in range(total)])
