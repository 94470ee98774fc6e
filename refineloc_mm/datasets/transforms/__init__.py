from .formatting import PackSnippetInputs
from .loading import LoadSnippetFeatures

__all__ = ['PackSnippetInputs', 'LoadSnippetFeatures']
