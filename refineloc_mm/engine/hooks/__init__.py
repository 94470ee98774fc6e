from .input_width_check_hook import InputWidthCheckHook
from .refinement_hook import RefinementHook

__all__ = ['InputWidthCheckHook', 'RefinementHook']
