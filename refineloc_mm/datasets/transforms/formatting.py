# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Packing of snippet features and labels into model inputs."""
from typing import Any, Dict

import torch
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample

# raw_num_snippets / raw_snippet_size: the raw snippet grid, set only by
# ResampleSnippets (pseudo labels and ground truth live on it)
META_KEYS = ('video_name', 'duration', 'fps', 'snippet_size',
             'num_snippets', 'fg_weight', 'raw_num_snippets',
             'raw_snippet_size')


@TRANSFORMS.register_module()
class PackSnippetInputs(BaseTransform):
    """Pack ``features`` as ``inputs`` ([T, D] tensor) and the labels into
    an :class:`ActionDataSample`.

    The data sample carries ``gt_label`` (multi-hot [N] float), the
    ``gt_segments`` ([G, 3]: t_start, t_end, class) used by the metric,
    ``pseudo_label`` ([T] long, -1/0/1) when the pseudo-label wrapper
    provides one, and the metainfo keys ``META_KEYS``. The length of the
    multi-hot label is ``num_classes``, set by the dataset.
    """

    def transform(self, results: Dict) -> Dict:
        sample = ActionDataSample()
        sample.set_metainfo(
            {k: results[k]
             for k in META_KEYS if k in results})
        label = torch.zeros(results['num_classes'])
        label[results['labels']] = 1.
        sample.gt_label = label
        sample.gt_segments = results['gt_segments']
        if 'pseudo_label' in results:
            sample.pseudo_label = torch.as_tensor(results['pseudo_label'],
                                                  dtype=torch.long)
        return dict(inputs=self.pack_inputs(results), data_samples=sample)

    def pack_inputs(self, results: Dict) -> Any:
        """``inputs`` of the packed sample: the [T, D] ``features`` as a
        tensor (subclasses pack other inputs)."""
        return torch.from_numpy(results['features'])
