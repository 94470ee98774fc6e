from .basnet_head import BaSNetHead
from .refineloc_head import RefineLocHead
from .wtalc_head import WTALCHead

__all__ = ['WTALCHead', 'RefineLocHead', 'BaSNetHead']
