from .refineloc_runner import RefineLocRunner
from .refinement_loop import RefinementLoop

__all__ = ['RefineLocRunner', 'RefinementLoop']
