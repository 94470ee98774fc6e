from .hooks import RefinementHook
from .optim_wrappers import BFloat16OptimWrapper
from .runner import RefineLocRunner

__all__ = ['RefinementHook', 'BFloat16OptimWrapper', 'RefineLocRunner']
