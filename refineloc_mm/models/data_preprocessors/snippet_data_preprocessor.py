# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Packs variable-length snippet sequences into one batch tensor."""
from typing import Dict, List, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class SnippetDataPreprocessor(BaseDataPreprocessor):
    """Moves a batch to the model's device and packs its videos.

    ``inputs`` arrive as a list of B tensors of shape [T_i, ...] (mmengine's
    ``pseudo_collate``); they leave as one packed [sum T_i, ...] tensor, so
    that no computation is spent on padding (THUMOS14 video lengths vary
    by two orders of magnitude). The model derives the [B, T] snippet mask
    from each data sample's ``num_snippets`` and pads only the small
    per-snippet outputs.
    """

    def forward(self, data: Dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        inputs: Union[List[torch.Tensor], torch.Tensor] = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.cat(list(inputs), dim=0)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
