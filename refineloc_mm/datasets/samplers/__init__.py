# Copyright (c) refineloc-mm contributors. All rights reserved.
from .delu_batch_sampler import DELUBatchSampler
from .same_class_batch_sampler import SameClassPairBatchSampler
from .wtalc_batch_sampler import WTALCBatchSampler

__all__ = [
    'SameClassPairBatchSampler', 'WTALCBatchSampler', 'DELUBatchSampler'
]
