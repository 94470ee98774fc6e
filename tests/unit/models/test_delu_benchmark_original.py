# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU's original arithmetic for the iteration benchmark
(``refineloc_mm/base_models/delu/benchmark_original.py``): with the
original's fixture weights on the fixture inputs, its forward outputs,
losses and loss gradients equal what the original code computed
(``tests/data/reference/base_models/delu``, copied from
``shared/reference/base_models``). A change to that arithmetic fails
here."""
import numpy as np
import pytest
import torch

from helpers.parity import fixture_tensor as _t
from helpers.parity import fixture_tensors
from refineloc_mm.base_models.delu import benchmark_original as O


@pytest.fixture(scope='module')
def delu_fixtures(reference_dir):
    return np.load(reference_dir / 'base_models' / 'delu' /
                   'delu_fixtures.npz')


def _delu_model(z, case='delu_2048'):
    model = O.DELUOriginal().eval()
    model.load_state_dict(fixture_tensors(z, f'{case}/state/'))
    return model


def _train_batch(z, case):
    prefix = 'delu_2048/input/features/'
    names = sorted(k[len(prefix):] for k in z.files if k.startswith(prefix))
    return torch.stack([
        _t(z, prefix + n)[_t(z, f'{case}/train/input/perturb_idx/{n}')]
        for n in names
    ])


def test_delu_forward_equals_the_original(delu_fixtures):
    z = delu_fixtures
    model = _delu_model(z)
    for name in ('video_test_0000000', 'video_test_0000007'):
        x = _t(z, f'delu_2048/input/features/{name}')[None]
        with torch.no_grad():
            out = model(x)
        for key in ('cas', 'attn', 'v_atn', 'f_atn'):
            torch.testing.assert_close(
                out[key][0], _t(z, f'delu_2048/forward/{name}/{key}'),
                rtol=0, atol=1e-5)
        torch.testing.assert_close(
            out['feat'][0].mean(0),
            _t(z, f'delu_2048/forward/{name}/feat_mean_over_time'),
            rtol=0, atol=1e-5)


def test_delu_losses_equal_the_original(delu_fixtures):
    """The training batch resampled to T = 50: forward, then every
    weighted loss term at three curriculum iterations."""
    z, case = delu_fixtures, 'delu_2048_t50'
    model = _delu_model(z)
    with torch.no_grad():
        out = model(_train_batch(z, case))
    for key in ('cas', 'attn', 'v_atn', 'f_atn'):
        torch.testing.assert_close(
            out[key], _t(z, f'{case}/train/forward/{key}'), rtol=0,
            atol=1e-5)
    labels = _t(z, 'delu_2048/input/labels').float()
    for itr in (0, 1000, 3750):
        with torch.no_grad():
            losses = O.delu_loss(out, labels, itr)
        for key, value in losses.items():
            ref = float(z[f'{case}/train/loss/itr{itr}/{key}'])
            assert float(value) == pytest.approx(
                ref, abs=1e-5, rel=1e-5), (itr, key)


def test_delu_loss_gradients_equal_the_original(delu_fixtures):
    """The gradients of the total loss w.r.t. cas, attn, v_atn and f_atn
    (each a leaf) at iteration 1000 (the co-activity term only reaches
    cas through the suppressed CAS, with the forward's own feat)."""
    z, case = delu_fixtures, 'delu_2048_t50'
    model = _delu_model(z)
    with torch.no_grad():
        out = model(_train_batch(z, case))
    leaves = {k: out[k].clone().requires_grad_(True)
              for k in ('cas', 'attn', 'v_atn', 'f_atn')}
    loss = O.delu_loss(dict(out, **leaves),
                       _t(z, 'delu_2048/input/labels').float(),
                       1000)['total_loss']
    loss.backward()
    for key, leaf in leaves.items():
        torch.testing.assert_close(
            leaf.grad, _t(z, f'{case}/train/grad_itr1000/{key}'), rtol=0,
            atol=1e-6)
