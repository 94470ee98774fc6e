from .base_snippet_localizer import BaseSnippetLocalizer

__all__ = ['BaseSnippetLocalizer']
