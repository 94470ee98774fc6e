# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net as a base model of the refinement: the resampling keeps pseudo
labels and features aligned (training and inference samples), the pseudo
ground truth loss reaches the filtering module, segments come out in the
right seconds after resampling, padded batches equal single videos, and a
model reset re-draws the build-time weights."""
import csv

import h5py
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.basnet  # noqa: F401
from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from refineloc_mm.datasets.collate import packed_snippet_collate
from refineloc_mm.datasets.snippet_feature_dataset import CSV_COLUMNS

FPS, SNIPPET, WIDTH, T = 30.0, 16, 6, 16
# shorter than, as long as and longer than T
LENGTHS = {'vid_short': 7, 'vid_exact': 16, 'vid_long': 45}


def tiny_model(**head):
    init_default_scope('mmaction')
    cfg = dict(
        type='BaSNetHead', num_classes=3, in_channels=WIDTH,
        cas_channels=16, filter_channels=8,
        loss=dict(type='BaSNetLoss'), pseudo_gt_loss=dict(
            type='PseudoGTLoss', weighting='sqrt_pos_weight',
            loss_weight=2.0))
    cfg.update(head)
    return MODELS.build(dict(type='BaSNet', cls_head=cfg))


def label_pattern(length, seed):
    return np.random.default_rng(seed).integers(-1, 2, length)


@pytest.fixture
def split(tmp_path):
    """HDF5 + CSV whose features carry, per raw snippet, its index
    (channel 0) and a planted label pattern (channel 1)."""
    h5_path, csv_path = tmp_path / 'split.h5', tmp_path / 'split.csv'
    patterns = {}
    with h5py.File(h5_path, 'w') as f:
        for i, (name, t) in enumerate(LENGTHS.items()):
            patterns[name] = label_pattern(t, i)
            feats = np.zeros((t, WIDTH), np.float32)
            feats[:, 0] = np.arange(t)
            feats[:, 1] = patterns[name]
            f.create_dataset(name, data=feats)
    with open(csv_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for name, t in LENGTHS.items():
            dur = t * SNIPPET / FPS
            writer.writerow([name, 0.5, 1.5, '0', dur, FPS, round(dur * FPS)])
    init_default_scope('mmaction')
    dataset = DATASETS.build(
        dict(type='PseudoLabelDataset', dataset=dict(
            type='SnippetFeatureDataset', ann_file=str(csv_path),
            feature_file=str(h5_path), snippet_size=SNIPPET, stream=2,
            in_channels=WIDTH, pipeline=[
                dict(type='LoadSnippetFeatures'),
                dict(type='ResampleSnippets', num_segments=T),
                dict(type='PackSnippetInputs')
            ])))
    dataset.set_labels(np.concatenate(list(patterns.values())), 0.7)
    return dataset, patterns


def test_resampling_keeps_pseudo_labels_aligned(split):
    """Training samples (with pseudo labels): one random raw snippet per
    bin, the same for features and labels, also once packed into a batch
    by the collate function and the data preprocessor."""
    dataset, patterns = split
    np.random.seed(0)
    samples = [dataset[i] for i in range(len(dataset))]
    for sample, (name, length) in zip(samples, LENGTHS.items()):
        x, ds = sample['inputs'], sample['data_samples']
        assert x.shape == (T, WIDTH)
        raw = x[:, 0].long().numpy()
        # the labels of the snippets the features come from
        np.testing.assert_array_equal(ds.pseudo_label.numpy(),
                                      patterns[name][raw])
        np.testing.assert_array_equal(ds.pseudo_label.numpy(),
                                      x[:, 1].long().numpy())
        # one snippet of each bin [floor(iL/T), floor((i+1)L/T)]
        i = np.arange(T)
        low = i * length // T
        high = np.minimum((i + 1) * length // T, length - 1)
        assert ((raw >= low) & (raw <= high)).all()
        assert ds.metainfo['num_snippets'] == T
        assert ds.metainfo['snippet_size'] == SNIPPET * length / T
        assert ds.metainfo['fg_weight'] == 0.7
    # the long video is not always resampled uniformly in training
    draws = {tuple(dataset[2]['inputs'][:, 0].long().tolist())
             for _ in range(5)}
    assert len(draws) > 1
    # packed into a batch: rows and labels stay together
    model = tiny_model()
    data = model.data_preprocessor(packed_snippet_collate(samples), True)
    labels = torch.cat([ds.pseudo_label for ds in data['data_samples']])
    torch.testing.assert_close(labels, data['inputs'][:, 1].long())


def test_resampling_inference_samples_uniform(split):
    """Samples without pseudo labels (validation, the refinement's scoring
    of the training split) take snippet floor(i L / T)."""
    dataset, _ = split
    for idx, length in enumerate(LENGTHS.values()):
        sample = dataset.dataset[idx]  # the wrapped dataset: no labels
        assert 'pseudo_label' not in sample['data_samples']
        raw = sample['inputs'][:, 0].long().numpy()
        np.testing.assert_array_equal(raw, np.arange(T) * length // T)


def test_resampling_errors_name_the_video():
    init_default_scope('mmaction')
    resample = TRANSFORMS.build(dict(type='ResampleSnippets',
                                     num_segments=4))
    with pytest.raises(ValueError, match='vid_x.*pseudo_label'):
        resample(dict(video_name='vid_x', num_snippets=5, snippet_size=16,
                      features=np.zeros((5, 2)),
                      pseudo_label=np.zeros(4, np.int64),
                      sample_view='train'))
    with pytest.raises(ValueError, match='num_segments'):
        TRANSFORMS.build(dict(type='ResampleSnippets', num_segments=0))


def samples_with_labels(lengths, labels=None, fg_weight=0.6):
    samples = []
    for i, t in enumerate(lengths):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=t,
                             snippet_size=SNIPPET, fps=FPS,
                             fg_weight=fg_weight))
        ds.gt_label = torch.tensor([1., 0., 0.])
        if labels is not None:
            ds.pseudo_label = torch.as_tensor(labels[i])
        samples.append(ds)
    return samples


def test_pseudo_gt_loss_reaches_filtering_module():
    torch.manual_seed(0)
    model = tiny_model()
    head = model.cls_head
    branch = getattr(head, head.pseudo_label_branch)
    assert branch is head.filter_module
    lengths = [12, 9]
    labels = [label_pattern(t, i) for i, t in enumerate(lengths)]
    x = torch.randn(sum(lengths), WIDTH)
    losses = model(x, samples_with_labels(lengths, labels), mode='loss')
    assert set(losses) == {'loss_base', 'loss_supp', 'loss_norm',
                           'loss_pseudo_gt'}
    pgt = losses['loss_pseudo_gt']
    assert pgt > 0
    grads = torch.autograd.grad(pgt, list(head.parameters()),
                                allow_unused=True)
    named = dict(zip([n for n, _ in head.named_parameters()], grads))
    for name, grad in named.items():
        if name.startswith('filter_module.'):
            assert grad is not None and grad.abs().sum() > 0, name
        else:  # the pseudo labels supervise w only
            assert grad is None or not grad.any(), name
    # the value: PseudoGTLoss on w (probabilities), weighted by sqrt(w_fg)
    with torch.no_grad():
        scores = model.snippet_scores(x, samples_with_labels(lengths))
    ref = MODELS.build(dict(type='PseudoGTLoss', input_type='probs',
                            weighting='sqrt_pos_weight', loss_weight=2.0))
    pseudo = torch.full((2, 12), -1)
    for i, lab in enumerate(labels):
        pseudo[i, :len(lab)] = torch.as_tensor(lab)
    torch.testing.assert_close(
        pgt.detach(), ref(scores['foreground'], pseudo, scores['mask'], 0.6))
    # without pseudo labels the term is zero
    losses = model(x, samples_with_labels(lengths), mode='loss')
    assert float(losses['loss_pseudo_gt']) == 0.


def test_segments_in_seconds_after_resampling():
    """A planted action of raw snippets [100, 160) of a 300-snippet video,
    resampled to 64 snippets: the segment's seconds map back to it."""
    length, num_segments, cls = 300, 64, 2
    init_default_scope('mmaction')
    results = TRANSFORMS.build(dict(
        type='ResampleSnippets', num_segments=num_segments))(dict(
            video_name='v', num_snippets=length, snippet_size=SNIPPET,
            fps=FPS, features=np.zeros((length, WIDTH), np.float32)))
    inside = (results['snippet_inds'] >= 100) & (results['snippet_inds'] <
                                                 160)
    cas = torch.zeros(1, num_segments, 4)
    cas[0, torch.from_numpy(inside), cls] = 5.
    score = torch.tensor([[0.02, 0.02, 0.9, 0.06]])
    ds = ActionDataSample()
    ds.set_metainfo(dict(num_snippets=results['num_snippets'],
                         snippet_size=results['snippet_size'], fps=FPS))
    model = tiny_model()
    segments = model.post_process(
        dict(cas_supp=cas, score_supp=score,
             mask=torch.ones(1, num_segments, dtype=torch.bool)), [ds])[0]
    assert len(segments) and (segments[:, 2] == cls).all()
    best = segments[segments[:, 3].argmax()]
    raw_seconds = SNIPPET / FPS
    step = raw_seconds * length / num_segments  # one resampled snippet
    assert abs(best[0] - 100 * raw_seconds) <= step
    assert abs(best[1] - 160 * raw_seconds) <= step
    # and without resampling' seconds (the raw snippet size) they would not
    assert abs(best[0] * num_segments / length - 100 * raw_seconds) > step


