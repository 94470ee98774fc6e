# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The post-processor side of the base-model contract: segments from the
scores dict of :meth:`BaseSnippetHead.snippet_scores`."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Sequence

import numpy as np
import torch

from mmaction.utils import SampleList


class BaseSegmentPostProcessor(metaclass=ABCMeta):
    """A ``TASK_UTILS`` component turning a batch's scores into segments.

    :meth:`predict_segments` reads the scores dict (``cas_softmax``
    [B, T, N], ``video_score`` [B, N], ``foreground`` [B, T] where the model
    has one, ``mask`` [B, T] and the model's own entries) and the batch's
    samples (``snippet_size`` / ``fps`` metainfo), and returns, per video,
    ``[M_i, 4]`` float64 rows ``(t_start, t_end, class_index, score)`` in
    seconds. The refinement's generator and the heads' ``post_process``
    call nothing else.
    """

    @abstractmethod
    def predict_segments(self, scores: Dict[str, torch.Tensor],
                         data_samples: SampleList) -> List[np.ndarray]:
        """Segments of every video of the batch (see the class
        docstring)."""

    def require_scores(self, scores: Dict[str, torch.Tensor],
                       keys: Sequence[str]) -> None:
        """Raise a ValueError naming the missing score entries."""
        missing = [k for k in keys if scores.get(k) is None]
        if missing:
            present = sorted(k for k, v in scores.items() if v is not None)
            raise ValueError(
                f'{type(self).__name__} needs the score(s) {missing} of the '
                f'base model, but its snippet_scores gives {present}; use '
                "the model's own post-processor or a model that has them.")


__all__ = ['BaseSegmentPostProcessor']
