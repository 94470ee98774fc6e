from .refineloc_head import RefineLocHead

__all__ = ['RefineLocHead']
