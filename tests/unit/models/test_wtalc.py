# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC's training data (batch sampler, random crop) and its attention
branch for the refinement (round 0 = plain W-TALC, gating after a loss step
with pseudo labels, reset, gradient of the pseudo ground truth loss)."""
import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import DefaultSampler
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import make_tiny_data
from mmaction.registry import DATASETS, MODELS, TASK_UTILS
from mmaction.structures import ActionDataSample
from refineloc_mm.base_models.wtalc import WTALCPostProcessor

init_default_scope('mmaction')


# ------------------------------------------------------------ the sampler
class LabelledVideos:
    """A dataset of ``len(labels)`` videos: item = its index."""

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        return dict(labels=self.labels[idx])

    def __getitem__(self, idx):
        return idx


def videos(num=40, num_classes=7, seed=0):
    rng = np.random.default_rng(seed)
    labels = [
        sorted(set(rng.integers(num_classes, size=rng.integers(1, 3))))
        for _ in range(num)
    ]
    labels[0] = []  # a background-only video: only drawn at random
    return LabelledVideos(labels)


def sampler_of(dataset, seed=0, rank=0, world_size=1, **kwargs):
    from refineloc_mm.base_models.wtalc import WTALCBatchSampler
    inner = DefaultSampler(dataset, seed=seed)
    inner.rank, inner.world_size = rank, world_size
    return WTALCBatchSampler(inner, batch_size=10, num_similar=3, **kwargs)


def test_sampler_composition():
    """3 pairs of videos that share a class, then 4 random videos; an
    epoch of ceil(N / 10) batches; seeded per epoch."""
    dataset = videos()
    sampler = sampler_of(dataset)
    assert len(sampler) == 4  # ceil(40 / 10)
    batches = list(sampler)
    assert len(batches) == 4
    drawn_classes, randoms = [], []
    for batch in batches:
        assert len(batch) == 10
        for i in (0, 2, 4):
            shared = set(dataset.labels[batch[i]]) & set(
                dataset.labels[batch[i + 1]])
            assert shared, (batch[i], batch[i + 1])
            drawn_classes.append(shared)
        randoms += batch[6:]
    assert list(sampler) == batches  # same epoch, same batches
    sampler.sampler.set_epoch(1)  # what DistSamplerSeedHook calls
    assert list(sampler) != batches
    sampler.sampler.set_epoch(0)
    assert list(sampler) == batches
    assert list(sampler_of(dataset, seed=1)) != batches
    # over many epochs: every class comes up in pairs, every video
    # (the unlabelled one too) at random
    many = np.concatenate([
        sampler_of(dataset, num_batches=200).epoch_batches(e)
        for e in range(3)
    ])
    assert set(many[:, 6:].ravel()) == set(range(40))
    assert 0 not in set(many[:, :6].ravel())
    # both videos of a pair are drawn among the class's videos
    labelled = set(range(1, 40))
    assert set(many[:, 0:6:2].ravel()) == set(many[:, 1:6:2].ravel()) == \
        labelled
    pair_classes = set()
    for b in many:
        for i in (0, 2, 4):
            pair_classes |= set(dataset.labels[b[i]]) & set(
                dataset.labels[b[i + 1]])
    assert pair_classes == set(range(7))


def test_sampler_ranks_share_the_epoch():
    """Rank r of W takes batches r, r + W, ... of the same epoch draw;
    every rank runs the same number of iterations."""
    dataset = videos()
    ranks = [
        sampler_of(dataset, rank=r, world_size=3, num_batches=7)
        for r in range(3)
    ]
    assert [len(s) for s in ranks] == [3, 3, 3]
    everything = ranks[0].epoch_batches()
    assert everything.shape == (9, 10)
    for r, s in enumerate(ranks):
        assert np.array_equal(np.array(list(s)), everything[r::3])
    single = sampler_of(dataset, num_batches=9)
    assert np.array_equal(np.array(list(single)), everything)


def test_sampler_through_runner_dataloader():
    """mmengine's Runner builds it from a ``batch_sampler`` config with the
    ``sampler`` config's seed and dataset."""
    dataset = videos()
    loader = Runner.build_dataloader(
        dict(
            batch_size=10,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='WTALCBatchSampler', num_similar=3,
                               num_batches=5),
            collate_fn=dict(type='default_collate'),
            dataset=dataset),
        seed=3)
    assert len(loader) == 5
    got = [b.tolist() for b in loader]
    assert got == loader.batch_sampler.epoch_batches(0).tolist()
    for b in got:
        assert set(dataset.labels[b[0]]) & set(dataset.labels[b[1]])


