from .formatting import PackSnippetInputs
from .loading import LoadSnippetFeatures
from .random_perturb_snippets import RandomPerturbSnippets
from .random_snippet_crop import RandomSnippetCrop
from .resample_snippets import ResampleSnippets

__all__ = [
    'PackSnippetInputs', 'LoadSnippetFeatures', 'RandomSnippetCrop',
    'ResampleSnippets', 'RandomPerturbSnippets'
]
from .snippet_clips import (PackSnippetClips, SampleSnippetFrames,  # noqa: F401
                            SnippetClipStream)
