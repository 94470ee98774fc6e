# Copyright (c) refineloc-mm contributors. All rights reserved.
from .wtalc_batch_sampler import WTALCBatchSampler

__all__ = ['WTALCBatchSampler']
