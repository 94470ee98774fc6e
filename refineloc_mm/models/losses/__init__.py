from .pseudo_gt_loss import PseudoGTLoss
from .refineloc_loss import RefineLocLoss

__all__ = ['PseudoGTLoss', 'RefineLocLoss']
