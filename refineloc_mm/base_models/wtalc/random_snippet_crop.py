# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Random temporal crop of long training videos (W-TALC's ``max_seqlen``,
``utils.process_feat`` of ``sujoyp/wtalc-pytorch``)."""
from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from refineloc_mm.datasets.transforms.snippet_selection import (
    SNIPPET_KEYS, is_training_sample, select_snippets)


@TRANSFORMS.register_module()
class RandomSnippetCrop(BaseTransform):
    """Keep ``max_seqlen`` consecutive snippets of a long training video.

    Training samples (``sample_view='train'``, see
    :func:`is_training_sample`) with T > ``max_seqlen`` snippets keep
    snippets [r, r + max_seqlen) with r uniform in [0, T - max_seqlen) as
    the original draws it (``np.random.randint(T - max_seqlen)``: the last
    start is never drawn); the per-snippet entries ``snippet_keys`` (the
    pseudo labels, the true foreground mask) and ``features`` (when
    loaded) are cut identically, ``num_snippets`` becomes ``max_seqlen``
    and ``snippet_inds`` records the kept raw snippets (composed with any
    earlier selection), so that a raw-video pipeline's
    :class:`SampleSnippetFrames` (placed after this crop) decodes the same
    snippets. Shorter videos, and every inference sample (validation,
    test, the refinement's scoring of the training split), are left
    whole. W-TALC pads short videos with zeros to ``max_seqlen``; packed
    batches need no padding. ``gt_segments`` (seconds, for the metric
    only) are left as they are; the snippet duration is unchanged.

    Required keys: ``num_snippets``; optional: ``features`` [T, D],
    ``snippet_keys``, ``snippet_inds``. Modified keys: those, when
    cropped. Added key: ``snippet_inds`` (when cropped).

    Args:
        max_seqlen (int): Snippets kept. W-TALC: 750 (I3D), 1200
            (UntrimmedNet).
        snippet_keys (Sequence[str]): Per-snippet entries cut with the
            snippets. Defaults to ``('pseudo_label', 'fg_mask')``.
    """

    def __init__(self,
                 max_seqlen: int = 750,
                 snippet_keys: Sequence[str] = SNIPPET_KEYS) -> None:
        if max_seqlen < 1:
            raise ValueError(f'max_seqlen must be >= 1, got {max_seqlen}')
        self.max_seqlen = max_seqlen
        self.snippet_keys = tuple(snippet_keys)

    def transform(self, results: Dict) -> Dict:
        t = results['num_snippets']
        if not is_training_sample(results) or t <= self.max_seqlen:
            return results
        start = np.random.randint(t - self.max_seqlen)
        select_snippets(results, self.snippet_keys + ('features', ),
                        np.arange(start, start + self.max_seqlen))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_seqlen={self.max_seqlen}, '
                f'snippet_keys={self.snippet_keys})')
