from .base_segment_post_processor import BaseSegmentPostProcessor
from .pseudo_gt_generator import PseudoGTGenerator
from .snippet_threshold_segmenter import SnippetThresholdSegmenter

__all__ = [
    'BaseSegmentPostProcessor', 'PseudoGTGenerator',
    'SnippetThresholdSegmenter'
]
