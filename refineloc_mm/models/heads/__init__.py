from .base_snippet_head import BaseSnippetHead

__all__ = ['BaseSnippetHead']
