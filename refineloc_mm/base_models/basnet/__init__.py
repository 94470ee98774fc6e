# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net (Lee et al., AAAI 2020) as a base model: its localizer, head,
loss and post-processor (registered on import; configs import this
subpackage through ``custom_imports``). Its resampling to
``num_segments`` snippets, :class:`ResampleSnippets`, is shared."""
from .basnet import BaSNet
from .basnet_head import BaSNetHead
from .basnet_loss import BaSNetLoss
from .basnet_post_processor import BaSNetPostProcessor

__all__ = ['BaSNet', 'BaSNetHead', 'BaSNetLoss', 'BaSNetPostProcessor']
