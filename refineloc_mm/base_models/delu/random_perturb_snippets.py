# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's training-time snippet perturbation (``wsad_dataset.
SampleDataset.random_perturb`` of ``MengyuanChen21/ECCV2022-DELU`` @
a60e46d, from CO2-Net): every training video becomes ``max_seqlen`` = 320
snippets, one random snippet per bin; test videos are fed whole."""
from typing import Dict

from mmaction.registry import TRANSFORMS
from refineloc_mm.datasets.transforms.resample_snippets import ResampleSnippets
from refineloc_mm.datasets.transforms.snippet_selection import (
    is_training_sample)


@TRANSFORMS.register_module()
class RandomPerturbSnippets(ResampleSnippets):
    """Resample *training* samples of L snippets to ``num_segments`` = T by
    a random snippet of each bin [floor(i L / T), floor((i + 1) L / T)]
    (both ends included; the last bin ends at L - 1; the identity for
    L = T; short videos repeat snippets), as :class:`ResampleSnippets` does
    in training (its ``random_indices`` consumes numpy's generator as the
    original's ``random_perturb``). Inference samples (test videos, and the
    training split when the refinement scores it) are left whole, as in
    the original's test.

    Pseudo labels, the time axis and ``snippet_inds`` follow the resampled
    snippets exactly as in :class:`ResampleSnippets`.

    Args:
        num_segments (int): T. Defaults to 320 (DELU's ``max_seqlen``).
        snippet_keys (Sequence[str]): Per-snippet entries resampled with
            the features.
    """

    def __init__(self, num_segments: int = 320, **kwargs) -> None:
        super().__init__(num_segments=num_segments, **kwargs)

    def transform(self, results: Dict) -> Dict:
        if not is_training_sample(results):
            return results
        return super().transform(results)
