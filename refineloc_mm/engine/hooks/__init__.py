from .refinement_hook import RefinementHook

__all__ = ['RefinementHook']
