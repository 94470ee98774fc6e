from .base_snippet_localizer import BaseSnippetLocalizer
from .refineloc import RefineLoc

__all__ = ['BaseSnippetLocalizer', 'RefineLoc']
