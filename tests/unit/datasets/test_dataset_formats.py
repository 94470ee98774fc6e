# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Feature layouts on small generated files: per-video .npy + JSON, the
W-TALC bundle (through tools/data/convert_wtalc.py), float16 storage,
DataLoader workers, bad input, class lists from checkpoints and the
layout-2 configs."""
import json
import os
import os.path as osp
import pickle
import sys
import weakref
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import refineloc_mm  # noqa: F401
from refineloc_mm.datasets import (AnnotationError, NpySnippetFeatureDataset,
                                   PseudoLabelDataset, SnippetFeatureDataset,
                                   apply_checkpoint_classes,
                                   checkpoint_classes)
from refineloc_mm.datasets.object_npy import (UnsafeNpyError,
                                              load_object_npy,
                                              stream_object_npy)
from helpers.runs import REPO
from refineloc_mm.datasets.snippet_feature_dataset import CSV_COLUMNS

sys.path.insert(0, str(REPO / 'tools' / 'data'))
import convert_reference  # noqa: E402
import convert_wtalc  # noqa: E402

FPS, SNIPPET, WIDTH = 25.0, 16, 8
LENGTHS = {'vid_a': 10, 'vid_b': 6, 'vid_c': 5, 'vid_t': 7}
SUBSETS = {'vid_a': 'training', 'vid_b': 'training', 'vid_c': 'training',
           'vid_t': 'validation'}
SEGMENTS = {
    'vid_a': [([0.5, 2.0], 'Pole')],
    'vid_b': [([0.0, 1.0], 'Dive'), ([1.5, 3.0], 'Pole')],
    'vid_c': [([1.0, 2.0], 'Dive')],
    'vid_t': [([0.2, 1.2], 'Jump')],
}


def duration(num_snippets):
    return num_snippets * SNIPPET / FPS


def features(lengths=LENGTHS, width=WIDTH, seed=0):
    rng = np.random.default_rng(seed)
    return {
        v: rng.standard_normal((t, width)).astype(np.float32)
        for v, t in lengths.items()
    }


def database(fps=True, **overrides):
    db = {}
    for name, t in LENGTHS.items():
        db[name] = dict(
            subset=SUBSETS[name],
            duration=duration(t),
            annotations=[
                dict(segment=s, label=lab) for s, lab in SEGMENTS[name]
            ])
        if fps:
            db[name]['fps'] = FPS
    for name, entry in overrides.items():
        if entry is None:
            db.pop(name)
        else:
            db[name] = entry
    return db


def write_layout(root, feats=None, db=None, folder='features', dtype=None,
                 raw_json=None):
    """``root/<folder>/<video>.npy`` + ``root/ann.json``; returns paths."""
    feats = features() if feats is None else feats
    os.makedirs(root / folder, exist_ok=True)
    for name, arr in feats.items():
        np.save(root / folder / f'{name}.npy',
                arr if dtype is None else arr.astype(dtype))
    ann = root / 'ann.json'
    if raw_json is not None:
        ann.write_text(raw_json)
    else:
        ann.write_text(json.dumps(dict(database=database() if db is None
                                       else db)))
    return str(ann), str(root / folder)


def write_reference(root, feats, label='x', dtype=None):
    """The reference layout (HDF5 + CSV), one segment per video."""
    import csv
    h5_path, csv_path = root / 'split.h5', root / 'split.csv'
    with h5py.File(h5_path, 'w') as f:
        for name, arr in feats.items():
            f.create_dataset(name, data=arr if dtype is None else
                             arr.astype(dtype))
    with open(csv_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for name, arr in feats.items():
            t = LENGTHS.get(name, len(arr))
            writer.writerow([name, 0.0, 0.5, label, duration(t), FPS,
                             t * SNIPPET])
    return str(csv_path), str(h5_path)


def build(ann, feature_dir, **kwargs):
    kwargs.setdefault('snippet_size', SNIPPET)
    kwargs.setdefault('subset', 'training')
    return NpySnippetFeatureDataset(
        ann_file=ann, feature_dir=feature_dir, **kwargs)


pytestmark = pytest.mark.usefixtures('mmaction_dataset_scope')


# ------------------------------------------------------------ layout 2
def test_npy_layout_samples(tmp_path):
    """Subset, class order from the whole file, inputs, labels, meta."""
    ann, fdir = write_layout(tmp_path)
    feats = features()
    ds = build(ann, fdir, in_channels=WIDTH)
    assert len(ds) == 3
    # 'Jump' only occurs in the validation subset: still in the mapping
    assert ds.metainfo['classes'] == ('Dive', 'Jump', 'Pole')
    np.testing.assert_array_equal(ds.num_snippets, [10, 6, 5])
    sample = ds[1]
    np.testing.assert_array_equal(sample['inputs'].numpy(), feats['vid_b'])
    assert sample['inputs'].dtype == torch.float32
    torch.testing.assert_close(sample['data_samples'].gt_label,
                               torch.tensor([1., 0., 1.]))
    np.testing.assert_allclose(
        np.asarray(sample['data_samples'].gt_segments),
        [[0.0, 1.0, 0], [1.5, 3.0, 2]])
    meta = sample['data_samples'].metainfo
    assert meta['video_name'] == 'vid_b' and meta['fps'] == FPS
    assert meta['num_snippets'] == 6 and meta['snippet_size'] == SNIPPET
    val = build(ann, fdir, subset='VALIDATION', test_mode=True)
    assert [val.get_data_info(i)['video_name']
            for i in range(len(val))] == ['vid_t']
    assert val.metainfo['classes'] == ds.metainfo['classes']
    both = build(ann, fdir, subset=['training', 'validation'])
    assert len(both) == 4 and len(build(ann, fdir, subset=None)) == 4


def test_npy_and_reference_layout_agree(tmp_path):
    """The reference layout converted by tools/data/convert_reference.py
    gives the same data_info and samples as the HDF5 + CSV it came from."""
    ref = tmp_path / 'ref'
    ref.mkdir()
    csv_path, h5_path = write_reference(ref, features())
    out = tmp_path / 'npy'
    convert_reference.main([
        '--features', h5_path, '--groundtruth', csv_path, '--subset', 'val',
        '--out-dir', str(out)
    ])
    a = SnippetFeatureDataset(csv_path, h5_path, snippet_size=16, stream=1)
    b = NpySnippetFeatureDataset(
        str(out / 'annotations.json'), str(out / 'features'), subset='val',
        snippet_size=16, stream=1)
    assert len(a) == len(b) == 4 and a.metainfo == b.metainfo
    for i in range(len(a)):
        ia, ib = a.get_data_info(i), b.get_data_info(i)
        common = set(ia) & set(ib)
        assert {'video_name', 'duration', 'fps', 'num_frames', 'snippet_size',
                'num_snippets', 'labels', 'gt_segments', 'fg_mask',
                'num_classes'} <= common
        for key in common:
            np.testing.assert_array_equal(ia[key], ib[key], err_msg=key)
        sa, sb = a[i], b[i]
        torch.testing.assert_close(sa['inputs'], sb['inputs'])
        torch.testing.assert_close(sa['data_samples'].gt_label,
                                   sb['data_samples'].gt_label)
    # float16 copy of the reference layout reads back as float32
    half = tmp_path / 'half'
    convert_reference.main([
        '--features', h5_path, '--groundtruth', csv_path, '--format', 'hdf5',
        '--float16', '--out-dir', str(half)
    ])
    c = SnippetFeatureDataset(
        str(half / 'split.csv'), str(half / 'split.h5'), snippet_size=16)
    want = features()['vid_b'].astype(np.float16).astype(np.float32)
    assert c[1]['inputs'].dtype == torch.float32
    np.testing.assert_array_equal(c[1]['inputs'].numpy(), want)


@pytest.mark.parametrize('stream', [0, 1, 2])
def test_stream_folders_concatenated(tmp_path, stream):
    """rgb/ + flow/ are concatenated along D; a stream that is one folder
    reads only that folder's files."""
    rgb = features(width=4, seed=1)
    flow = features(width=6, seed=2)
    write_layout(tmp_path, rgb, folder='rgb')
    ann, _ = write_layout(tmp_path, flow, folder='flow')
    both = {n: np.concatenate([rgb[n], flow[n]], 1) for n in rgb}
    # widths 4 + 6: the halves of 10 are columns 0-5 and 5-10
    cols = {0: slice(0, 5), 1: slice(5, 10), 2: slice(0, 10)}[stream]
    ds = build(ann, [str(tmp_path / 'rgb'), str(tmp_path / 'flow')],
               stream=stream)
    for i, name in enumerate(['vid_a', 'vid_b', 'vid_c']):
        np.testing.assert_array_equal(ds[i]['inputs'].numpy(),
                                      both[name][:, cols])
    eq_rgb = features(width=5, seed=1)
    eq_flow = features(width=5, seed=2)
    write_layout(tmp_path, eq_rgb, folder='rgb5')
    write_layout(tmp_path, eq_flow, folder='flow5')
    ds = build(ann, [str(tmp_path / 'rgb5'), str(tmp_path / 'flow5')],
               stream=stream)
    info = ds.get_data_info(0)
    if stream == 2:
        assert len(info['feature_paths']) == 2
    else:
        assert info['feature_paths'] == [
            str(tmp_path / ('rgb5', 'flow5')[stream] / 'vid_a.npy')
        ]
        np.testing.assert_array_equal(
            ds[0]['inputs'].numpy(), (eq_rgb, eq_flow)[stream]['vid_a'])


