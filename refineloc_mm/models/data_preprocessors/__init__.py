from .snippet_data_preprocessor import SnippetDataPreprocessor

__all__ = ['SnippetDataPreprocessor']
from .snippet_clip_data_preprocessor import SnippetClipDataPreprocessor  # noqa: F401,E501
