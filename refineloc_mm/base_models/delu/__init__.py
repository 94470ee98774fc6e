# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU (Chen et al., ECCV 2022) as a base model: its localizer, head,
losses, post-processor, batch sampler and snippet perturbation
(registered on import; configs import this subpackage through
``custom_imports``)."""
from .attention_mutual_loss import AttentionMutualLoss
from .background_mil_loss import BackgroundMILLoss
from .delu import DELU
from .delu_batch_sampler import DELUBatchSampler
from .delu_head import DELUHead
from .delu_loss import DELULoss
from .delu_post_processor import DELUPostProcessor
from .random_perturb_snippets import RandomPerturbSnippets
from .uncertainty_guide_loss import UncertaintyGuideLoss
from .video_evidential_loss import VideoEvidentialLoss

__all__ = [
    'DELU', 'DELUHead', 'DELULoss', 'DELUPostProcessor', 'DELUBatchSampler',
    'RandomPerturbSnippets', 'AttentionMutualLoss', 'BackgroundMILLoss',
    'UncertaintyGuideLoss', 'VideoEvidentialLoss'
]
