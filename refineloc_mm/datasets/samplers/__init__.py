# Copyright (c) refineloc-mm contributors. All rights reserved.
from .delu_batch_sampler import DELUBatchSampler
from .wtalc_batch_sampler import WTALCBatchSampler

__all__ = ['WTALCBatchSampler', 'DELUBatchSampler']
