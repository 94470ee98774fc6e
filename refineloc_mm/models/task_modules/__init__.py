from .action_segment_predictor import ActionSegmentPredictor
from .base_segment_post_processor import BaseSegmentPostProcessor
from .basnet_post_processor import BaSNetPostProcessor
from .delu_post_processor import DELUPostProcessor
from .pseudo_gt_generator import PseudoGTGenerator
from .snippet_threshold_segmenter import SnippetThresholdSegmenter
from .wtalc_post_processor import WTALCPostProcessor

__all__ = [
    'WTALCPostProcessor', 'ActionSegmentPredictor', 'PseudoGTGenerator',
    'BaSNetPostProcessor', 'DELUPostProcessor', 'BaseSegmentPostProcessor',
    'SnippetThresholdSegmenter'
]
