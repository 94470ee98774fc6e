from .hooks import RefinementHook
from .optim_wrappers import BFloat16OptimWrapper

__all__ = ['RefinementHook', 'BFloat16OptimWrapper']
