from .snippet_data_preprocessor import SnippetDataPreprocessor

__all__ = ['SnippetDataPreprocessor']
