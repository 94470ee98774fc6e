from .base_snippet_head import BaseSnippetHead
from .basnet_head import BaSNetHead
from .delu_head import DELUHead
from .refineloc_head import RefineLocHead
from .wtalc_head import WTALCHead

__all__ = [
    'BaseSnippetHead', 'WTALCHead', 'RefineLocHead', 'BaSNetHead', 'DELUHead'
]