def test_float16_npy(tmp_path):
    """float16 files are read as float32, per video."""
    ann, fdir = write_layout(tmp_path, dtype=np.float16)
    ds = build(ann, fdir, in_channels=WIDTH)
    got = ds[0]['inputs']
    assert got.dtype == torch.float32
    np.testing.assert_array_equal(
        got.numpy(), features()['vid_a'].astype(np.float16).astype('f4'))


def test_fps_from_config_when_missing(tmp_path):
    """A JSON without fps needs fps=; the JSON's fps wins when present."""
    db = database(fps=False)
    db['vid_b']['fps'] = 30.0
    ann, fdir = write_layout(tmp_path, db=db)
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir)
    assert ann in str(e.value) and 'vid_a' in str(e.value)
    assert 'fps' in str(e.value)
    ds = build(ann, fdir, fps=FPS)
    assert [ds.get_data_info(i)['fps'] for i in range(3)] == [FPS, 30., FPS]


def collate_with_pid(batch):
    return pseudo_collate(batch), os.getpid()


@pytest.mark.parametrize('layout', ['npy', 'hdf5_float16'])
def test_dataloader_workers_open_files_themselves(tmp_path, monkeypatch,
                                                  layout):
    """num_workers=2: every worker reads (opens/maps) the files itself
    and gets the values of the main process."""
    lengths = {f'vid_{i}': 3 + i for i in range(8)}
    feats = features(lengths)
    db = {
        n: dict(subset='training', duration=duration(t), fps=FPS,
                annotations=[dict(segment=[0.0, 0.5], label='x')])
        for n, t in lengths.items()
    }
    opened = tmp_path / 'opened.txt'

    def recording(fn):

        def wrapper(*args, **kwargs):
            with open(opened, 'a') as f:
                f.write(f'{os.getpid()}\n')
            return fn(*args, **kwargs)

        return wrapper

    if layout == 'npy':
        ann, fdir = write_layout(tmp_path, feats, db)
        ds = build(ann, fdir, stream=1)
        monkeypatch.setattr(np, 'load', recording(np.load))
    else:
        ann, feat = write_reference(tmp_path, feats, dtype=np.float16)
        ds = SnippetFeatureDataset(ann, feat, stream=1)
        feats = {
            n: a.astype(np.float16).astype('f4')
            for n, a in feats.items()
        }
        monkeypatch.setattr(h5py, 'File', recording(h5py.File))

    def read(num_workers):
        loader = DataLoader(ds, batch_size=3, num_workers=num_workers,
                            collate_fn=collate_with_pid)
        out, pids = {}, set()
        for batch, pid in loader:
            pids.add(pid)
            for x, s in zip(batch['inputs'], batch['data_samples']):
                out[s.metainfo['video_name']] = x.numpy()
        return out, pids

    serial, _ = read(0)
    parallel, workers = read(2)
    assert sorted(parallel) == sorted(feats)
    for name, a in feats.items():
        np.testing.assert_array_equal(serial[name], a[:, WIDTH // 2:])
        np.testing.assert_array_equal(parallel[name], serial[name])
    assert os.getpid() not in workers and len(workers) == 2
    openers = {int(p) for p in opened.read_text().split()}
    assert workers <= openers


def test_pseudo_label_dataset_and_class_order_in_checkpoint(tmp_path):
    """The wrapper sees the npy dataset like the HDF5 one; its metainfo
    (what Runner.save_checkpoint stores) round-trips the class order to a
    test config that has none."""
    ann, fdir = write_layout(tmp_path)
    ds = PseudoLabelDataset(
        dict(type='NpySnippetFeatureDataset', ann_file=ann, feature_dir=fdir,
             subset='training', snippet_size=SNIPPET))
    np.testing.assert_array_equal(ds.num_snippets, [10, 6, 5])
    assert ds.fg_masks.shape == (21, ) and ds.fg_masks.any()
    assert ds[0]['data_samples'].pseudo_label.shape == (10, )
    ckpt = tmp_path / 'round_0.pth'
    torch.save(dict(meta=dict(dataset_meta=ds.metainfo), state_dict={}),
               ckpt)
    assert checkpoint_classes(str(ckpt)) == ('Dive', 'Jump', 'Pole')

    split = dict(type='NpySnippetFeatureDataset', ann_file=ann,
                 feature_dir=fdir, subset='validation')
    cfg = Config(dict(test_dataloader=dict(dataset=dict(split)),
                      val_dataloader=dict(dataset=dict(split))))
    assert apply_checkpoint_classes(cfg, str(ckpt)) == ('Dive', 'Jump',
                                                        'Pole')
    assert list(cfg.test_dataloader.dataset.classes) == ['Dive', 'Jump',
                                                         'Pole']
    cfg.test_dataloader.dataset.classes = ['Pole', 'Dive', 'Jump']
    with pytest.raises(ValueError, match='round_0.pth'):
        apply_checkpoint_classes(cfg, str(ckpt))
    torch.save(dict(meta=dict(), state_dict={}), tmp_path / 'none.pth')
    assert apply_checkpoint_classes(cfg, str(tmp_path / 'none.pth')) is None


# ------------------------------------------------------------ bad input
def test_missing_feature_file_and_skip(tmp_path, log_records):
    feats = features()
    feats.pop('vid_b')
    ann, fdir = write_layout(tmp_path, feats)
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir)
    assert 'vid_b' in str(e.value)
    assert osp.join(fdir, 'vid_b.npy') in str(e.value)
    ds = build(ann, fdir, on_error='skip')
    assert len(ds) == 2
    assert ds.skipped_videos == {'missing feature file': ['vid_b']}
    assert any(level == 'warning' and 'skipped 1 video' in m
               and 'missing feature file' in m and 'vid_b' in m
               for level, m in log_records), log_records
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build(ann, str(tmp_path / 'nowhere'))


@pytest.mark.parametrize('content', ['garbage', 'truncated', 'object'])
def test_unreadable_feature_file(tmp_path, content):
    ann, fdir = write_layout(tmp_path)
    path = osp.join(fdir, 'vid_c.npy')
    if content == 'garbage':
        Path(path).write_bytes(b'not a numpy file at all')
    elif content == 'truncated':
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[:-20])
    else:
        arr = np.empty(1, dtype=object)
        arr[0] = features()['vid_c']
        np.save(path, arr, allow_pickle=True)
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir)
    assert path in str(e.value) and 'vid_c' in str(e.value)
    assert len(build(ann, fdir, on_error='skip')) == 2


