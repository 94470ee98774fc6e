# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's original arithmetic for the iteration benchmark
(``refineloc_mm/base_models/wtalc/benchmark_original.py``): with the
original's fixture weights on the fixture inputs, its forward outputs and
losses equal what the original code computed
(``tests/data/reference/base_models``, copied from
``shared/reference/base_models``). A change to that arithmetic fails
here."""
import numpy as np
import pytest
import torch

from helpers.parity import fixture_tensor as _t
from helpers.parity import fixture_tensors
from refineloc_mm.base_models.wtalc import benchmark_original as O


@pytest.fixture(scope='module')
def base_fixtures(reference_dir):
    return np.load(reference_dir / 'base_models' / 'base_model_fixtures.npz')


def test_wtalc_forward_and_losses_equal_the_original(base_fixtures):
    z, case = base_fixtures, 'wtalc_small'
    model = O.WTALCOriginal(64, 20).eval()
    model.load_state_dict(fixture_tensors(z, f'{case}/state/'))
    prefix = f'{case}/input/features/'
    names = sorted(k[len(prefix):] for k in z.files if k.startswith(prefix))
    seq_len = _t(z, f'{case}/input/seq_len')
    x = torch.zeros(len(names), int(seq_len.max()), 64)
    for i, name in enumerate(names):
        x[i, :seq_len[i]] = _t(z, prefix + name)
    with torch.no_grad():
        h, cas = model(x)
        losses = O.wtalc_loss(h, cas, _t(z, f'{case}/input/labels'),
                              seq_len, num_pairs=3)
    for i, name in enumerate(names):
        torch.testing.assert_close(
            cas[i, :seq_len[i]],
            _t(z, f'{case}/forward/{name}/element_logits'),
            rtol=0, atol=1e-5)
    for key in ('milloss', 'casloss', 'total_loss'):
        assert float(losses[key]) == pytest.approx(
            float(z[f'{case}/loss/{key}']), abs=1e-5), key