def test_padded_batch_equals_single_videos():
    """Videos of different lengths in one padded batch give the outputs
    each gives alone (convolutions see zero padding at their own end)."""
    torch.manual_seed(0)
    model = tiny_model().eval()
    lengths = [20, 9]
    x = torch.randn(sum(lengths), WIDTH)
    with torch.no_grad():
        batch = model(x, samples_with_labels(lengths), mode='tensor')
        start = 0
        for i, t in enumerate(lengths):
            alone = model(x[start:start + t], samples_with_labels([t]),
                          mode='tensor')
            start += t
            for b, a in zip(batch, alone):
                if b.dim() == 3:
                    b = b[i:i + 1, :t]
                else:
                    b = b[i:i + 1]
                torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


def test_reset_redraws_build_time_weights():
    torch.manual_seed(3)
    model = tiny_model()
    built = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.)
    torch.manual_seed(3)
    model.reset_parameters()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, built[k], msg=k)


def test_label_width_error_names_the_video():
    model = tiny_model(num_classes=4)
    with pytest.raises(ValueError, match='"v0".*num_classes=4'):
        model(torch.randn(5, WIDTH), samples_with_labels([5]), mode='loss')


@pytest.mark.parametrize('post_processor', [
    None,
    dict(type='SnippetThresholdSegmenter', min_cas_score=0.,
         min_attention_score=0.92),
    dict(type='SnippetThresholdSegmenter', min_attention_score=0.,
         require_foreground=False)
])
def test_generators_work_with_basnet(post_processor):
    """The pseudo ground truth generators read BaS-Net's scores: its own
    post-processing, or the foreground weights / class probabilities."""
    from mmaction.registry import TASK_UTILS
    torch.manual_seed(0)
    model = tiny_model().eval()
    with torch.no_grad():  # confident foreground: w close to 1
        model.cls_head.filter_module.conv_2[0].bias.fill_(5.)
    lengths = [12, 9]
    samples = samples_with_labels(lengths)
    scores = model.snippet_scores(torch.randn(sum(lengths), WIDTH),
                                  samples)
    generator = TASK_UTILS.build(dict(type='PseudoGTGenerator',
                                      post_processor=post_processor))
    segments = generator.segments(model, scores, samples)
    assert len(segments) == 2
    for seg, t in zip(segments, lengths):
        assert seg.ndim == 2 and seg.shape[1] >= 2
        assert (seg[:, 0] >= 0).all()
        assert (seg[:, 1] <= t * SNIPPET / FPS + 1e-6).all()
    assert sum(len(s) for s in segments) > 0


