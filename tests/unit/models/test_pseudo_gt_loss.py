# Copyright (c) refineloc-mm contributors. All rights reserved.
"""PseudoGTLoss: finite on saturated outputs, blind to ignored snippets, and
equal to the per-video weighted mean it documents."""
import math

import pytest
import torch
import torch.nn.functional as F

from refineloc_mm.models.losses import PseudoGTLoss

INPUTS = ('logits', 'probs', 'two_class_logits')
WEIGHTINGS = ('none', 'class_balanced', 'sqrt_pos_weight')


def reference_loss(pred, labels, mask, input_type, weighting, fg_weight):
    """The documented loss, one video and one snippet at a time (float64)."""
    per_video = []
    for b in range(len(labels)):
        num = den = 0.
        for t in range(labels.shape[1]):
            y = int(labels[b, t])
            if y < 0 or not mask[b, t]:
                continue
            if input_type == 'two_class_logits':
                loss = -float(torch.log_softmax(pred[b, t].double(), 0)[y])
            else:
                p = float(torch.sigmoid(pred[b, t].double())) \
                    if input_type == 'logits' else float(pred[b, t])
                loss = -math.log(p) if y == 1 else -math.log(1. - p)
            w = 1.
            if weighting == 'sqrt_pos_weight' and y == 1:
                loss *= math.sqrt(fg_weight)
            if weighting == 'class_balanced':
                w = fg_weight if y == 1 else 1. - fg_weight
            num += w * loss
            den += w
        if den > 0:
            per_video.append(num / den)
    return sum(per_video) / len(per_video)


def random_case(input_type, seed=0):
    g = torch.Generator().manual_seed(seed)
    B, T = 3, 7
    shape = (B, T, 2) if input_type == 'two_class_logits' else (B, T)
    pred = torch.randn(shape, generator=g)
    if input_type == 'probs':
        pred = torch.sigmoid(pred)
    labels = torch.randint(-1, 2, (B, T), generator=g)
    labels[2] = -1  # a video without labels is left out of the mean
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, 5:] = False
    labels[1, 5:] = 1  # labels on padding are ignored
    return pred, labels, mask


@pytest.mark.parametrize('weighting', WEIGHTINGS)
@pytest.mark.parametrize('input_type', INPUTS)
def test_equals_per_video_weighted_mean(input_type, weighting):
    pred, labels, mask = random_case(input_type)
    loss = PseudoGTLoss(input_type, weighting, loss_weight=2.)(
        pred, labels, mask, fg_weight=0.3)
    expected = reference_loss(pred, labels, mask, input_type, weighting, 0.3)
    assert float(loss) == pytest.approx(2. * expected, rel=1e-5)


@pytest.mark.parametrize('weighting', WEIGHTINGS)
@pytest.mark.parametrize('input_type', INPUTS)
def test_saturated_ignored_snippets_give_finite_loss_and_gradient(
        input_type, weighting):
    """Outputs saturated on the wrong side of ignored snippets (a sigmoid
    that returned exactly 1.0 on background) must neither reach the loss
    nor its gradient: -log(1 - 1) = inf times a zero weight is NaN."""
    pred, labels, mask = random_case(input_type, seed=1)
    ignored = labels < 0
    if input_type == 'probs':
        pred[ignored] = 1.0
        assert float(torch.sigmoid(torch.tensor(17.))) == 1.0
    elif input_type == 'logits':
        pred[ignored] = 1e4
    else:
        pred[ignored] = torch.tensor([-1e4, 1e4])
    pred = pred.clone().requires_grad_(True)
    loss = PseudoGTLoss(input_type, weighting)(pred, labels, mask,
                                               fg_weight=0.4)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pred.grad).all()
    assert (pred.grad[ignored] == 0).all()
    clean, _, _ = random_case(input_type, seed=1)
    expected = PseudoGTLoss(input_type, weighting)(clean, labels, mask,
                                                   fg_weight=0.4)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize('input_type', ('logits', 'probs'))
def test_saturated_labelled_snippets_stay_finite(input_type):
    """A labelled snippet saturated against its label gives a large but
    finite loss and gradient (BCE's logs are clamped at -100)."""
    labels = torch.tensor([[0, 1, 0, 1]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    if input_type == 'probs':
        pred = torch.tensor([[1., 0., 0.5, 0.5]], requires_grad=True)
    else:
        pred = torch.tensor([[60., -60., 0., 0.]], requires_grad=True)
    loss = PseudoGTLoss(input_type, 'sqrt_pos_weight')(pred, labels, mask,
                                                       fg_weight=0.5)
    loss.backward()
    assert torch.isfinite(loss) and float(loss) > 20
    assert torch.isfinite(pred.grad).all()


def test_sigmoid_saturation_through_a_training_step():
    """The failure of issue 16: w = sigmoid(z) saturates at exactly 1.0 on an
    ignored background snippet; one optimizer step must stay finite."""
    z = torch.tensor([[20., 20., -3., 2.]], requires_grad=True)
    labels = torch.tensor([[-1, 1, 0, 1]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    w = torch.sigmoid(z)
    assert float(w[0, 0]) == 1.0
    loss = PseudoGTLoss('probs', 'sqrt_pos_weight', loss_weight=2.)(
        w, labels, mask, fg_weight=0.4)
    loss.backward()
    assert torch.isfinite(z.grad).all() and float(z.grad[0, 0]) == 0.
    expected = 2. * F.binary_cross_entropy(
        w[0, 1:].detach(), torch.tensor([1., 0., 1.]),
        weight=torch.tensor([math.sqrt(0.4), 1., math.sqrt(0.4)]))
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_no_labels_is_a_zero_in_the_graph():
    pred = torch.randn(2, 5, requires_grad=True)
    mask = torch.ones(2, 5, dtype=torch.bool)
    for labels in (None, torch.full((2, 5), -1)):
        loss = PseudoGTLoss()(pred, labels, mask)
        assert float(loss) == 0. and loss.requires_grad