def test_sampler_rejects_bad_settings():
    from refineloc_mm.base_models.wtalc import WTALCBatchSampler
    with pytest.raises(ValueError, match='num_similar'):
        WTALCBatchSampler(DefaultSampler(videos(), seed=0), batch_size=5,
                          num_similar=3)
    with pytest.raises(ValueError, match='no training video has a class'):
        sampler_of(LabelledVideos([[]] * 4))


# ------------------------------------------------------------ the crop
@pytest.fixture(scope='module')
def planted(tmp_path_factory):
    """The tiny synthetic set, with feature channel 0 = snippet index + 1
    in every training video."""
    root = make_tiny_data(tmp_path_factory.mktemp('wtalc_crop'))
    with h5py.File(root / 'synthetic_valid_features.hdf5', 'r+') as f:
        for name in f:
            data = f[name][()]
            data[:, 0] = np.arange(len(data)) + 1
            f[name][...] = data
    return root


def crop_dataset(root, max_seqlen):
    return DATASETS.build(
        dict(
            type='PseudoLabelDataset',
            dataset=dict(
                type='SnippetFeatureDataset',
                data_root=str(root),
                ann_file='synthetic_valid_groundtruth.csv',
                feature_file='synthetic_valid_features.hdf5',
                stream=2,
                pipeline=[
                    dict(type='LoadSnippetFeatures'),
                    dict(type='RandomSnippetCrop', max_seqlen=max_seqlen),
                    dict(type='PackSnippetInputs')
                ])))


def test_crop_keeps_pseudo_labels_aligned(planted):
    """A label pattern planted in the pseudo labels and the snippet index
    planted in the features come back aligned through the pipeline, the
    W-TALC batch sampler and the packed collate, for random crops of the
    long videos; short videos and inference samples stay whole."""
    max_seqlen = 8
    dataset = crop_dataset(planted, max_seqlen)
    lengths = dataset.num_snippets
    assert (lengths > max_seqlen + 1).sum() >= 3
    rng = np.random.default_rng(0)
    pattern = rng.integers(-1, 2, size=int(lengths.sum()))
    dataset.set_labels(pattern, fg_weight=0.5)
    loader = Runner.build_dataloader(
        dict(
            batch_size=10,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='WTALCBatchSampler', num_batches=6),
            collate_fn=dict(type='packed_snippet_collate'),
            dataset=dataset),
        seed=0)
    starts = set()
    for data in loader:
        offset = 0
        for ds in data['data_samples']:
            t = ds.metainfo['num_snippets']
            feats = data['inputs'][offset:offset + t]
            offset += t
            idx = dataset.video_names.index(ds.metainfo['video_name'])
            raw = feats[:, 0].long().numpy() - 1  # planted snippet index
            assert t == min(lengths[idx], max_seqlen)
            assert np.array_equal(raw, raw[0] + np.arange(t))
            assert 0 <= raw[0] < max(lengths[idx] - max_seqlen, 1)
            expected = dataset.video_labels(idx)[raw]
            assert np.array_equal(ds.pseudo_label.numpy(), expected)
            if lengths[idx] > max_seqlen:
                starts.add((idx, int(raw[0])))
        assert offset == len(data['inputs'])
    assert len({s for _, s in starts}) > 1  # really random crops
    # inference samples (no pseudo_label): every snippet
    for i in range(len(dataset)):
        sample = dataset.dataset[i]
        assert sample['inputs'].shape[0] == lengths[i]
        assert 'pseudo_label' not in sample['data_samples']


def test_crop_composes_snippet_inds():
    crop = TRANSFORM_CROP(4)
    np.random.seed(0)
    out = crop(
        dict(num_snippets=10, pseudo_label=np.arange(10) % 2,
             sample_view='train', snippet_inds=np.arange(10) * 3,
             features=np.eye(10)))
    r = int(out['snippet_inds'][0]) // 3
    assert np.array_equal(out['snippet_inds'], (r + np.arange(4)) * 3)
    assert np.array_equal(out['pseudo_label'], (r + np.arange(4)) % 2)
    assert np.array_equal(out['features'], np.eye(10)[r:r + 4])
    assert out['num_snippets'] == 4
    with pytest.raises(ValueError, match='video "v".*pseudo_label'):
        crop(dict(num_snippets=10, video_name='v', pseudo_label=[0] * 9,
                  sample_view='train'))


