from .formatting import PackSnippetInputs
from .loading import LoadSnippetFeatures
from .resample_snippets import ResampleSnippets

__all__ = ['PackSnippetInputs', 'LoadSnippetFeatures', 'ResampleSnippets']
from .snippet_clips import (PackSnippetClips, SampleSnippetFrames,  # noqa: F401
                            SnippetClipStream)
