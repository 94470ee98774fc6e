from .input_width_check_hook import InputWidthCheckHook
from .pseudo_label_hook import PseudoLabelHook
from .refinement_summary_hook import RefinementSummaryHook

__all__ = ['InputWidthCheckHook', 'PseudoLabelHook', 'RefinementSummaryHook']
