# Copyright (c) refineloc-mm contributors. All rights reserved.
"""BaS-Net end to end on raw videos with a tiny MMAction2 backbone: the
snippet clips are resampled to ``num_segments`` by ``ResampleSnippets``
(between ``SampleSnippetFrames`` and the decoding, so only the kept clips
are decoded), pseudo labels stay with their clips, and the model trains
(gradient into the backbone) and predicts segments in seconds."""
import numpy as np
import pytest
import torch

import refineloc_mm  # noqa: F401
import refineloc_mm.base_models.basnet  # noqa: F401
from helpers.raw_video import BACKBONES, make_split
from mmaction.registry import DATASETS, MODELS
from refineloc_mm.datasets.collate import packed_snippet_collate

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')

SNIPPET, NUM_SEGMENTS = 8, 5


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('basnet_videos')
    make_split(root, 'valid', 3, 0)  # 6 to 8 snippets each
    return root


def pipeline(resample=True):
    steps = [
        dict(type='DecordInit'),
        dict(type='SampleSnippetFrames', clip_len=2),
        dict(type='ResampleSnippets', num_segments=NUM_SEGMENTS),
        dict(type='DecodeSnippetChunks', chunk_size=3, transforms=[
            dict(type='DecordDecode'),
            dict(type='Resize', scale=(-1, 32)),
            dict(type='CenterCrop', crop_size=32),
            dict(type='FormatShape', input_format='NCHW')
        ]),
        dict(type='PackSnippetClips', input_format='NCHW')
    ]
    return steps if resample else steps[:2] + steps[3:]


def dataset(videos, resample=True):
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    return DATASETS.build(dict(
        type='PseudoLabelDataset',
        dataset=dict(
            type='RawVideoSnippetDataset', data_root=str(videos),
            ann_file='valid_groundtruth.csv', video_dir='videos/valid',
            snippet_size=SNIPPET, pipeline=pipeline(resample))))


def test_basnet_trains_and_predicts_on_raw_video(videos):
    ds = dataset(videos)
    full = dataset(videos, resample=False).dataset  # every raw snippet
    labels = np.random.default_rng(0).integers(-1, 2, ds.offsets[-1])
    ds.set_labels(labels, 0.5)
    np.random.seed(0)
    torch.manual_seed(0)  # the tiny model's initial weights
    samples = [ds[i] for i in range(len(ds))]
    for i, sample in enumerate(samples):
        meta = sample['data_samples'].metainfo
        inds = np.asarray(meta['snippet_inds'])
        raw = ds.num_snippets[i]
        assert sample['inputs'].shape == (NUM_SEGMENTS, 2, 3, 32, 32)
        assert meta['num_snippets'] == NUM_SEGMENTS
        assert meta['snippet_size'] == SNIPPET * raw / NUM_SEGMENTS
        # clips and pseudo labels of the same raw snippets
        torch.testing.assert_close(sample['inputs'],
                                   full[i]['inputs'][torch.from_numpy(inds)])
        np.testing.assert_array_equal(
            sample['data_samples'].pseudo_label.numpy(),
            ds.video_labels(i)[inds])

    init = dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6, ))
    model = MODELS.build(dict(
        type='BaSNet',
        data_preprocessor=dict(type='SnippetClipDataPreprocessor',
                               format_shape='NTCHW'),
        backbone=init,
        backbone_wrapper=dict(chunk_size=4),
        cls_head=dict(type='BaSNetHead', num_classes=2,
                      in_channels=BACKBONES['2d'][3], cas_channels=16,
                      filter_channels=8)))
    data = model.data_preprocessor(packed_snippet_collate(samples), True)
    model.train()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert float(losses['loss_pseudo_gt']) > 0
    sum(losses.values()).backward()
    grads = [p.grad for p in model.backbone.parameters()
             if p.grad is not None]
    assert grads and any(bool(g.abs().sum() > 0) for g in grads)
    # inference samples (no pseudo labels): uniform indices, segments in
    # seconds of the raw video
    model.eval()
    test = [dataset(videos).dataset[i] for i in range(len(full))]
    for i, sample in enumerate(test):
        inds = sample['data_samples'].metainfo['snippet_inds']
        raw = ds.num_snippets[i]
        np.testing.assert_array_equal(
            inds, np.arange(NUM_SEGMENTS) * raw // NUM_SEGMENTS)
    data = model.data_preprocessor(packed_snippet_collate(test), False)
    with torch.no_grad():
        out = model(data['inputs'], data['data_samples'], mode='predict')
    assert sum(len(s.pred_segments) for s in out) > 0
    for i, sample in enumerate(out):
        seg = sample.pred_segments
        assert seg.ndim == 2 and seg.shape[1] == 4
        duration = ds.num_snippets[i] * SNIPPET / sample.metainfo['fps']
        assert (seg[:, :2] >= 0).all() and (seg[:, 1] <= duration + 1e-6
                                            ).all()
        assert sample.pred_video_score.shape == (2, )
