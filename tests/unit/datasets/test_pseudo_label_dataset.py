# Copyright (c) refineloc-mm contributors. All rights reserved.
"""PseudoLabelDataset: snippet pseudo labels shared with DataLoader
workers."""
import csv

import h5py
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import refineloc_mm  # noqa: F401
from refineloc_mm.datasets import PseudoLabelDataset, SnippetFeatureDataset
from refineloc_mm.datasets.snippet_feature_dataset import CSV_COLUMNS

FPS, SNIPPET, WIDTH = 30.0, 16, 4
LENGTHS = {'vid_a': 7, 'vid_b': 4, 'vid_c': 9, 'vid_d': 5}
TOTAL = sum(LENGTHS.values())


def write_split(tmp_path):
    """Tiny HDF5 + ground-truth CSV in the reference layout."""
    h5_path, csv_path = tmp_path / 'split.h5', tmp_path / 'split.csv'
    rng = np.random.default_rng(0)
    with h5py.File(h5_path, 'w') as f:
        for name, t in LENGTHS.items():
            f.create_dataset(
                name, data=rng.standard_normal((t, WIDTH)).astype('f4'))
    with open(csv_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for i, (name, t) in enumerate(LENGTHS.items()):
            dur = t * SNIPPET / FPS
            writer.writerow(
                [name, 0.5, 1.5, str(i % 2), dur, FPS, round(dur * FPS)])
    return str(csv_path), str(h5_path)


def dataset_cfg(tmp_path):
    """Config of the wrapped SnippetFeatureDataset."""
    ann, feat = write_split(tmp_path)
    return dict(
        type='SnippetFeatureDataset',
        ann_file=ann,
        feature_file=feat,
        snippet_size=SNIPPET,
        stream=2,
        in_channels=WIDTH)


pytestmark = pytest.mark.usefixtures('mmaction_dataset_scope')


@pytest.fixture
def pl_dataset(tmp_path):
    """A PseudoLabelDataset around a built SnippetFeatureDataset."""
    cfg = dataset_cfg(tmp_path)
    cfg.pop('type')
    return PseudoLabelDataset(SnippetFeatureDataset(**cfg))


def pattern(seed):
    """A flat label pattern using -1, 0 and 1."""
    return np.random.default_rng(seed).integers(-1, 2, TOTAL)


def video_slices():
    """Slice of the flat labels owned by each video, by name."""
    offsets = np.cumsum([0] + list(LENGTHS.values()))
    return {
        name: slice(offsets[i], offsets[i + 1])
        for i, name in enumerate(LENGTHS)
    }


def test_labels_start_ignored(pl_dataset):
    """Before any update every snippet label is -1 and w_fg unset."""
    assert len(pl_dataset) == len(LENGTHS)
    np.testing.assert_array_equal(pl_dataset.labels, -np.ones(TOTAL))
    assert np.isnan(pl_dataset.fg_weight)
    for i, t in enumerate(LENGTHS.values()):
        sample = pl_dataset[i]['data_samples']
        assert sample.pseudo_label.dtype == torch.long
        torch.testing.assert_close(sample.pseudo_label,
                                   torch.full((t, ), -1))
        assert sample.metainfo['fg_weight'] is None


def test_set_labels_updates_samples(pl_dataset):
    """``set_labels`` changes every sample's pseudo label and w_fg."""
    labels = pattern(1)
    pl_dataset.set_labels(labels, 0.25)
    np.testing.assert_array_equal(pl_dataset.labels, labels)
    assert pl_dataset.fg_weight == 0.25
    for i, (name, sl) in enumerate(video_slices().items()):
        sample = pl_dataset[i]['data_samples']
        assert sample.metainfo['video_name'] == name
        np.testing.assert_array_equal(sample.pseudo_label.numpy(),
                                      labels[sl])
        assert sample.metainfo['fg_weight'] == 0.25
        assert tuple(pl_dataset[i]['inputs'].shape) == (LENGTHS[name],
                                                        WIDTH)


def test_built_from_config(tmp_path):
    """The wrapped dataset may be given as a config dict."""
    ds = PseudoLabelDataset(dataset_cfg(tmp_path))
    np.testing.assert_array_equal(ds.num_snippets, list(LENGTHS.values()))
    assert ds.video_names == list(LENGTHS)


@pytest.mark.parametrize('labels', [
    np.zeros(TOTAL - 1),
    np.zeros(TOTAL + 1),
    np.zeros((TOTAL, 1)),
    np.full(TOTAL, 2),
    np.full(TOTAL, -2),
    np.full(TOTAL, 0.5),
    np.full(TOTAL, np.nan),
    np.full(TOTAL, 257),
],
                         ids=[
                             'short', 'long', '2d', 'two', 'minus_two',
                             'half', 'nan', 'wraps_to_1'
                         ])
def test_set_labels_rejects_bad_input(pl_dataset, labels):
    """Wrong length or values outside {-1, 0, 1} raise, labels kept."""
    before = pattern(2)
    pl_dataset.set_labels(before, 0.5)
    with pytest.raises(ValueError):
        pl_dataset.set_labels(labels, 0.1)
    np.testing.assert_array_equal(pl_dataset.labels, before)
    assert pl_dataset.fg_weight == 0.5


def collect(loader):
    """video name -> (pseudo label, fg_weight) over one epoch."""
    out = {}
    for batch in loader:
        for sample in batch['data_samples']:
            out[sample.metainfo['video_name']] = (
                sample.pseudo_label.numpy().copy(),
                sample.metainfo['fg_weight'])
    return out


@pytest.mark.parametrize('context', ['fork', 'spawn'])
def test_updates_reach_persistent_workers(pl_dataset, context):
    """Labels set in the main process reach persistent workers."""
    loader = DataLoader(
        pl_dataset,
        batch_size=2,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate,
        multiprocessing_context=context)
    slices = video_slices()

    first = collect(loader)
    assert sorted(first) == sorted(LENGTHS)
    for name, (labels, w_fg) in first.items():
        np.testing.assert_array_equal(labels, -np.ones(LENGTHS[name]))
        assert w_fg is None

    for epoch, w_fg in [(1, 0.3), (2, 0.7)]:
        labels = pattern(10 + epoch)
        pl_dataset.set_labels(labels, w_fg)
        seen = collect(loader)
        assert sorted(seen) == sorted(LENGTHS)
        for name, (got, got_w) in seen.items():
            np.testing.assert_array_equal(got, labels[slices[name]])
            assert got_w == w_fg
    del loader