def TRANSFORM_CROP(max_seqlen):
    from mmaction.registry import TRANSFORMS
    return TRANSFORMS.build(
        dict(type='RandomSnippetCrop', max_seqlen=max_seqlen))


# ------------------------------------------------- the attention branch
D, C = 16, 5


def wtalc(attention=True, detach=False, seed=0, **head_keys):
    torch.manual_seed(seed)
    head = dict(type='WTALCHead', num_classes=C, in_channels=D,
                dropout_ratio=0., **head_keys)
    if attention:
        head['attention'] = dict(num_layers=2, detach_embedding=detach)
    return MODELS.build(dict(type='WTALC', cls_head=head))


def inputs(pseudo=True, seed=1):
    g = torch.Generator().manual_seed(seed)
    lengths = [30, 17, 24, 40, 12, 33]
    samples = []
    for i, t in enumerate(lengths):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=t, fps=25.,
                             snippet_size=16, fg_weight=0.6))
        label = torch.zeros(C)
        label[[i // 2 % C]] = 1  # pairs (0, 1), (2, 3), (4, 5) share
        ds.gt_label = label
        if pseudo:
            ds.pseudo_label = torch.randint(-1, 2, (t, ), generator=g)
        samples.append(ds)
    x = torch.randn(sum(lengths), D, generator=g)
    x[:, :C] += 2.
    return x, samples


def predictions(model, x, samples):
    model.eval()
    out = model(x, [s.clone() for s in samples], mode='predict')
    return [s.pred_segments for s in out]


def test_embedding_width():
    """``embedding_channels`` E sizes h (fc: D -> E), the classifier and the
    branch's input; None keeps W-TALC's D -> D; a bad width is refused."""
    assert wtalc().cls_head.fc.weight.shape == (D, D)
    model = wtalc(embedding_channels=5)
    head = model.cls_head
    assert head.fc.weight.shape == (5, D)
    assert head.classifier.weight.shape == (C, 5)
    x, samples = inputs()
    h, cas, fg = head(x, torch.ones(1, x.shape[0], dtype=torch.bool))
    assert h.shape == (1, x.shape[0], 5) and cas.shape[-1] == C
    assert fg.shape == (1, x.shape[0])
    model.train()
    losses = model(x, samples, mode='loss')
    assert all(torch.isfinite(v).all() for v in losses.values())
    for bad in (0, 2.5):
        with pytest.raises(ValueError, match='embedding_channels'):
            wtalc(embedding_channels=bad)


def test_round_zero_is_plain_wtalc():
    """Before any loss step with pseudo labels the branch changes nothing:
    same scores (no foreground) and segments as W-TALC without branch."""
    plain, branch = wtalc(attention=False), wtalc()
    missing, unexpected = branch.load_state_dict(plain.state_dict(),
                                                 strict=False)
    assert not unexpected
    assert all(k.startswith('cls_head.fc_attention') or
               k == 'cls_head.attention_trained' for k in missing)
    x, samples = inputs(pseudo=False)
    scores = branch.snippet_scores(x, samples)
    assert 'foreground' not in scores
    ref = predictions(plain, x, samples)
    got = predictions(branch, x, samples)
    assert sum(len(s) for s in ref) > 0
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    # a training step without labels (round 0) keeps it plain
    branch.train()
    losses = branch(x, inputs(pseudo=False)[1], mode='loss')
    assert losses['loss_pseudo_gt'] == 0
    assert not branch.cls_head.uses_attention


def test_attention_gates_segments_after_labelled_step():
    """A loss step with pseudo labels marks the branch trained (saved in
    the state dict, cleared by a reset); then snippets with foreground <
    alpha_A are dropped before W-TALC's thresholding."""
    model = wtalc()
    x, samples = inputs()
    plain = predictions(model, x, samples)
    model.train()
    model(x, samples, mode='loss')
    head = model.cls_head
    assert head.uses_attention
    state = model.state_dict()
    assert state['cls_head.attention_trained'] == 1
    restored = wtalc(seed=5)
    assert not restored.cls_head.uses_attention
    restored.load_state_dict(state)
    assert restored.cls_head.uses_attention

    last = head.fc_attention.linear_1
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(10.)  # foreground ~1 everywhere: nothing dropped
    scores = model.snippet_scores(x, samples)
    assert (scores['foreground'][scores['mask']] > 0.99).all()
    for a, b in zip(plain, predictions(model, x, samples)):
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        last.bias.fill_(-10.)  # foreground ~0: every snippet dropped
    assert sum(len(s) for s in predictions(model, x, samples)) == 0

    # a planted foreground: segments only on kept snippets, some lost
    scores = model.snippet_scores(x, samples)
    fg = torch.zeros_like(scores['foreground'])
    fg[:, ::3] = 1.
    fg[:, 1::3] = 0.6
    scores['foreground'] = fg * scores['mask']
    gated = model.post_process(scores, samples)
    alpha = head.post_processor.min_foreground
    assert alpha == 0.5
    for segs in gated:
        for s, e in (segs[:, :2] / 0.64).round().astype(int):
            assert (np.arange(s, e) % 3 != 2).all()
    assert sum(map(len, gated)) < sum(map(len, plain))

    model.reset_parameters()
    assert not head.uses_attention
    assert head.attention_trained == 0
    assert not head.fc.bias.any() and not head.classifier.bias.any()
    bound = (6 / (D + D))**0.5
    assert head.fc.weight.abs().max() <= bound
    assert head.fc.weight.abs().max() > bound / 2  # Xavier, not default


def test_pseudo_gt_gradient_reaches_the_branch():
    """The pseudo ground truth loss trains ``pseudo_label_branch``; it
    reaches the embedding unless ``detach_embedding``."""
    for detach in (False, True):
        model = wtalc(detach=detach)
        model.train()
        x, samples = inputs()
        loss = model(x, samples, mode='loss')['loss_pseudo_gt']
        assert loss > 0
        loss.backward()
        branch = getattr(model.cls_head, model.cls_head.pseudo_label_branch)
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in branch.parameters())
        fc_grad = model.cls_head.fc.weight.grad
        assert (fc_grad is None or not fc_grad.any()) == detach
        cls_grad = model.cls_head.classifier.weight.grad
        assert cls_grad is None or not cls_grad.any()


def test_cas_margin_target():
    """``pseudo_gt_target='cas_margin'``: the pseudo labels supervise the
    labelled classes' CAS, normalized over the video to [0, 1] and centred
    on W-TALC's threshold (1 - threshold_ratio), times ``margin_scale``:
    the same for any shift or positive scale of the logits (so the loss
    cannot move the level that W-TALC's class filter reads), no branch
    needed, and the gradient reaches the classifier and the embedding."""
    model = wtalc(attention=False, pseudo_gt_target='cas_margin')
    head = model.cls_head
    cas = torch.zeros(2, 5, C)
    cas[0, :4, 1] = torch.tensor([0., 2., 4., 1.])
    cas[0, :4, 3] = torch.tensor([9., 9., 9., 0.])  # a class it lacks
    cas[1, :, 2] = torch.tensor([1., 3., 1., 2., 5.])
    cas[1, :, 4] = torch.tensor([5., 1., 1., 1., 1.])
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[0, 4] = False
    samples = []
    for labelled in ([1], [2, 4]):
        ds = ActionDataSample()
        label = torch.zeros(C)
        label[labelled] = 1
        ds.gt_label = label
        samples.append(ds)
    want = torch.tensor([[-5., 0., 5., -2.5, 0.], [5., 0., -5., -2.5, 5.]])
    torch.testing.assert_close(head.cas_margin(cas, mask, samples), want)
    torch.testing.assert_close(
        head.cas_margin(3. * cas + 7., mask, samples), want)
    head.margin_scale = 4.
    torch.testing.assert_close(head.cas_margin(cas, mask, samples),
                               want * 0.4)

    model.train()
    x, samples = inputs()
    losses = model(x, samples, mode='loss')
    assert losses['loss_pseudo_gt'] > 0
    losses['loss_pseudo_gt'].backward()
    assert head.pseudo_label_branch == 'classifier'
    for layer in (head.classifier, head.fc):
        assert layer.weight.grad.abs().sum() > 0
    assert 'foreground' not in model.snippet_scores(x, samples)
    # a branch would never be trained: refused, as an unknown target
    with pytest.raises(ValueError, match='attention=None'):
        wtalc(pseudo_gt_target='cas_margin')
    with pytest.raises(ValueError, match='pseudo_gt_target'):
        wtalc(attention=False, pseudo_gt_target='cas')


def test_level_loss():
    """``level_loss`` (with ``cas_margin`` only): BCE of the top-k pooled
    logits (``video_score``, what W-TALC's class filter reads) against the
    video labels on batches with pseudo labels, zero without them (round
    0); unlike the margin it moves with a shift of the logits, and its
    gradient pushes the classes a video lacks down."""
    level = dict(type='BCELossWithLogits', loss_weight=0.5)
    model = wtalc(attention=False, pseudo_gt_target='cas_margin',
                  level_loss=level)
    head = model.cls_head
    model.train()
    x, samples = inputs()
    losses = model(x, samples, mode='loss')
    mask = torch.zeros(len(samples), 40, dtype=torch.bool)
    for i, ds in enumerate(samples):
        mask[i, :ds.metainfo['num_snippets']] = True
    cas = head(x, mask)[1]
    labels = torch.stack([ds.gt_label for ds in samples])
    want = 0.5 * F.binary_cross_entropy_with_logits(
        head.video_score(cas, mask), labels)
    torch.testing.assert_close(losses['loss_level'], want)
    # a shift of the logits moves it (the margin does not see a shift)
    shifted = 0.5 * F.binary_cross_entropy_with_logits(
        head.video_score(cas + 3., mask), labels)
    assert not torch.isclose(shifted, want)
    # the gradient lowers the pooled logits of the classes a video lacks
    head.zero_grad()
    model(x, samples, mode='loss')['loss_level'].backward()
    absent = labels.sum(0) == 0
    assert (head.classifier.bias.grad[absent] > 0).all()  # descent: down
    # round 0: no pseudo labels, a zero term (still in the graph)
    x, plain = inputs(pseudo=False)
    losses = model(x, plain, mode='loss')
    assert losses['loss_level'] == 0 and losses['loss_level'].requires_grad
    # without the key there is no such term; with the branch it is refused
    model = wtalc(attention=False, pseudo_gt_target='cas_margin')
    assert 'loss_level' not in model(*inputs(), mode='loss')
    with pytest.raises(ValueError, match='level_loss'):
        wtalc(level_loss=level)


def test_plain_wtalc_refuses_pseudo_labels():
    model = wtalc(attention=False)
    model.train()
    x, samples = inputs()
    with pytest.raises(ValueError, match='v0.*nothing to learn them'):
        model(x, samples, mode='loss')
    x, samples = inputs(pseudo=False)
    assert set(model(x, samples, mode='loss')) == {'loss_mil', 'loss_casl'}


def test_post_processor_registered_and_gated():
    post = TASK_UTILS.build(dict(type='WTALCPostProcessor',
                                 min_foreground=0.7))
    cas = torch.zeros(1, 12, 2)
    cas[0, 2:8, 1] = 3.
    cas[0, 1, 1] = 1.5  # = the threshold 3 - 0.5 * (3 - 0): not above
    cas[0, 10, 1] = 2.  # above, but one snippet long
    mask = torch.ones(1, 12, dtype=torch.bool)
    (segs, ) = post(cas, mask, [0.5])
    # class 0 is all zeros: its top-k mean is not > 0, no segment
    np.testing.assert_allclose(segs, [[1., 4., 1., 3. + 0.7 * 3.]])
    fg = torch.ones(1, 12)
    fg[0, 4] = 0.5
    (segs, ) = post(cas, mask, [0.5], foreground=fg)
    np.testing.assert_allclose(segs[:, :3], [[1., 2., 1.], [2.5, 4., 1.]])


def test_post_processor_class_filter_threshold():
    """``min_class_score`` moves the class filter's threshold (the
    original's 0): a class whose top-k mean logit is -0.5 gets no segment
    by default and its own segment once the filter keeps it."""
    cas = torch.full((1, 12, 2), -2.)
    cas[0, 6:10, 0] = -0.5  # top-1 mean (k = floor(12 / 8)) = -0.5
    cas[0, 2:4, 1] = 1.
    mask = torch.ones(1, 12, dtype=torch.bool)
    class1 = [1., 2., 1., 1. + 0.7 * 1.]

    def segments(**kwargs):
        post = TASK_UTILS.build(dict(type='WTALCPostProcessor', **kwargs))
        return post(cas, mask, [0.5])[0]

    np.testing.assert_allclose(segments(), [class1])
    # threshold -0.5 - 0.5 * (-0.5 + 2) = -1.25: the run 6..9
    np.testing.assert_allclose(segments(min_class_score=-1.),
                               [[3., 5., 0., -0.5 + 0.7 * -0.5], class1])
    assert len(segments(min_class_score=1.)) == 0
    # None: no filter, every class of the video (a very low class score
    # too), but not a video too short for a top-k mean (NaN)
    cas[0, 6:10, 0] = -1.9
    np.testing.assert_allclose(
        segments(min_class_score=None),
        [[3., 5., 0., -1.9 + 0.7 * -1.9], class1])
    assert len(segments(min_class_score=-1.)) == 1
    post = TASK_UTILS.build(
        dict(type='WTALCPostProcessor', min_class_score=None))
    assert len(post(cas[:, :7], mask[:, :7], [0.5])[0]) == 0


def test_post_processor_foreground_modes():
    """``foreground_mode`` on planted cases: gating before W-TALC's
    threshold fragments an action whose CAS dips inside it (max and min
    taken inside the action), gating after the threshold keeps it whole,
    and ``foreground_runs`` takes the foreground runs themselves for every
    class passing the class filter (and only those), scored by the CAS."""

    def build(mode):
        return TASK_UTILS.build(
            dict(type='WTALCPostProcessor', foreground_mode=mode))

    mask = torch.ones(1, 12, dtype=torch.bool)
    fg = torch.zeros(1, 12)
    fg[0, 2:8] = 0.9
    fg[0, 8] = 0.4  # below alpha_A = 0.5
    # case A: an action on snippets 2..7 whose CAS dips at 5
    cas = torch.zeros(1, 12, 2)
    cas[0, 2:8, 1] = 3.
    cas[0, 5, 1] = 2.
    whole = [[1., 4., 1., 3. + 0.7 * 3.]]
    np.testing.assert_allclose(build('gate_after_threshold')(
        cas, mask, [0.5], foreground=fg)[0], whole)
    np.testing.assert_allclose(build('foreground_runs')(
        cas, mask, [0.5], foreground=fg)[0], whole)
    # before the threshold: min = 2 inside, threshold 2.5 cuts at 5
    np.testing.assert_allclose(build('gate_before_threshold')(
        cas, mask, [0.5], foreground=fg)[0][:, :2], [[1., 2.5], [3., 4.]])
    # without a foreground every mode is W-TALC's
    for mode in WTALCPostProcessor.FOREGROUND_MODES:
        np.testing.assert_allclose(build(mode)(cas, mask, [0.5])[0], whole)

    # case B: the CAS is high only on 2..5 of the foreground run 2..7,
    # class 0 fails the filter, class 2 passes it (top-1 mean 0.5 > 0)
    cas = torch.zeros(1, 12, 3)
    cas[0, 2:6, 1] = 3.
    cas[0, 6:8, 1] = 1.
    cas[0, 0, 2] = 0.5
    (segs, ) = build('gate_after_threshold')(cas, mask, [0.5],
                                             foreground=fg)
    np.testing.assert_allclose(segs, [[1., 3., 1., 3. + 0.7 * 3.]])
    (segs, ) = build('foreground_runs')(cas, mask, [0.5], foreground=fg)
    np.testing.assert_allclose(
        segs, [[1., 4., 1., 3. + 0.7 * 3.], [1., 4., 2., 0.7 * 0.5]])
    # the runs still obey min_length
    short = torch.zeros(1, 12)
    short[0, 3] = 1.
    assert len(build('foreground_runs')(cas, mask, [0.5],
                                        foreground=short)[0]) == 0
    with pytest.raises(ValueError, match='foreground_mode'):
        build('runs')


@pytest.mark.parametrize(('name', 'alone'), [
    ('refineloc-wtalc_i3d_4x40e_synthetic', 'wtalc_i3d_1x40e_synthetic'),
    ('refineloc-wtalc_i3d_10x200e_thumos14', 'wtalc_i3d_1x200e_thumos14'),
    ('refineloc-wtalc_i3d_10x200e_activitynet12',
     'wtalc_i3d_1x200e_activitynet12'),
])
def test_refinement_configs_use_the_recipe(name, alone):
    """The refinement configs build a head whose pseudo labels supervise
    the CAS margin with the level loss (no branch, W-TALC's own segments
    at test time) and a generator that keeps only the video's classes;
    W-TALC alone has no pseudo ground truth loss."""
    from mmengine.config import Config
    from helpers.runs import REPO
    init_default_scope('mmaction')
    cfg = Config.fromfile(str(REPO / 'configs' / 'wtalc' / f'{name}.py'))
    assert cfg.train_cfg.type == 'RefinementLoop'
    generator = cfg.default_hooks.pseudo_labels.generator
    assert TASK_UTILS.build(generator).video_label_classes_only
    cfg.model.cls_head.in_channels = 8
    cfg.model.cls_head.num_classes = 3
    head = MODELS.build(cfg.model.cls_head)
    assert not head.with_attention
    assert head.pseudo_gt_target == 'cas_margin'
    assert head.pseudo_label_branch == 'classifier'
    assert head.pseudo_gt_loss is not None
    assert head.level_loss is not None  # pins the level the margin frees
    alone = Config.fromfile(str(REPO / 'configs' / 'wtalc' / f'{alone}.py'))
    assert alone.model.cls_head.attention is None
    alone.model.cls_head.in_channels = 8
    alone.model.cls_head.num_classes = 3
    head = MODELS.build(alone.model.cls_head)
    assert not head.with_attention and head.pseudo_gt_loss is None


def test_synthetic_configs_schedule_and_class_filter():
    """The synthetic refinement config steps its lr inside every round
    (the loop rebuilds the scheduler per round) and scores without W-TALC's
    class filter; W-TALC alone (its learning curve) trains one round of
    the same schedule and keeps the original's filter."""
    from mmengine.config import Config
    from helpers.runs import REPO
    init_default_scope('mmaction')
    wtalc = REPO / 'configs' / 'wtalc'
    cfg = Config.fromfile(
        str(wtalc / 'refineloc-wtalc_i3d_4x40e_synthetic.py'))
    alone = Config.fromfile(str(wtalc / 'wtalc_i3d_1x40e_synthetic.py'))
    (step, ) = cfg.param_scheduler
    assert step.type == 'MultiStepLR' and step.by_epoch
    assert 0 < max(step.milestones) < cfg.train_cfg.epochs_per_round
    assert alone.param_scheduler == cfg.param_scheduler
    assert alone.train_cfg.max_epochs == cfg.train_cfg.epochs_per_round
    post = TASK_UTILS.build(cfg.model.cls_head.post_processor)
    assert post.min_class_score is None
    post = TASK_UTILS.build(alone.model.cls_head.post_processor)
    assert post.min_class_score == 0.


def test_crop_then_frame_sampling_keeps_raw_snippets():
    """W-TALC's crop before SampleSnippetFrames (raw video): the sampled
    snippets are recorded as raw snippets of the whole video (composed
    with the crop), so their frames and pseudo labels stay aligned."""
    from mmaction.registry import TRANSFORMS
    np.random.seed(1)  # a crop that does not start at 0
    t = 1000
    results = dict(
        video_name='long', num_snippets=t, snippet_size=16,
        total_frames=16 * t, pseudo_label=np.arange(t), sample_view='train',
        fg_mask=np.zeros(t, bool))
    for cfg in (dict(type='RandomSnippetCrop', max_seqlen=600),
                dict(type='SampleSnippetFrames', clip_len=16,
                     max_snippets=100)):
        results = TRANSFORMS.build(cfg)(results)
    raw = results['snippet_inds']
    assert results['num_snippets'] == len(raw) == 100
    np.testing.assert_array_equal(results['pseudo_label'], raw)
    assert raw.max() - raw.min() < 600
    frames = np.asarray(results['frame_inds']).reshape(100, 16)
    np.testing.assert_array_equal(frames[:, 0] // 16, raw)
