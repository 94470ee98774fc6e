# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Action segment prediction module of RefineLoc (post-processing)."""
from mmaction.registry import TASK_UTILS
from refineloc_mm.models.task_modules.snippet_threshold_segmenter import (
    SnippetThresholdSegmenter)


@TASK_UTILS.register_module()
class ActionSegmentPredictor(SnippetThresholdSegmenter):
    """RefineLoc's action segment prediction module: the top-k classes by
    video score, class probability > alpha_C and foreground a_t > alpha_A,
    dilated, connected, padded and scored ``mean p + mean a + y_hat`` (see
    :class:`SnippetThresholdSegmenter`, whose algorithm it is). The head's
    config holds the inference thresholds; the refinement thresholds of
    METHOD.md (THUMOS14: top-k 2, alpha_C 0.1, alpha_A 0.92, padding 2)
    are the generator's ``post_processor`` in the RefineLoc recipes.

    Args:
        top_k (int): Classes kept per video. Defaults to 2.
        min_cas_score (float): alpha_C. Defaults to 0.1.
        min_attention_score (float): alpha_A. Defaults to 0.5.
        padding (int): Snippets added on each side. Defaults to 2.
    """

    def __init__(self,
                 top_k: int = 2,
                 min_cas_score: float = 0.1,
                 min_attention_score: float = 0.5,
                 padding: int = 2) -> None:
        super().__init__(
            top_k=top_k,
            min_cas_score=min_cas_score,
            min_attention_score=min_attention_score,
            padding=padding,
            require_foreground=True)


__all__ = ['ActionSegmentPredictor']
