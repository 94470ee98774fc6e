# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net's refinement recipe (issue 16): the pseudo labels are cut from
the foreground weights w in seconds (one threshold, the video's classes)
and supervise the suppression CAS logit of the video's labelled classes,
which is what BaS-Net's test reads. Planted cases for every piece."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.basnet  # noqa: F401
from mmaction.registry import MODELS, TASK_UTILS
from mmaction.structures import ActionDataSample
from refineloc_mm.models.utils.snippet_ops import max_over_labelled_classes
from refineloc_mm.models.task_modules.pseudo_gt_generator import \
    segments_to_labels

SYNTHETIC = 'configs/basnet/refineloc-basnet_i3d_4x60e_synthetic.py'


def build_head(**kw):
    init_default_scope('mmaction')
    cfg = dict(type='BaSNetHead', num_classes=3, in_channels=6,
               cas_channels=8, filter_channels=4,
               pseudo_gt_target='suppression_cas',
               pseudo_gt_loss=dict(type='PseudoGTLoss'))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_labelled_class_logit_reads_only_the_video_classes():
    """The logit the CAS targets supervise (``max_over_labelled_classes``
    on BaS-Net's [B, T, C + 1] CAS). Planted: the video is labelled with
    classes 0 and 2; class 1 is high everywhere and must not enter; the
    background column neither."""
    cas = torch.full((1, 4, 4), -5.)
    cas[0, :, 1] = 9.  # an unlabelled class
    cas[0, :, 3] = 9.  # the background logit
    cas[0, 0, 0] = 2.
    cas[0, 1, 2] = 3.
    labels = torch.tensor([[1., 0., 1.]])
    out = max_over_labelled_classes(cas, labels)
    assert out.tolist() == [[2., 3., -5., -5.]]
    # a video without labels: max over the action classes (not background)
    out = max_over_labelled_classes(cas, torch.zeros(1, 3))
    assert out.tolist() == [[9.] * 4]


@pytest.mark.parametrize('target,cas_index,reaches_w',
                         [('suppression_cas', 3, True),
                          ('base_cas', 1, False)])
def test_cas_target_value_and_gradient(target, cas_index, reaches_w):
    """The pseudo ground truth loss equals PseudoGTLoss(logits) on the
    labelled classes' logit of the target's CAS (suppression or base
    branch) and its gradient reaches the CAS module (what the test reads),
    not only w; the base branch's loss cannot reach w (the filtering
    module), the suppression branch's does (its input is w * x)."""
    init_default_scope('mmaction')
    torch.manual_seed(0)
    head = MODELS.build(dict(
        type='BaSNetHead', num_classes=3, in_channels=6, cas_channels=8,
        filter_channels=4, pseudo_gt_target=target,
        pseudo_gt_loss=dict(type='PseudoGTLoss', input_type='logits',
                            loss_weight=1.0)))
    assert head.pseudo_label_branch == 'cas_module'
    lengths, t = [10, 10], 10
    x = torch.randn(sum(lengths), 6)
    mask = torch.ones(2, t, dtype=torch.bool)
    pseudo = torch.tensor([[1] * 5 + [0] * 5, [-1, 0] * 5])
    samples = []
    for i in range(2):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=t,
                             snippet_size=16, fps=25., fg_weight=0.5))
        ds.gt_label = torch.tensor([1., 0., 0.]) if i == 0 else \
            torch.tensor([0., 1., 1.])
        ds.pseudo_label = pseudo[i]
        samples.append(ds)
    losses = head.loss(x, mask, samples)
    head.eval()  # no dropout: the reference below is deterministic
    losses = head.loss(x, mask, samples)
    cas = head(x, mask)[cas_index]
    logit = torch.stack([cas[0, :, 0], cas[1, :, 1:3].amax(-1)])
    ref = MODELS.build(dict(type='PseudoGTLoss', input_type='logits'))(
        logit, pseudo, mask, 0.5)
    torch.testing.assert_close(losses['loss_pseudo_gt'], ref)
    cas_params = list(head.cas_module.parameters())
    w_params = list(head.filter_module.parameters())
    grads = torch.autograd.grad(losses['loss_pseudo_gt'],
                                cas_params + w_params, allow_unused=True)
    assert all(g.abs().sum() > 0 for g in grads[:len(cas_params)])
    assert any(g is not None and g.abs().sum() > 0
               for g in grads[len(cas_params):]) == reaches_w


def test_suppression_cas_target_needs_logits():
    with pytest.raises(ValueError, match="must be 'logits'"):
        build_head(pseudo_gt_loss=dict(type='PseudoGTLoss',
                                        input_type='probs'))
    with pytest.raises(ValueError, match='pseudo_gt_target'):
        build_head(pseudo_gt_target='cas_base')
    # the default (foreground weights) keeps probabilities
    head = MODELS.build(dict(type='BaSNetHead', num_classes=3,
                             in_channels=6, cas_channels=8,
                             filter_channels=4))
    assert head.pseudo_gt_target == 'foreground_weights'
    assert head.pseudo_gt_loss.input_type == 'probs'


def post(**kw):
    init_default_scope('mmaction')
    return TASK_UTILS.build(dict(type='BaSNetPostProcessor', **kw))


