# Copyright (c) refineloc-mm contributors. All rights reserved.
"""SnippetFeatureDataset on tiny files in the reference layout."""
import csv
import os

import h5py
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import refineloc_mm  # noqa: F401
from refineloc_mm.datasets import SnippetFeatureDataset
from refineloc_mm.datasets.snippet_feature_dataset import (CSV_COLUMNS,
                                                           AnnotationError)

FPS, SNIPPET, WIDTH = 30.0, 16, 8
LENGTHS = {'vid_a': 10, 'vid_b': 6, 'vid_c': 5}


def duration(num_snippets):
    """Video duration in seconds of ``num_snippets`` snippets."""
    return num_snippets * SNIPPET / FPS


def gt_row(video, t_start, t_end, label, num_snippets=None):
    """One ground-truth CSV row in the reference layout."""
    num_snippets = num_snippets or LENGTHS.get(video, 5)
    dur = duration(num_snippets)
    return [video, t_start, t_end, label, dur, FPS, round(dur * FPS)]


def default_features(lengths=LENGTHS, width=WIDTH, seed=0):
    """Deterministic float32 [T, D] features per video."""
    rng = np.random.default_rng(seed)
    return {
        v: rng.standard_normal((t, width)).astype(np.float32)
        for v, t in lengths.items()
    }


DEFAULT_ROWS = [
    gt_row('vid_a', 0.5, 2.0, '2'),
    gt_row('vid_b', 0.0, 1.0, '10'),
    gt_row('vid_b', 1.5, 3.0, '2'),
    gt_row('vid_c', 1.0, 2.0, '10'),
]


def write_split(tmp_path, features=None, rows=None, header=True,
                raw_csv=None):
    """Write ``split.h5`` and ``split.csv``; return their paths."""
    features = default_features() if features is None else features
    rows = DEFAULT_ROWS if rows is None else rows
    h5_path, csv_path = tmp_path / 'split.h5', tmp_path / 'split.csv'
    with h5py.File(h5_path, 'w') as f:
        for name, feats in features.items():
            f.create_dataset(name, data=feats)
    if raw_csv is not None:
        csv_path.write_text(raw_csv)
    else:
        with open(csv_path, 'w', newline='') as f:
            writer = csv.writer(f)
            if header:
                writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
    return str(csv_path), str(h5_path)


def build(ann_file, feature_file, **kwargs):
    """A SnippetFeatureDataset with snippet size 16."""
    kwargs.setdefault('snippet_size', SNIPPET)
    return SnippetFeatureDataset(
        ann_file=ann_file, feature_file=feature_file, **kwargs)


pytestmark = pytest.mark.usefixtures('mmaction_dataset_scope')


def test_reference_layout(tmp_path):
    """Length, class order, inputs, labels, segments and metainfo."""
    ann, feat = write_split(tmp_path)
    features = default_features()
    ds = build(ann, feat, stream=2, in_channels=WIDTH)
    assert len(ds) == 3
    assert tuple(ds.metainfo['classes']) == ('2', '10')
    np.testing.assert_array_equal(ds.num_snippets, [10, 6, 5])

    sample = ds[1]
    inputs, data_sample = sample['inputs'], sample['data_samples']
    assert isinstance(inputs, torch.Tensor)
    assert inputs.dtype == torch.float32
    assert tuple(inputs.shape) == (6, WIDTH)
    np.testing.assert_array_equal(inputs.numpy(), features['vid_b'])
    torch.testing.assert_close(data_sample.gt_label, torch.tensor([1., 1.]))
    np.testing.assert_allclose(
        np.asarray(data_sample.gt_segments),
        [[0.0, 1.0, 1], [1.5, 3.0, 0]])
    meta = data_sample.metainfo
    assert meta['video_name'] == 'vid_b'
    assert meta['fps'] == FPS
    assert meta['snippet_size'] == SNIPPET
    assert meta['num_snippets'] == 6
    assert meta['duration'] == pytest.approx(duration(6))

    sample = ds[0]
    assert sample['data_samples'].metainfo['video_name'] == 'vid_a'
    torch.testing.assert_close(sample['data_samples'].gt_label,
                               torch.tensor([1., 0.]))
    np.testing.assert_allclose(
        np.asarray(sample['data_samples'].gt_segments), [[0.5, 2.0, 0]])


@pytest.mark.parametrize('stream, cols', [(0, slice(0, 4)),
                                          (1, slice(4, 8)),
                                          (2, slice(0, 8))])
def test_stream_selects_half(tmp_path, stream, cols):
    """stream 0/1/2 give the first half, the second half, both."""
    ann, feat = write_split(tmp_path)
    features = default_features()
    width = cols.stop - cols.start
    ds = build(ann, feat, stream=stream, in_channels=width)
    for i, name in enumerate(LENGTHS):
        inputs = ds[i]['inputs']
        assert inputs.dtype == torch.float32
        assert tuple(inputs.shape) == (LENGTHS[name], width)
        np.testing.assert_array_equal(inputs.numpy(),
                                      features[name][:, cols])


