# Copyright (c) refineloc-mm contributors. All rights reserved.
"""``UniformDropout`` (W-TALC's dropout): the distribution of
``torch.nn.Dropout`` from a uniform draw. Its speed is measured by
``docs/wtalc.md`` ("Time on 2 idle cores"), not here."""
import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.wtalc  # noqa: F401
from mmaction.registry import MODELS
from refineloc_mm.models.utils import UniformDropout


@pytest.mark.parametrize('p', [0.3, 0.7])
def test_keeps_each_element_with_one_minus_p_and_rescales(p):
    torch.manual_seed(0)
    drop = UniformDropout(p).train()
    x = torch.rand(400, 1000) + 0.5  # no zeros in the input
    y = drop(x)
    kept = y != 0
    # each kept element is x / (1 - p), the others are 0
    torch.testing.assert_close(y[kept], x[kept] / (1 - p))
    # share kept: 1 - p within 5 standard deviations of a binomial
    n = x.numel()
    std = (p * (1 - p) / n)**0.5
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * std
    # independent per element: the keep rate of every row and of every
    # column is 1 - p (no shared mask along a dimension)
    assert kept.float().mean(1).std() < 0.05
    assert kept.float().mean(0).std() < 0.05
    # the mean is preserved, as nn.Dropout's
    assert abs(y.mean().item() / x.mean().item() - 1) < 0.01
    # a new draw per call
    assert not torch.equal(drop(x) != 0, kept)


def test_gradient_is_the_scaled_mask():
    torch.manual_seed(0)
    drop = UniformDropout(0.7).train()
    x = torch.rand(50, 64, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    expected = (y.detach() != 0).float() / 0.3
    torch.testing.assert_close(x.grad, expected)


def test_eval_identity_and_edge_probabilities():
    x = torch.rand(8, 16) + 0.1
    assert UniformDropout(0.7).eval()(x) is x
    assert torch.equal(UniformDropout(0.).train()(x), x)
    assert torch.equal(UniformDropout(1.).train()(x), torch.zeros_like(x))
    half = UniformDropout(0.5).train()(x.to(torch.bfloat16))
    assert half.dtype == torch.bfloat16 and half.shape == x.shape
    with pytest.raises(ValueError, match='probability'):
        UniformDropout(1.5)


def test_wtalc_head_drops_its_embedding_with_it():
    """W-TALC's dropout on h is a UniformDropout of ``dropout_ratio``."""
    init_default_scope('mmaction')
    head = MODELS.build(
        dict(type='WTALCHead', num_classes=3, in_channels=8,
             dropout_ratio=0.6))
    assert isinstance(head.dropout, UniformDropout)
    assert head.dropout.p == 0.6
