# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Building blocks shared by the heads, losses and post-processors of every
base model (no model's own file is imported here)."""
from .snippet_mlp import SnippetMLP
from .temporal_runs import (component_means, connected_components,
                            dilate_along_time, to_numpy)
from .uniform_dropout import UniformDropout

__all__ = [
    'SnippetMLP', 'component_means', 'connected_components',
    'dilate_along_time', 'to_numpy', 'UniformDropout'
]