@pytest.mark.parametrize('entry, words', [
    (dict(subset='training', duration=duration(6), fps=FPS), 'annotations'),
    (dict(subset='training', duration=duration(6), fps=FPS,
          annotations=[]), 'annotations'),
    (dict(subset='training', fps=FPS,
          annotations=[dict(segment=[0, 1], label='Dive')]), 'duration'),
    (dict(subset='training', duration='long', fps=FPS,
          annotations=[dict(segment=[0, 1], label='Dive')]), 'duration'),
    (dict(subset='training', duration=duration(6), fps=FPS,
          annotations=[dict(segment=[2, 1], label='Dive')]), 'segment'),
    (dict(subset='training', duration=duration(6), fps=FPS,
          annotations=[dict(segment=[0, 1])]), 'annotation 0'),
    (['training', 6.0], 'not an object'),
])
def test_bad_annotation_of_a_video(tmp_path, entry, words):
    ann, fdir = write_layout(tmp_path, db=database(vid_b=entry))
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir)
    assert ann in str(e.value) and 'vid_b' in str(e.value)
    assert words in str(e.value)
    ds = build(ann, fdir, on_error='skip')
    assert sum(ds.skipped_videos.values(), []) == ['vid_b']


def test_features_without_annotation_counted(tmp_path, log_records):
    feats = features()
    feats.update(features({'extra_1': 3, 'extra_2': 4}, seed=3))
    ann, fdir = write_layout(tmp_path, feats)
    assert len(build(ann, fdir)) == 3
    assert any('2 feature file(s)' in m and fdir in m
               for _, m in log_records), log_records


