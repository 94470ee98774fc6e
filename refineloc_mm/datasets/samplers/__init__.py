# Copyright (c) refineloc-mm contributors. All rights reserved.
from .same_class_batch_sampler import SameClassPairBatchSampler

__all__ = ['SameClassPairBatchSampler']
