# Copyright (c) refineloc-mm contributors. All rights reserved.
"""RefineLoc localizer: (optional backbone/neck) + RefineLoc head."""
from typing import Dict, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel, BaseModule

from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList


def snippet_mask(data_samples: SampleList, num_snippets: int,
                 device: torch.device) -> torch.Tensor:
    """[B, T] bool mask, True on the real snippets of each video."""
    lengths = torch.tensor(
        [ds.metainfo['num_snippets'] for ds in data_samples], device=device)
    return torch.arange(num_snippets, device=device)[None] < lengths[:, None]


@MODELS.register_module()
class RefineLoc(BaseModel):
    """Weakly-supervised temporal action localizer of RefineLoc.

    Inputs are the snippets of a batch of videos, packed. With
    pre-extracted features the backbone is the identity; any registered
    MMAction2 backbone may be given instead, applied to every snippet clip
    of every video at once and globally average-pooled to one feature
    vector per snippet.

    Args:
        cls_head (dict): Config of :class:`RefineLocHead`.
        backbone (dict, optional): Backbone config. None for features.
        neck (dict, optional): Neck config applied after the backbone.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='SnippetDataPreprocessor')``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 cls_head: ConfigType,
                 backbone: OptConfigType = None,
                 neck: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SnippetDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if backbone else None
        self.neck = MODELS.build(neck) if neck else None
        self.cls_head = MODELS.build(cls_head)

    def reset_parameters(self) -> None:
        """Fresh weights for a new refinement round (model reset): every
        layer is re-drawn as when built, then the ``init_cfg``s (e.g.
        pretrained backbone weights) are applied again."""
        for m in self.modules():
            if m is not self and hasattr(m, 'reset_parameters'):
                m.reset_parameters()
            if isinstance(m, BaseModule):
                m.is_init = False  # let init_weights run again
        self.init_weights()

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Snippet features of packed snippets.

        Args:
            inputs (Tensor): [S, D] features, or [S, *clip_shape] snippet
                clips when a backbone is set (S snippets of all videos).

        Returns:
            Tensor: [S, D'].
        """
        if self.backbone is None:
            return inputs
        x = self.backbone(inputs)
        if self.neck is not None:
            x = self.neck(x)
        if isinstance(x, tuple):
            x = x[-1]
        return x.flatten(2).mean(-1) if x.dim() > 2 else x

    def _packed_features(self, inputs: torch.Tensor,
                         data_samples: Optional[SampleList]
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Packed snippet features [S, D'] and the [B, T] snippet mask.

        ``inputs`` are packed ([S, ...], as the data preprocessor makes
        them) or padded ([B, T, ...], e.g. a user tensor); without data
        samples a padded input is taken as B full-length videos.
        """
        if data_samples is None:
            b, t = inputs.shape[:2]
            mask = inputs.new_ones((b, t), dtype=torch.bool)
            return self.extract_feat(inputs.flatten(0, 1)), mask
        lengths = [ds.metainfo['num_snippets'] for ds in data_samples]
        mask = snippet_mask(data_samples, max(lengths), inputs.device)
        if inputs.shape[0] != sum(lengths):
            inputs = inputs[mask]  # padded [B, T, ...] -> packed
        return self.extract_feat(inputs), mask

    @torch.no_grad()
    def snippet_scores(self, inputs: torch.Tensor,
                       data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Snippet- and video-level scores used by the pseudo ground truth
        generators: ``cas_softmax`` [B, T, N], ``foreground`` [B, T],
        ``video_score`` [B, N] and the snippet ``mask`` [B, T]."""
        x, mask = self._packed_features(inputs, data_samples)
        cas, attention = self.cls_head(x, mask)
        out = self.cls_head.video_level(cas, attention, mask)
        out['mask'] = mask
        return out

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, torch.Tensor], SampleList,
                           Tuple[torch.Tensor, torch.Tensor]]:
        """``loss`` -> dict of losses; ``predict`` -> data samples with
        ``pred_segments``; ``tensor`` -> (C [B, T, N], A [B, T, k]).

        Args:
            inputs (Tensor): Packed snippets [S, ...] (from
                :class:`SnippetDataPreprocessor`) or padded [B, T, ...].
            data_samples (list[ActionDataSample], optional): Give each
                video's ``num_snippets``; required for loss and predict.
        """
        x, mask = self._packed_features(inputs, data_samples)
        if mode == 'tensor':
            return self.cls_head(x, mask)
        if mode == 'loss':
            return self.cls_head.loss(x, mask, data_samples)
        if mode == 'predict':
            return self.cls_head.predict(x, mask, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". '
                           'Only supports loss, predict and tensor mode')