def test_foreground_activation_cuts_runs_of_w():
    """Planted: w is 1 on resampled snippets 3..5 of 12 and 0 elsewhere,
    the CAS says something else entirely; with activation='foreground' and
    one threshold the only segment per class is w's run, at the right
    seconds (x24 upsampling: the run ends where the interpolation crosses
    0.5)."""
    t = 12
    cas = torch.zeros(1, t, 3)
    cas[0, 8:, 0] = 5.  # the CAS would put class 0 at the end
    w = torch.zeros(1, t)
    w[0, 3:6] = 1.
    score = torch.tensor([[0.6, 0.3, 0.1]])
    mask = torch.ones(1, t, dtype=torch.bool)
    p = post(activation='foreground', class_thresh=0., act_thresh=[0.5])
    segs = p(cas, score, mask, [2.0], foreground=w)[0]
    # every class gets w's run; the class filter of the generator picks
    assert sorted(segs[:, 2].tolist()) == [0., 1.]
    # positions 3 - 12/24 .. 5 + 12/24 at 1/12 s each (2 s per snippet)
    np.testing.assert_allclose(segs[:, 0], (3 * 24 - 12) / 12.)
    np.testing.assert_allclose(segs[:, 1], (5 * 24 + 13) / 12.)
    # the original activation reads the CAS: class 0 at the end
    segs = post(class_thresh=0., act_thresh=[0.5])(cas, score, mask,
                                                   [2.0])[0]
    assert (segs[:, 0] >= 7 * 2.0).all()
    with pytest.raises(ValueError, match='foreground weights'):
        p.proposals(np.zeros((t, 2), np.float32), np.ones(2), 1.)
    with pytest.raises(ValueError, match='activation'):
        post(activation='w')


def test_cas_x_foreground_activation_gates_after_normalisation():
    """The normalised CAS times w: a CAS run where w is 0 disappears, the
    normalisation still sees the whole video."""
    t = 8
    cas = torch.zeros(1, t, 3)  # 2 classes + background
    cas[0, 1:3, 1] = 1.
    cas[0, 5:7, 1] = 1.
    w = torch.zeros(1, t)
    w[0, 5:7] = 1.
    score = torch.tensor([[0.0, 0.9, 0.1]])
    mask = torch.ones(1, t, dtype=torch.bool)
    segs = post(activation='cas_x_foreground', scale=1,
                act_thresh=[0.5])(cas, score, mask, [1.0], foreground=w)[0]
    assert segs[:, :2].tolist() == [[5., 7.]]


def test_foreground_segments_map_to_raw_snippets_in_seconds():
    """A run of w on the resampled grid (T = 8 for L = 32 raw snippets)
    becomes the raw snippets it covers in time (4 per resampled snippet),
    not 'resampled units' counted on the raw grid."""
    raw, t, fps, size = 32, 8, 25., 16
    w = torch.zeros(1, t)
    w[0, 2:4] = 1.  # raw snippets 8 .. 15
    cas = torch.zeros(1, t, 3)  # 2 classes + background
    p = post(activation='foreground', class_thresh=0., act_thresh=[0.5],
             scale=24)
    seconds_per_resampled = size * raw / t / fps  # 2.56 s
    segs = p(cas, torch.tensor([[0.5, 0.5, 0.]]),
             torch.ones(1, t, dtype=bool), [seconds_per_resampled],
             foreground=w)[0]
    assert len(segs) == 2  # one per class, the same run
    # the interpolated w crosses 0.5 at resampled positions 1.5 and 3.5:
    # upsampled positions 36 .. 84, i.e. 3.84 s .. 85 / 24 * 2.56 s
    np.testing.assert_allclose(segs[0, :2], [3.84, 85 / 24 * 2.56])
    fg = segments_to_labels([segs], np.array([raw]), np.array([fps]),
                            np.array([size]))
    # raw snippets of 0.64 s: round(6.0) .. round(14.17) inclusive
    assert np.flatnonzero(fg).tolist() == list(range(6, 15))


def test_synthetic_recipe_keys():
    """The synthetic config's recipe: labels from w with one threshold,
    restricted to the video's classes, supervising the CAS's logits
    through the base branch (not w); both streams; its test thresholds
    are a key."""
    cfg = Config.fromfile(SYNTHETIC)
    head = cfg.model.cls_head
    assert head.pseudo_gt_target == 'base_cas'
    assert head.in_channels == 2048
    assert cfg.train_dataloader.dataset.dataset.stream == 2
    assert head.pseudo_gt_loss.input_type == 'logits'
    gen = cfg.default_hooks.pseudo_labels.generator
    assert gen.video_label_classes_only is True
    assert gen.post_processor.activation == 'foreground'
    assert len(gen.post_processor.act_thresh) == 1
    assert cfg.model.cls_head.post_processor.act_thresh is not None
    assert cfg.train_dataloader.dataset.dataset.pipeline[1].num_segments \
        >= 256


def test_base_branch_needs_no_input_gradient():
    """Speed (issue 16, item 5): the base branch's CAS pass reads the raw
    features, which need no gradient; only the suppression pass (w * x)
    does. A single pass over both concatenated would need the input
    gradient of the first (largest) convolution for the base half too."""
    init_default_scope('mmaction')
    head = MODELS.build(dict(type='BaSNetHead', num_classes=3,
                             in_channels=6, cas_channels=8,
                             filter_channels=4))
    calls = []
    head.cas_module.conv_1[0].register_forward_hook(
        lambda mod, inp, out: calls.append(
            (inp[0].shape[0], inp[0].requires_grad)))
    x = torch.randn(2 * 10, 6)
    head(x, torch.ones(2, 10, dtype=torch.bool))
    assert calls == [(2, False), (2, True)]
