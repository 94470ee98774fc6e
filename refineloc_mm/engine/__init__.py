from .hooks import RefinementHook

__all__ = ['RefinementHook']
