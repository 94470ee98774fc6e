from .co_activity_similarity_loss import CoActivitySimilarityLoss
from .mil_loss import MILLoss
from .basnet_loss import BaSNetLoss
from .pseudo_gt_loss import PseudoGTLoss
from .refineloc_loss import RefineLocLoss
from .attention_mutual_loss import AttentionMutualLoss
from .background_mil_loss import BackgroundMILLoss
from .delu_loss import DELULoss
from .uncertainty_guide_loss import UncertaintyGuideLoss
from .video_evidential_loss import VideoEvidentialLoss

__all__ = [
    'CoActivitySimilarityLoss', 'MILLoss', 'PseudoGTLoss', 'RefineLocLoss',
    'BaSNetLoss', 'AttentionMutualLoss', 'BackgroundMILLoss', 'DELULoss',
    'UncertaintyGuideLoss', 'VideoEvidentialLoss'
]
