# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Snippet selection shared by the feature and raw-video transforms: which
view a sample is served for (training or scoring) and the slicing of its
per-snippet entries."""
from typing import Dict, Sequence

import numpy as np

# per-snippet entries of a data_info dict, sliced with the snippets
SNIPPET_KEYS = ('pseudo_label', 'fg_mask')
# the key that says which view a sample is served for: 'train' (random
# crops / resampling, decoded at once) or 'score' (every snippet, as the
# evaluation and the refinement's scoring of the training split read it)
SAMPLE_VIEW_KEY = 'sample_view'
TRAIN_VIEW, SCORE_VIEW = 'train', 'score'
SAMPLE_VIEWS = (TRAIN_VIEW, SCORE_VIEW)


def is_training_sample(results: Dict) -> bool:
    """Whether ``results`` is a training sample: its ``sample_view`` key
    is ``'train'``, which :class:`PseudoLabelDataset` (the wrapper of
    every training split) sets. The refinement's scoring reads the
    training split through the wrapped dataset, whose samples have no
    ``sample_view`` (or ``'score'``): they are inference samples (every
    snippet, streamable)."""
    view = results.get(SAMPLE_VIEW_KEY, SCORE_VIEW)
    if view not in SAMPLE_VIEWS:
        raise ValueError(
            f'video "{results.get("video_name")}": {SAMPLE_VIEW_KEY} must '
            f'be one of {SAMPLE_VIEWS}, got {view!r}')
    return view == TRAIN_VIEW


def select_snippets(results: Dict, keys: Sequence[str],
                    inds: np.ndarray) -> None:
    """Keep the snippets ``inds`` (of the current ``num_snippets``) of
    every per-snippet key of ``results`` that is present, in place.

    ``snippet_inds`` records the raw snippets kept, composed with an
    earlier selection (e.g. a crop before the sampling), and
    ``num_snippets`` becomes ``len(inds)``.

    Raises:
        ValueError: A key whose length is not ``num_snippets``, naming the
            video and the key.
    """
    t = results['num_snippets']
    inds = np.asarray(inds, dtype=np.int64)
    for key in keys:
        if key not in results:
            continue
        values = np.asarray(results[key])
        if len(values) != t:
            raise ValueError(
                f'video "{results.get("video_name")}": {key} has '
                f'{len(values)} entries for {t} snippets')
        results[key] = values[inds]
    previous = results.get('snippet_inds')
    results['snippet_inds'] = inds if previous is None else np.asarray(
        previous)[inds]
    results['num_snippets'] = len(inds)


__all__ = [
    'SNIPPET_KEYS', 'SAMPLE_VIEW_KEY', 'TRAIN_VIEW', 'SCORE_VIEW',
    'is_training_sample', 'select_snippets'
]
