from .action_segment_predictor import ActionSegmentPredictor
from .pseudo_gt_generator import PseudoGTGenerator

__all__ = ['ActionSegmentPredictor', 'PseudoGTGenerator']
