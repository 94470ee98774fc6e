from .refineloc_runner import RefineLocRunner

__all__ = ['RefineLocRunner']
