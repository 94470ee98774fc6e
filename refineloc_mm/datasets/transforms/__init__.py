from .formatting import PackSnippetInputs
from .loading import LoadSnippetFeatures

__all__ = ['PackSnippetInputs', 'LoadSnippetFeatures']
from .snippet_clips import (PackSnippetClips, SampleSnippetFrames,  # noqa: F401
                            SnippetClipStream)