def test_class_order_numeric_alphabetic_explicit(tmp_path):
    """Integers sort numerically, names alphabetically, explicit kept."""
    ann, feat = write_split(tmp_path)
    assert tuple(build(ann, feat).metainfo['classes']) == ('2', '10')

    explicit = build(ann, feat, classes=['10', '2'])
    assert tuple(explicit.metainfo['classes']) == ('10', '2')
    torch.testing.assert_close(explicit[0]['data_samples'].gt_label,
                               torch.tensor([0., 1.]))
    np.testing.assert_allclose(
        np.asarray(explicit[0]['data_samples'].gt_segments),
        [[0.5, 2.0, 1]])

    named = tmp_path / 'named'
    named.mkdir()
    rows = [
        gt_row('vid_a', 0.5, 2.0, 'Pole'),
        gt_row('vid_b', 0.0, 1.0, 'Diving'),
        gt_row('vid_c', 1.0, 2.0, 'Long'),
    ]
    ann, feat = write_split(named, rows=rows)
    ds = build(ann, feat)
    assert tuple(ds.metainfo['classes']) == ('Diving', 'Long', 'Pole')
    torch.testing.assert_close(ds[0]['data_samples'].gt_label,
                               torch.tensor([0., 0., 1.]))


def test_multi_label_video(tmp_path):
    """A video annotated with two classes carries both in gt_label."""
    ann, feat = write_split(tmp_path)
    ds = build(ann, feat)
    labels = [ds[i]['data_samples'].gt_label for i in range(len(ds))]
    torch.testing.assert_close(
        torch.stack(labels),
        torch.tensor([[1., 0.], [1., 1.], [0., 1.]]))


def test_missing_feature_file(tmp_path):
    """A missing HDF5 file is a FileNotFoundError naming it."""
    ann, _ = write_split(tmp_path)
    missing = str(tmp_path / 'nowhere.h5')
    with pytest.raises(FileNotFoundError, match='nowhere.h5'):
        build(ann, missing)


def test_video_without_features(tmp_path):
    """A CSV video absent from the HDF5 file is named with the file."""
    rows = DEFAULT_ROWS + [gt_row('vid_missing', 0.0, 1.0, '2')]
    ann, feat = write_split(tmp_path, rows=rows)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat)
    assert 'vid_missing' in str(e.value)
    assert feat in str(e.value)


@pytest.mark.parametrize('stream, in_channels', [(2, 6), (1, 8), (0, 2)])
def test_width_mismatch(tmp_path, stream, in_channels):
    """A feature width other than ``in_channels`` is refused."""
    ann, feat = write_split(tmp_path)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat, stream=stream, in_channels=in_channels)
    assert feat in str(e.value)
    assert 'vid_a' in str(e.value)
    assert str(in_channels) in str(e.value)


@pytest.mark.parametrize('bad, stream, channel', [(np.nan, 2, 1),
                                                   (np.inf, 1, 5),
                                                   (-np.inf, 0, 2)])
def test_non_finite_features(tmp_path, bad, stream, channel):
    """NaN/Inf features raise when the sample is loaded."""
    features = default_features()
    features['vid_b'][3, channel] = bad
    ann, feat = write_split(tmp_path, features=features)
    ds = build(ann, feat, stream=stream)
    ds[0]  # other videos still load
    with pytest.raises(ValueError) as e:
        ds[1]
    assert feat in str(e.value)
    assert 'vid_b' in str(e.value)


def test_zero_snippets(tmp_path):
    """A video with no snippets is refused, naming file and video."""
    features = default_features()
    features['vid_c'] = np.zeros((0, WIDTH), np.float32)
    ann, feat = write_split(tmp_path, features=features)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat)
    assert feat in str(e.value)
    assert 'vid_c' in str(e.value)


def test_features_stored_1d(tmp_path):
    """1-D features are refused, naming file and video."""
    features = default_features()
    features['vid_c'] = features['vid_c'][:, 0].copy()
    ann, feat = write_split(tmp_path, features=features)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat)
    assert feat in str(e.value)
    assert 'vid_c' in str(e.value)


def test_unknown_label_with_explicit_classes(tmp_path):
    """A label outside the given ``classes`` names file and video."""
    ann, feat = write_split(tmp_path)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat, classes=['2'])
    assert ann in str(e.value)
    assert 'vid_b' in str(e.value)
    assert '10' in str(e.value)


