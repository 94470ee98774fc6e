# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Unit tests of the pseudo ground truth generators, their statistics and
the multi-label form of the video label loss."""
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import refineloc_mm  # noqa: F401
from mmaction.registry import TASK_UTILS
from refineloc_mm.base_models.refineloc import RefineLocLoss
from refineloc_mm.models.task_modules import PseudoGTGenerator
from refineloc_mm.models.task_modules.pseudo_gt_generator import (
    label_statistics, random_dropout, segments_to_labels)
from refineloc_mm.utils.snippets import fill_segments

LENGTHS = np.array([10, 7, 12])
FPS = np.array([30., 25., 30.])
SIZE = np.array([16., 16., 16.])


def test_fill_rule_inclusive_and_clipped():
    # 16 frames at 30 fps: one snippet = 0.5333 s
    sps = 16 / 30
    mask = fill_segments(
        np.array([10]), np.array([0, 0]), np.array([1 * sps, 8 * sps]),
        np.array([3 * sps, 20 * sps]), np.array([30.]), np.array([16.]))
    expected = np.zeros(10, bool)
    expected[1:4] = True  # 1..3 inclusive
    expected[8:] = True  # clipped at T
    np.testing.assert_array_equal(mask, expected)


def test_segments_to_labels_per_video():
    segs = [
        np.array([[0., 16 / 30, 0, 1.]]),
        np.zeros((0, 4)),
        np.array([[5 * 16 / 30, 6 * 16 / 30, 3, .5]]),
    ]
    fg = segments_to_labels(segs, LENGTHS, FPS, SIZE)
    assert fg.shape == (LENGTHS.sum(), )
    assert fg[:10].nonzero()[0].tolist() == [0, 1]
    assert not fg[10:17].any()
    assert fg[17:].nonzero()[0].tolist() == [5, 6]


def test_dropout_exact_count_per_video():
    labels = np.ones(LENGTHS.sum(), dtype=np.int8)
    out = random_dropout(labels, LENGTHS, 0.3, np.random.default_rng(0))
    offsets = np.concatenate([[0], np.cumsum(LENGTHS)])
    for v, t in enumerate(LENGTHS):
        dropped = (out[offsets[v]:offsets[v + 1]] == -1).sum()
        assert dropped == int(np.floor(t * 0.3))


def test_union_of_last_m_rounds_and_seeded_dropout():
    gen = PseudoGTGenerator(from_m_iterations=2, dropout=0.0)
    a = np.zeros(29, bool)
    b = np.zeros(29, bool)
    c = np.zeros(29, bool)
    a[0] = b[1] = c[2] = True
    labels = gen([a, b, c], LENGTHS, round_idx=2)
    assert labels[:3].tolist() == [0, 1, 1]  # only the last two rounds
    gen = PseudoGTGenerator(dropout=0.5, seed=7)
    first = gen([c], LENGTHS, round_idx=1)
    assert np.array_equal(first, gen([c], LENGTHS, round_idx=1))
    assert not np.array_equal(first, gen([c], LENGTHS, round_idx=2))


@pytest.mark.parametrize('source', ['attention', 'cas'])
def test_former_threshold_sources_name_their_post_processor(source):
    """The generator holds no thresholds: the former sources are refused,
    naming the post-processor config that replaces them."""
    with pytest.raises(ValueError, match='SnippetThresholdSegmenter'):
        PseudoGTGenerator(source=source)


def test_threshold_labeler_is_a_post_processor_config():
    init_default_scope('mmaction')
    gen = PseudoGTGenerator(post_processor=dict(
        type='SnippetThresholdSegmenter', top_k=2, min_cas_score=0.,
        min_attention_score=0.92, padding=2))
    assert gen.needs_predictions
    assert (gen.post_processor.min_cas_score,
            gen.post_processor.min_attention_score) == (0., 0.92)
    # without a foreground (require_foreground=False) every snippet passes
    # alpha_A = 0; with require_foreground the missing score is named
    scores = dict(cas_softmax=torch.tensor([[[.9, .1], [.8, .2], [.1, .9]]]),
                  video_score=torch.tensor([[.7, .3]]),
                  mask=torch.ones(1, 3, dtype=torch.bool))
    samples = [ActionDataSample(metainfo=dict(snippet_size=16, fps=16.))]
    cas_only = TASK_UTILS.build(dict(
        type='SnippetThresholdSegmenter', top_k=1, min_cas_score=0.5,
        min_attention_score=0., padding=0, require_foreground=False))
    (seg, ) = cas_only.predict_segments(scores, samples)
    assert seg[:, :3].tolist() == [[0., 3., 0.]]  # dilated 0..1 -> 0..2
    with pytest.raises(ValueError, match="'foreground'"):
        TASK_UTILS.build(dict(type='SnippetThresholdSegmenter'))\
            .predict_segments(scores, samples)


def test_relative_attention_follows_each_videos_range():
    """relative_attention: alpha_A is a fraction of each video's
    foreground range (padding excluded), so an affine drift of the
    foreground's scale keeps the same segments; the absolute threshold
    does not."""
    init_default_scope('mmaction')
    a = np.array([[.1, .2, .9, .8, .15, .1], [.6, .62, .7, .61, 0., 0.]])
    valid = np.array([[True] * 6, [True] * 4 + [False] * 2])
    p = np.zeros((2, 6, 2))
    p[..., 0] = 1.
    y = np.array([[.9, .1], [.9, .1]])

    def runs(segmenter, fg):
        return [seg[:, :3].tolist() for seg in segmenter(
            cas_softmax=p, foreground=fg, video_score=y, mask=valid,
            seconds_per_snippet=[1., 1.])]

    relative = TASK_UTILS.build(dict(
        type='SnippetThresholdSegmenter', top_k=1, min_cas_score=0.,
        min_attention_score=0.5, padding=0, relative_attention=True))
    absolute = TASK_UTILS.build(dict(
        type='SnippetThresholdSegmenter', top_k=1, min_cas_score=0.,
        min_attention_score=0.5, padding=0))
    # video 0: 0.1 + 0.5 * 0.8 = 0.5 -> snippets 2..3, dilated 1..4;
    # video 1 (4 real snippets): 0.6 + 0.5 * 0.1 = 0.65 -> snippet 2, 1..3
    np.testing.assert_allclose(
        relative.attention_threshold(a, valid).ravel(), [.5, .65])
    expected = [[[1., 5., 0.]], [[1., 4., 0.]]]
    assert runs(relative, a) == expected
    drifted = .4 * a + .05  # every score lower, same order
    assert runs(relative, drifted) == expected
    assert runs(absolute, a) != runs(absolute, drifted)
    assert 'relative_attention=True' in repr(relative)


def test_oracle_and_random_sources():
    fg_true = np.zeros(LENGTHS.sum(), bool)
    fg_true[3:5] = True  # video 0, snippets 3..4
    oracle = PseudoGTGenerator(source='oracle', padding=1)
    assert not oracle.needs_predictions
    fg = oracle.foreground(LENGTHS, FPS, SIZE, 0, fg_mask=fg_true)
    # dilation (2..5), padding 1 (1..6), fill rule adds the end snippet
    assert fg[:10].nonzero()[0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert not fg[10:].any()
    for source, p in (('biased_random', .6), ('uniform_random', .5)):
        gen = PseudoGTGenerator(source=source)
        big = np.full(200, 100)
        fg = gen.foreground(big, np.full(200, 30.), np.full(200, 16.), 0)
        assert abs(fg.mean() - p) < 0.01


def test_label_statistics():
    labels = np.array([1, 1, 0, 0, -1, 1], dtype=np.int8)
    true = np.array([1, 0, 0, 1, 1, 1], dtype=bool)
    s = label_statistics(labels, true)
    assert s['fg_precision'] == pytest.approx(2 / 3)
    assert s['fg_recall'] == pytest.approx(2 / 4)
    assert s['bg_precision'] == pytest.approx(1 / 2)
    assert s['coverage'] == pytest.approx(5 / 6)
    assert s['w_fg'] == pytest.approx(2 / 5)


def test_multilabel_video_label_loss():
    """A two-class video's target is the normalized multi-hot label: its
    loss is the mean of the two single-label losses (both classes count)."""
    torch.manual_seed(0)
    cas = torch.randn(1, 6, 4)
    attention_time = torch.softmax(torch.randn(1, 6), dim=1)
    mask = torch.ones(1, 6, dtype=torch.bool)
    loss = RefineLocLoss(attention_dim=1)

    def video_label(labels):
        return loss.terms(
            cas=cas,
            attention=torch.zeros(1, 6, 1),
            attention_time=attention_time,
            mask=mask,
            video_labels=torch.tensor([labels], dtype=torch.float))[
                'video_label']

    both = video_label([0, 1, 0, 1])
    single = (video_label([0, 1, 0, 0]) + video_label([0, 0, 0, 1])) / 2
    assert float(both) == pytest.approx(float(single), abs=1e-6)
    assert float(video_label([0, 1, 0, 0])) != pytest.approx(float(both))


def _samples_with_labels(label_sets, num_classes=4):
    samples = []
    for i, classes in enumerate(label_sets):
        ds = ActionDataSample(metainfo=dict(video_name=f'v{i}'))
        label = torch.zeros(num_classes)
        label[list(classes)] = 1
        ds.gt_label = label
        samples.append(ds)
    return samples


class _SegmentModel:
    """Stands for a base model whose post-processing returns fixed rows."""

    def __init__(self, segments):
        self.segments = segments

    def post_process(self, scores, data_samples, post_processor=None):
        return self.segments


def test_segments_restricted_to_the_video_label_classes():
    rows = [
        np.array([[0., 1., 0, .9], [1., 2., 2, .8], [2., 3., 3, .05]]),
        np.array([[0., 4., 1, .7], [5., 6., 3, .6]]),
        np.zeros((0, 4)),
    ]
    samples = _samples_with_labels([{0, 3}, {2}, {1}])
    model = _SegmentModel(rows)
    keep_all = PseudoGTGenerator().segments(model, {}, samples)
    assert [len(s) for s in keep_all] == [3, 2, 0]
    by_label = PseudoGTGenerator(video_label_classes_only=True).segments(
        model, {}, samples)
    np.testing.assert_array_equal(by_label[0], rows[0][[0, 2]])
    assert by_label[1].shape == (0, 4) and by_label[2].shape == (0, 4)
    both = PseudoGTGenerator(
        video_label_classes_only=True, min_segment_score=0.1).segments(
            model, {}, samples)
    np.testing.assert_array_equal(both[0], rows[0][[0]])
    by_score = PseudoGTGenerator(min_segment_score=0.65).segments(
        model, {}, samples)
    assert [len(s) for s in by_score] == [2, 1, 0]


def test_label_class_filter_needs_video_labels():
    ds = ActionDataSample(metainfo=dict(video_name='video_without'))
    gen = PseudoGTGenerator(video_label_classes_only=True)
    with pytest.raises(ValueError, match='video_without'):
        gen.segments(_SegmentModel([np.zeros((1, 4))]), {}, [ds])
