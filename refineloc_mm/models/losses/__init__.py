from .co_activity_similarity_loss import CoActivitySimilarityLoss
from .mil_loss import MILLoss
from .basnet_loss import BaSNetLoss
from .pseudo_gt_loss import PseudoGTLoss
from .refineloc_loss import RefineLocLoss

__all__ = [
    'CoActivitySimilarityLoss', 'MILLoss', 'PseudoGTLoss', 'RefineLocLoss',
    'BaSNetLoss'
]
