from .co_activity_similarity_loss import CoActivitySimilarityLoss
from .mil_loss import MILLoss
from .pseudo_gt_loss import PseudoGTLoss

__all__ = ['CoActivitySimilarityLoss', 'MILLoss', 'PseudoGTLoss']