def test_streams_of_different_lengths(tmp_path, log_records):
    rgb = features(width=4, seed=1)
    flow = features(width=4, seed=2)
    flow['vid_b'] = flow['vid_b'][:5]
    write_layout(tmp_path, rgb, folder='rgb')
    ann, _ = write_layout(tmp_path, flow, folder='flow')
    dirs = [str(tmp_path / 'rgb'), str(tmp_path / 'flow')]
    with pytest.raises(AnnotationError) as e:
        build(ann, dirs)
    msg = str(e.value)
    assert 'vid_b' in msg and 'different lengths' in msg
    assert osp.join(dirs[0], 'vid_b.npy') in msg and '6 snippets' in msg
    assert osp.join(dirs[1], 'vid_b.npy') in msg and '5 snippets' in msg
    ds = build(ann, dirs, max_length_difference=1)
    assert ds.get_data_info(1)['num_snippets'] == 5
    np.testing.assert_array_equal(
        ds[1]['inputs'].numpy(),
        np.concatenate([rgb['vid_b'][:5], flow['vid_b']], 1))
    assert any('cut 1 video' in m for _, m in log_records), log_records


@pytest.mark.parametrize('layout', ['npy', 'hdf5'])
@pytest.mark.parametrize('in_channels', [None, WIDTH])
def test_transposed_and_1d_features(tmp_path, layout, in_channels):
    """[D, T] and 1-D arrays are named as such, with file and video."""
    for bad, words in [('transposed', 'stored as [D, T]'),
                       ('flat', '1-D')]:
        feats = features({k: v for k, v in LENGTHS.items() if k != 'vid_t'})
        feats['vid_b'] = (feats['vid_b'].T.copy() if bad == 'transposed'
                          else feats['vid_b'][:, 0].copy())
        root = tmp_path / bad
        root.mkdir()
        if layout == 'npy':
            ann, source = write_layout(root, feats)
            path = osp.join(source, 'vid_b.npy')
            kwargs = dict(subset='training', feature_dir=source)
            cls = NpySnippetFeatureDataset
        else:
            ann, path = write_reference(root, feats)
            kwargs = dict(feature_file=path)
            cls = SnippetFeatureDataset
        with pytest.raises(AnnotationError) as e:
            cls(ann_file=ann, snippet_size=SNIPPET, in_channels=in_channels,
                **kwargs)
        assert path in str(e.value) and 'vid_b' in str(e.value)
        assert words in str(e.value), str(e.value)


