from .base_snippet_localizer import BaseSnippetLocalizer
from .basnet import BaSNet
from .delu import DELU
from .refineloc import RefineLoc
from .wtalc import WTALC

__all__ = ['WTALC', 'BaseSnippetLocalizer', 'RefineLoc', 'BaSNet', 'DELU']
