# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net's original arithmetic for the iteration benchmark
(``refineloc_mm/base_models/basnet/benchmark_original.py``): with the
original's fixture weights on the fixture inputs, its forward outputs and
losses equal what the original code computed
(``tests/data/reference/base_models``, copied from
``shared/reference/base_models``), and a hand-computed case pins the loss.
A change to that arithmetic fails here."""
import math

import numpy as np
import pytest
import torch

from helpers.parity import fixture_tensor as _t
from helpers.parity import fixture_tensors
from refineloc_mm.base_models.basnet import benchmark_original as O


@pytest.fixture(scope='module')
def base_fixtures(reference_dir):
    return np.load(reference_dir / 'base_models' / 'base_model_fixtures.npz')


def test_basnet_forward_and_losses_equal_the_original(base_fixtures):
    z, case = base_fixtures, 'basnet_small_t200'
    x = _t(z, f'{case}/input/x')
    model = O.BaSNetOriginal(x.shape[2], 20).eval()
    model.load_state_dict(fixture_tensors(z, f'{case}/state/'))
    with torch.no_grad():
        out = model(x)
        losses = O.basnet_loss(out[0], out[2], out[4],
                               _t(z, f'{case}/input/labels'))
    for name, value in zip(('score_base', 'cas_base', 'score_supp',
                            'cas_supp', 'fore_weights'), out):
        torch.testing.assert_close(
            value, _t(z, f'{case}/forward/{name}'), rtol=0, atol=1e-5)
    for key in ('loss_base', 'loss_supp', 'loss_total'):
        assert float(losses[key]) == pytest.approx(
            float(z[f'{case}/loss/{key}']), abs=1e-5), key
    assert float(losses['loss_norm']) == pytest.approx(
        float(z[f'{case}/loss/loss_norm']), rel=1e-5)


def test_basnet_loss_hand_computed():
    """B = 1, C = 1: scores (0.25, 0.75) / (0.5, 0.5), w = (0.5, -1)."""
    labels = torch.tensor([[1.]])
    base = torch.tensor([[0.25, 0.75]])
    supp = torch.tensor([[0.5, 0.5]])
    w = torch.tensor([[[0.5], [-1.]]])
    losses = O.basnet_loss(base, supp, w, labels, alpha=0.1)
    # base target (0.5, 0.5): BCE = -(0.5 log .25 + 0.5 log .75 +
    # 0.5 log .75 + 0.5 log .25) / 2
    expect_base = -(math.log(0.25) + math.log(0.75)) / 2
    # target (1, 0): -(log .5 + log (1 - .5)) / 2
    expect_supp = -math.log(0.5)
    assert float(losses['loss_base']) == pytest.approx(expect_base)
    assert float(losses['loss_supp']) == pytest.approx(expect_supp)
    assert float(losses['loss_norm']) == pytest.approx(1.5)
    assert float(losses['loss_total']) == pytest.approx(
        expect_base + expect_supp + 0.15)