def test_single_transposed_video_without_in_channels(tmp_path):
    """One video, no in_channels: its duration tells time from width."""
    feats = {'vid_a': features()['vid_a'].T.copy()}  # [8, 10]
    ann, fdir = write_layout(tmp_path, feats,
                             db=database(vid_b=None, vid_c=None, vid_t=None))
    with pytest.raises(AnnotationError, match=r'stored as \[D, T\]'):
        build(ann, fdir)


@pytest.mark.parametrize('raw', ['', '  \n', '{}', '{"database": {}}',
                                 '{"database": ', '[1, 2]'])
def test_empty_or_invalid_annotation_file(tmp_path, raw):
    ann, fdir = write_layout(tmp_path, raw_json=raw)
    with pytest.raises(AnnotationError, match='ann.json'):
        build(ann, fdir)


def test_subset_absent(tmp_path):
    ann, fdir = write_layout(tmp_path)
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir, subset='testing')
    assert 'testing' in str(e.value) and "'training'" in str(e.value)


def test_unknown_label_with_explicit_classes(tmp_path):
    ann, fdir = write_layout(tmp_path)
    with pytest.raises(AnnotationError) as e:
        build(ann, fdir, classes=['Pole', 'Jump'])
    assert ann in str(e.value) and 'vid_b' in str(e.value)
    assert 'Dive' in str(e.value)


