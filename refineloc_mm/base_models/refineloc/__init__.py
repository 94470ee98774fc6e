# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc (Pardo et al., WACV 2021) as a base model: its localizer,
head, loss and action segment prediction module (registered on import;
configs import this subpackage through ``custom_imports``)."""
from .action_segment_predictor import ActionSegmentPredictor
from .refineloc import RefineLoc
from .refineloc_head import RefineLocHead
from .refineloc_loss import RefineLocLoss

__all__ = [
    'RefineLoc', 'RefineLocHead', 'RefineLocLoss', 'ActionSegmentPredictor'
]
