from .refineloc import RefineLoc

__all__ = ['RefineLoc']