def test_hdf5_skip_option(tmp_path, log_records):
    """The reference layout has the same skip option, counted in the
    log."""
    feats = features()
    ann, feat = write_reference(tmp_path, feats)
    with h5py.File(feat, 'a') as f:
        del f['vid_c']
    with pytest.raises(AnnotationError, match='vid_c'):
        SnippetFeatureDataset(ann, feat)
    ds = SnippetFeatureDataset(ann, feat, on_error='skip')
    assert len(ds) == 3
    assert ds.skipped_videos == {'no features': ['vid_c']}
    assert any('skipped 1 video' in m and 'vid_c' in m
               for _, m in log_records)


# ------------------------------------------------------ W-TALC bundle
def save_object_array(path, items, protocol=4):
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = item
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(
            f, np.lib.format.header_data_from_array_1_0(arr))
        pickle.dump(arr, f, protocol=protocol)


class _Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING), as the original
    bundles do."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, 'little') + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def write_bundle(root, feats, names, subsets, segments, labels,
                 durations=True, py2=False):
    ann = root / 'Bundle-Annotations'
    ann.mkdir(parents=True)
    np.save(ann / 'videoname.npy', np.array([n.encode() for n in names]))
    save_object_array(ann / 'segments.npy', segments)
    label_items = [[lab.encode() for lab in labs] for labs in labels]
    if py2:
        arr = np.empty(len(label_items), dtype=object)
        arr[:] = label_items
        with open(ann / 'labels.npy', 'wb') as f:
            np.lib.format.write_array_header_1_0(
                f, np.lib.format.header_data_from_array_1_0(arr))
            _Py2Pickler(f, protocol=2).dump(arr)
    else:
        save_object_array(ann / 'labels.npy', label_items)
    save_object_array(ann / 'labels_all.npy',
                      [sorted(set(labs)) for labs in label_items])
    np.save(ann / 'subset.npy', np.array([s.encode() for s in subsets]))
    if durations:
        np.save(ann / 'duration.npy',
                np.array([duration(LENGTHS[n]) for n in names]))
    feat_path = root / 'Bundle-I3D-JOINTFeatures.npy'
    save_object_array(feat_path, feats)
    return str(feat_path), str(ann)