def test_post_processor_quirk_keys():
    """The original's quirks, on by default, can be switched off: a class
    positive only at position 0 gives no proposal there; a video whose
    only predicted class is 0 gets no segment."""
    from mmaction.registry import TASK_UTILS
    init_default_scope('mmaction')
    # class 1 drops from 1 to -20 after the first snippet: upsampled x24,
    # thresholds >= 0.15 keep position 0 alone
    cas_norm = np.zeros((4, 2), np.float32)
    cas_norm[:, 1] = [1., -20., -20., -20.]
    score = np.array([0.1, 0.9], np.float32)
    single = {}
    for quirk in ('default', False):  # the default is the original's
        cfg = dict(type='BaSNetPostProcessor')
        if quirk is False:
            cfg['drop_if_only_position_zero'] = False
        post = TASK_UTILS.build(cfg)
        props = post.proposals(cas_norm, score, 24.)  # 1 s per position
        assert len(props) and (props[:, 2] == 1).all()
        single[quirk] = int(((props[:, 0] == 0) & (props[:, 1] == 1)).sum())
    assert single == {'default': 0, False: 4}  # thresholds 0.15 .. 0.225
    cas_norm[:, 0] = [0., 1., 1., 0.]
    only_zero = np.array([0.9, 0.05], np.float32)
    for cfg, count in (({}, 0), (dict(drop_if_only_class_zero=False), 1)):
        post = TASK_UTILS.build(dict(type='BaSNetPostProcessor', **cfg))
        assert len(post.predicted_classes(only_zero)) == count
        assert (len(post.proposals(cas_norm, only_zero, 24.)) > 0) == bool(
            count)
