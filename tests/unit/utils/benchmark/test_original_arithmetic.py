# Copyright (c) refineloc-mm contributors. All rights reserved.
"""The iteration benchmark's "original" side
(:mod:`refineloc_mm.utils.benchmark.originals`) is the originals'
arithmetic: with the originals' fixture weights on the fixture inputs, its
forward outputs and losses equal what the original code computed
(``tests/data/reference/base_models``, copied from
``shared/reference/base_models``), and a hand-computed case pins BaS-Net's
loss. A change to that arithmetic fails here."""
import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from refineloc_mm.utils.benchmark import originals as O

DATA = Path(__file__).parents[3] / 'data' / 'reference' / 'base_models'


@pytest.fixture(scope='module')
def base_fixtures():
    return np.load(DATA / 'base_model_fixtures.npz')


@pytest.fixture(scope='module')
def delu_fixtures():
    return np.load(DATA / 'delu' / 'delu_fixtures.npz')


def _state(z, case):
    prefix = f'{case}/state/'
    return {
        k[len(prefix):]: torch.from_numpy(z[k])
        for k in z.files if k.startswith(prefix)
    }


def _t(z, key):
    return torch.from_numpy(np.asarray(z[key]))


def test_originals_import_torch_only():
    """The original side must not depend on this project's models."""
    tree = ast.parse(Path(O.__file__).read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'no relative imports'
            modules.add(node.module.split('.')[0])
    assert modules <= {'math', 'typing', 'torch'}, modules


def test_wtalc_forward_and_losses_equal_the_original(base_fixtures):
    z, case = base_fixtures, 'wtalc_small'
    model = O.WTALCOriginal(64, 20).eval()
    model.load_state_dict(_state(z, case))
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


def test_basnet_forward_and_losses_equal_the_original(base_fixtures):
    z, case = base_fixtures, 'basnet_small_t200'
    x = _t(z, f'{case}/input/x')
    model = O.BaSNetOriginal(x.shape[2], 20).eval()
    model.load_state_dict(_state(z, case))
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


def _delu_model(z, case='delu_2048'):
    model = O.DELUOriginal().eval()
    model.load_state_dict(_state(z, case))
    return model


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
    prefix = 'delu_2048/input/features/'
    names = sorted(k[len(prefix):] for k in z.files if k.startswith(prefix))
    x = torch.stack([
        _t(z, prefix + n)[_t(z, f'{case}/train/input/perturb_idx/{n}')]
        for n in names
    ])
    with torch.no_grad():
        out = model(x)
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
    prefix = 'delu_2048/input/features/'
    names = sorted(k[len(prefix):] for k in z.files if k.startswith(prefix))
    x = torch.stack([
        _t(z, prefix + n)[_t(z, f'{case}/train/input/perturb_idx/{n}')]
        for n in names
    ])
    with torch.no_grad():
        out = model(x)
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


@pytest.mark.parametrize('name', sorted(O.ORIGINAL_STEPS))
def test_original_steps_train(name):
    """Each original's iteration runs on tiny shapes and updates the
    weights (the loss is finite)."""
    widths = dict(cas_channels=16, filter_channels=8, attention_channels=8,
                  cls_channels=16)
    torch.manual_seed(0)
    step, model = O.ORIGINAL_STEPS[name](
        batch=6, num_snippets=24, in_channels=16, num_classes=4, **widths)
    before = [p.detach().clone() for p in model.parameters()]
    loss = step()
    assert torch.isfinite(loss)
    changed = [not torch.equal(b, p) for b, p in
               zip(before, model.parameters())]
    assert any(changed)


def test_benchmark_labels_pairs_share_a_class():
    labels = O.benchmark_labels(10, 20, 3)
    assert labels.sum(1).eq(1).all()
    for p in range(3):
        assert torch.equal(labels[2 * p], labels[2 * p + 1])
    assert F.cosine_similarity(labels[6], labels[7], dim=0) == 0