def bundle_args():
    feats = list(features().values())
    names = list(LENGTHS)
    subsets = [SUBSETS[n] for n in names]
    segments = [[s for s, _ in SEGMENTS[n]] for n in names]
    labels = [[lab for _, lab in SEGMENTS[n]] for n in names]
    return feats, names, subsets, segments, labels


@pytest.mark.parametrize('float16, py2', [(False, False), (True, True)])
def test_wtalc_bundle_converted(tmp_path, float16, py2):
    """convert_wtalc.py writes layout 2; the dataset reads the bundle's
    features, labels and segments back."""
    feats, names, subsets, segments, labels = bundle_args()
    feat_path, ann_dir = write_bundle(tmp_path, feats, names, subsets,
                                      segments, labels, py2=py2)
    out = tmp_path / 'out'
    argv = ['--features', feat_path, '--annotations', ann_dir, '--out-dir',
            str(out), '--fps', str(FPS)]
    convert_wtalc.main(argv + (['--float16'] if float16 else []))
    ds = build(str(out / 'annotations.json'), str(out / 'features'))
    assert ds.metainfo['classes'] == ('Dive', 'Jump', 'Pole')
    for i in range(len(ds)):
        want = feats[i].astype(np.float16).astype('f4') if float16 \
            else feats[i]
        np.testing.assert_array_equal(ds[i]['inputs'].numpy(), want)
    np.testing.assert_allclose(
        np.asarray(ds[1]['data_samples'].gt_segments),
        [[0.0, 1.0, 0], [1.5, 3.0, 2]])
    assert ds.get_data_info(0)['fps'] == FPS
    assert ds.get_data_info(0)['duration'] == pytest.approx(duration(10))


def test_wtalc_bundle_errors(tmp_path):
    feats, names, subsets, segments, labels = bundle_args()
    feat_path, ann_dir = write_bundle(tmp_path / 'a', feats[:3], names,
                                      subsets, segments, labels)
    out = str(tmp_path / 'out')
    with pytest.raises(convert_wtalc.ConversionError, match='3 feature'):
        convert_wtalc.convert(feat_path, ann_dir, out, FPS)
    feat_path, ann_dir = write_bundle(tmp_path / 'b', feats, names, subsets,
                                      segments, labels, durations=False)
    with pytest.raises(convert_wtalc.ConversionError, match='duration.npy'):
        convert_wtalc.convert(feat_path, ann_dir, out, FPS)
    counts = convert_wtalc.convert(feat_path, ann_dir, out, FPS,
                                   duration_from_features=True,
                                   subsets=['training'])
    assert counts['written'] == 3 and counts['other_subset'] == 1
    bad_labels = [labs[:1] for labs in labels]
    feat_path, ann_dir = write_bundle(tmp_path / 'c', feats, names, subsets,
                                      segments, bad_labels)
    with pytest.raises(convert_wtalc.ConversionError, match='vid_b'):
        convert_wtalc.convert(feat_path, ann_dir, out, FPS)


def test_pickles_are_read_without_running_code(tmp_path):
    """Only numpy data is unpickled; anything else is refused."""

    class Evil:

        def __reduce__(self):
            return (os.system, ('echo unsafe',))

    path = tmp_path / 'evil.npy'
    save_object_array(path, [Evil()])
    with pytest.raises(UnsafeNpyError, match='evil.npy'):
        load_object_npy(str(path))
    with pytest.raises(UnsafeNpyError, match='system'):
        stream_object_npy(str(path), lambda i, a: None)


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_streaming_holds_one_video(tmp_path, protocol):
    """Each per-video array is released before the next one is read."""
    feats = [np.full((50, 64), i, np.float32) for i in range(6)]
    path = tmp_path / 'f.npy'
    save_object_array(path, feats, protocol=protocol)
    previous, seen = [], []

    def on_array(i, arr):
        if previous:
            assert previous[-1]() is None, 'the last video is still held'
        seen.append(i)
        np.testing.assert_array_equal(arr, feats[i])
        previous.append(weakref.ref(arr))

    assert stream_object_npy(str(path), on_array) == 6
    assert seen == list(range(6))


