from .hooks import PseudoLabelHook, RefinementSummaryHook
from .optim_wrappers import BFloat16OptimWrapper
from .runner import RefineLocRunner, RefinementLoop

__all__ = [
    'PseudoLabelHook', 'RefinementSummaryHook', 'BFloat16OptimWrapper',
    'RefineLocRunner', 'RefinementLoop'
]
