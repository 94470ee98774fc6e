# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The helpers the base models' heads share: ``stack_video_labels``'s
label check (exact messages of W-TALC's and DELU's heads) and
``topk_counts``, which DELU's ``'eighth'`` video score uses."""
import re

import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.delu  # noqa: F401
from mmaction.registry import MODELS
from refineloc_mm.models.utils.snippet_ops import (length_mask,
                                                   stack_video_labels,
                                                   topk_counts)


class _Sample:

    def __init__(self, name, labels):
        self.metainfo = dict(video_name=name)
        self.gt_label = torch.tensor(labels, dtype=torch.float32)


def test_topk_counts_ceil_is_delu_eighth():
    lengths = torch.arange(0, 70)
    mask = length_mask(lengths.tolist(), 70, lengths.device)
    assert torch.equal(
        topk_counts(mask, 8, 'ceil'),
        torch.div(lengths + 7, 8, rounding_mode='floor'))


def test_delu_eighth_video_score():
    init_default_scope('mmaction')
    head = MODELS.build(
        dict(type='DELUHead', num_classes=3, in_channels=8,
             attention_channels=4, cls_channels=6,
             video_score_topk='eighth'))
    lengths = [17, 8, 1]
    mask = length_mask(lengths, 17, torch.device('cpu'))
    cas = torch.randn(3, 17, 4)
    expected = []
    for b, n in enumerate(lengths):
        k = -(-n // 8)
        expected.append(cas[b, :n].topk(k, dim=0)[0].mean(0))
    torch.testing.assert_close(
        head.video_score(cas, mask), torch.softmax(torch.stack(expected), -1))


@pytest.mark.parametrize('need, text', [
    ("W-TALC's MIL loss needs", "W-TALC's MIL loss needs at least one"),
    ("DELU's losses need", "DELU's losses need at least one"),
])
def test_stack_video_labels_require_label(need, text):
    samples = [_Sample('a', [0, 1]), _Sample('b', [0, 0]),
               _Sample('c', [0, 0])]
    labels = stack_video_labels(samples, 2, torch.device('cpu'))
    assert labels.tolist() == [[0, 1], [0, 0], [0, 0]]
    with pytest.raises(
            ValueError,
            match=re.escape(f"videos ['b', 'c'] have no action label: "
                            f'{text} class per training video.')):
        stack_video_labels(samples, 2, torch.device('cpu'),
                           require_label=need)
    stack_video_labels(samples[:1], 2, torch.device('cpu'),
                       require_label=need)