# ------------------------------------------------------------- configs
def _without_data(cfg):
    drop = {
        'train_dataloader', 'val_dataloader', 'test_dataloader',
        'train_split', 'test_split', 'split', 'dataset_type', 'data_root',
        'feature_dir', 'filename_tmpl', 'train_subset', 'test_subset', 'fps',
        'ann_file', 'classes', 'pipeline'
    }
    return {k: v for k, v in cfg.to_dict().items() if k not in drop}


@pytest.mark.parametrize('name', ['50x100e_thumos14', '50x50e_activitynet12'])
def test_npy_configs_match_reference_configs(tmp_path, name):
    """Same model, schedule and refinement as the reference-layout config;
    the layout-2 dataset builds from the config on generated files."""
    stem = REPO / 'configs' / 'refineloc' / f'refineloc_i3d_{name}'
    ref = Config.fromfile(f'{stem}.py')
    npy = Config.fromfile(f'{stem}-npy.py')
    assert _without_data(ref) == _without_data(npy)
    for key in ('batch_size', 'num_workers', 'sampler'):
        assert ref.train_dataloader[key] == npy.train_dataloader[key]
    split = npy.train_dataloader.dataset.dataset
    classes = split['classes']
    width = split['in_channels'] * (1 if split['stream'] == 2 else 2)
    lengths = {'v1': 4, 'v2': 3}
    feats = features(lengths, width=width)
    db = {
        n: dict(subset=split['subset'], duration=duration(t), fps=FPS,
                annotations=[dict(segment=[0.0, 0.5], label=classes[i])])
        for i, (n, t) in enumerate(lengths.items())
    }
    root = tmp_path / 'data'
    write_layout(root, feats, db, folder=split['feature_dir'])
    os.replace(root / 'ann.json', root / split['ann_file'])
    split = dict(split, data_root=str(root))
    ds = PseudoLabelDataset(split)
    assert len(ds) == 2 and ds.metainfo['classes'] == tuple(classes)
    assert ds[0]['inputs'].shape == (4, split['in_channels'])


# ------------------------------------------------------------ batching
def test_packed_collate_gives_the_same_losses(tmp_path):
    """packed_snippet_collate (used by the layout-2 configs) packs in the
    workers, in shared memory; the model sees the same batch."""
    from mmaction.registry import MODELS
    from refineloc_mm.datasets import packed_snippet_collate
    ann, fdir = write_layout(tmp_path)
    ds = PseudoLabelDataset(
        dict(type='NpySnippetFeatureDataset', ann_file=ann, feature_dir=fdir,
             subset='training', snippet_size=SNIPPET))
    labels = np.random.default_rng(0).integers(-1, 2, 21)
    ds.set_labels(labels, 0.4)
    cfg = Config.fromfile(
        str(REPO / 'configs/refineloc/_base_/refineloc_i3d.py'))
    cfg.model.cls_head.update(in_channels=WIDTH, num_classes=3)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)

    def losses(collate, workers):
        loader = DataLoader(ds, batch_size=3, num_workers=workers,
                            collate_fn=collate)
        batch = next(iter(loader))
        data = model.data_preprocessor(batch, True)
        return batch, model(**data, mode='loss')

    ref_batch, ref = losses(pseudo_collate, 0)
    for workers in (0, 2):
        batch, got = losses(packed_snippet_collate, workers)
        assert isinstance(batch['inputs'], torch.Tensor)
        torch.testing.assert_close(batch['inputs'],
                                   torch.cat(ref_batch['inputs']))
        assert batch['inputs'].is_shared() == (workers > 0)
        assert sorted(got) == sorted(ref)
        for key in ref:
            torch.testing.assert_close(got[key], ref[key])