@pytest.mark.parametrize('bad_row', [
    ['vid_b', 0.0, 1.0, '10', duration(6), FPS],
    ['vid_b', 0.0, 1.0, '10', duration(6), FPS, 96, 'extra'],
    ['vid_b', 'abc', 1.0, '10', duration(6), FPS, 96],
    ['vid_b', 0.0, '1.0s', '10', duration(6), FPS, 96],
    ['vid_b', 2.0, 1.0, '10', duration(6), FPS, 96],
    ['vid_b', 0.0, 1.0, '10', duration(6), FPS, 'inf'],
])
def test_malformed_row(tmp_path, bad_row):
    """Wrong field count / non-numeric time name file, line, video."""
    rows = [DEFAULT_ROWS[0], DEFAULT_ROWS[1], bad_row, DEFAULT_ROWS[3]]
    ann, feat = write_split(tmp_path, rows=rows)
    with pytest.raises(AnnotationError) as e:
        build(ann, feat)
    msg = str(e.value)
    assert ann in msg
    assert 'line 4' in msg  # header is line 1
    assert 'vid_b' in msg


@pytest.mark.parametrize('header', [False, True])
def test_empty_annotation_file(tmp_path, header):
    """An empty file or a header-only file is an error naming it."""
    ann, feat = write_split(tmp_path, rows=[], header=header)
    with pytest.raises(AnnotationError, match='split.csv'):
        build(ann, feat)


def test_segments_clipped_and_logged(tmp_path, log_records):
    """Segments past the video are clipped to [0, duration], logged."""
    dur = duration(LENGTHS['vid_a'])
    rows = [
        gt_row('vid_a', 4.0, dur + 3.0, '2'),
        gt_row('vid_a', -0.5, 1.0, '2'),
        gt_row('vid_b', 0.0, 1.0, '10'),
        gt_row('vid_c', 1.0, 2.0, '10'),
    ]
    ann, feat = write_split(tmp_path, rows=rows)
    ds = build(ann, feat)
    segments = np.asarray(ds[0]['data_samples'].gt_segments)
    np.testing.assert_allclose(segments, [[4.0, dur, 0], [0.0, 1.0, 0]])
    warnings = [m for level, m in log_records if level == 'warning']
    assert any('2 segment' in m and ann in m for m in warnings), warnings


def test_segments_outside_video_kept_and_logged(tmp_path, log_records):
    """A segment entirely past the video end stays as zero-length ground
    truth (the reference evaluator counts it) and is reported."""
    dur = duration(LENGTHS['vid_c'])
    rows = DEFAULT_ROWS + [gt_row('vid_c', dur + 1.0, dur + 2.0, '10')]
    ann, feat = write_split(tmp_path, rows=rows)
    ds = build(ann, feat)
    np.testing.assert_allclose(
        np.asarray(ds[2]['data_samples'].gt_segments),
        [[1.0, 2.0, 1], [dur, dur, 1]])
    warnings = [m for level, m in log_records if level == 'warning']
    assert any('1 segment(s) lie entirely outside' in m and 'vid_c' in m
               and ann in m for m in warnings), warnings


def test_unannotated_videos_reported(tmp_path, log_records):
    """HDF5 videos without annotations are not dropped silently."""
    features = default_features()
    features.update(default_features({'extra_1': 3, 'extra_2': 4}, seed=1))
    ann, feat = write_split(tmp_path, features=features)
    ds = build(ann, feat)
    assert len(ds) == 3
    assert any('2 video' in m and feat in m for _, m in log_records), \
        log_records


def collate_with_pid(batch):
    """``pseudo_collate``, plus the id of the process that collated."""
    return pseudo_collate(batch), os.getpid()


def test_dataloader_workers_read_every_video(tmp_path, monkeypatch):
    """Workers open their own HDF5 handles and read the same values."""
    features = default_features({f'vid_{i}': 3 + i for i in range(8)})
    rows = [gt_row(f'vid_{i}', 0.0, 1.0, '1', 3 + i) for i in range(8)]
    ann, feat = write_split(tmp_path, features=features, rows=rows)
    opened = tmp_path / 'opened.txt'
    h5_file = h5py.File

    def recording_file(*args, **kwargs):
        with open(opened, 'a') as f:
            f.write(f'{os.getpid()}\n')
        return h5_file(*args, **kwargs)

    monkeypatch.setattr(h5py, 'File', recording_file)
    ds = build(ann, feat, stream=1)

    def read(num_workers):
        loader = DataLoader(
            ds,
            batch_size=3,
            num_workers=num_workers,
            collate_fn=collate_with_pid)
        out, pids = {}, set()
        for batch, pid in loader:
            pids.add(pid)
            for inputs, sample in zip(batch['inputs'],
                                      batch['data_samples']):
                out[sample.metainfo['video_name']] = inputs.numpy()
        return out, pids

    serial, _ = read(0)  # opens a handle in the main process first
    parallel, workers = read(2)
    assert sorted(parallel) == sorted(features)
    for name, feats in features.items():
        np.testing.assert_array_equal(serial[name], feats[:, WIDTH // 2:])
        np.testing.assert_array_equal(parallel[name], serial[name])
    assert os.getpid() not in workers and len(workers) == 2
    openers = {int(pid) for pid in opened.read_text().split()}
    assert workers <= openers, 'a worker reused the parent HDF5 handle'
