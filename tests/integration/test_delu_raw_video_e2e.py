# Copyright (c) refineloc-mm contributors. All rights reserved.
"""DELU trained end to end on raw video with a tiny single-stream 3D
backbone through tools/train.py: DELU's batch sampler and the snippet
perturbation run in a raw-video pipeline (between SampleSnippetFrames and
the decoding, so only the kept clips are decoded), the perturbation keeps
clips and pseudo labels aligned, and the refinement's second round trains
the attention blocks. With a single-stream backbone of width D, DELU's
RGB / flow split follows the backbone's output: the two halves of its
feature vector play the two streams."""
import json

import numpy as np
import pytest
import torch

from helpers.runs import run_tool, state_dict
from helpers.raw_video import (ONE_THREAD, build, materialize,
                               raw_video_config)

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')

SNIPPET = 8
NUM_SEGMENTS = 5  # training videos have 6 to 8 snippets


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    return raw_video_config(
        tmp_path_factory.mktemp('delu_videos'), 'delu',
        'delu/_base_/delu_thumos14_i3d.py',
        f"""
        dict(type='SampleSnippetFrames', clip_len=2),
        # after SampleSnippetFrames, before the decoding: only kept clips
        # decode
        dict(type='RandomPerturbSnippets', num_segments={NUM_SEGMENTS}),""",
        'DELUBatchSampler',
        'attention_channels=4, cls_channels=8, '
        'loss=dict(co_activity_loss=dict(num_similar=1), '
        'uct_guide_loss=dict(max_iter=4))',
        extra="optim_wrapper = dict(optimizer=dict(lr=1e-3))")


def test_perturbation_keeps_clips_and_labels_aligned(config):
    """Training samples: NUM_SEGMENTS perturbed snippets (one per bin),
    their clips as the full video decodes them and their pseudo labels;
    the hook's scoring and the test (no pseudo labels) see every snippet."""
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    cfg = Config.fromfile(config)
    train = build(DATASETS, cfg.train_dataloader.dataset)
    labels = np.random.default_rng(0).integers(-1, 2, train.offsets[-1])
    train.set_labels(labels, 0.5)
    np.random.seed(0)
    for i in range(len(train)):
        t = int(train.num_snippets[i])
        sample = train[i]
        meta = sample['data_samples'].metainfo
        inds = np.asarray(meta['snippet_inds'])
        assert meta['num_snippets'] == NUM_SEGMENTS
        assert meta['snippet_size'] == SNIPPET * t / NUM_SEGMENTS
        assert (np.diff(inds) >= 0).all() and inds[-1] < t
        np.testing.assert_array_equal(
            sample['data_samples'].pseudo_label.numpy(),
            labels[train.offsets[i]:train.offsets[i + 1]][inds])
        full = train.dataset[i]
        assert full['data_samples'].metainfo['num_snippets'] == t
        assert torch.equal(sample['inputs'],
                           materialize(full['inputs'])[inds])


def test_end_to_end_raw_video(config, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py', config, '--work-dir', work, env=ONE_THREAD)
    summary = json.loads((work / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    assert summary['rounds'][1]['pseudo_labels_used']['coverage'] > 0
    end0, end1 = (state_dict(work / f'round_{r}.pth') for r in (0, 1))
    # the backbone is trained with the head; the curriculum restarts
    assert any(k.startswith('backbone.backbone.') for k in end0)
    assert not torch.equal(end0['cls_head.vAttn.attention.5.weight'],
                           end1['cls_head.vAttn.attention.5.weight'])
    assert int(end0['cls_head.iteration']) == int(
        end1['cls_head.iteration']) == 2
    # the backbone's 16 channels split into two 8-wide "streams"
    assert end0['cls_head.vAttn.bit_wise_attn.0.weight'].shape[:2] == (8, 8)
