# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC (with the refinement's attention branch) on raw video with a
tiny 3D backbone: the random crop in a raw-video pipeline keeps clips and
pseudo labels aligned (the run through tools/train.py is in
``tests/integration/test_wtalc_raw_video_e2e.py``)."""
import numpy as np
import pytest
import torch

from helpers.raw_video import (MAX_SEQLEN, build, materialize,
                               wtalc_config)

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    return wtalc_config(tmp_path_factory.mktemp('wtalc_videos'))


def test_crop_keeps_clips_and_labels_aligned(config):
    """Training samples keep MAX_SEQLEN consecutive snippets: the clips of
    those snippets (as the full video decodes them) and their pseudo
    labels; the hook's scoring (no pseudo labels) sees every snippet."""
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    cfg = Config.fromfile(config)
    train = build(DATASETS, cfg.train_dataloader.dataset)
    labels = np.random.default_rng(0).integers(-1, 2, train.offsets[-1])
    train.set_labels(labels, 0.5)
    np.random.seed(0)
    for i in range(len(train)):
        t = int(train.num_snippets[i])
        assert t > MAX_SEQLEN
        sample = train[i]
        meta = sample['data_samples'].metainfo
        inds = np.asarray(meta['snippet_inds'])
        assert meta['num_snippets'] == MAX_SEQLEN
        np.testing.assert_array_equal(inds, inds[0] + np.arange(MAX_SEQLEN))
        assert 0 <= inds[0] < t - MAX_SEQLEN
        np.testing.assert_array_equal(
            sample['data_samples'].pseudo_label.numpy(),
            labels[train.offsets[i]:train.offsets[i + 1]][inds])
        full = train.dataset[i]
        assert full['data_samples'].metainfo['num_snippets'] == t
        assert torch.equal(sample['inputs'],
                           materialize(full['inputs'])[inds])
