# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Bad input as a user meets it: ground-truth CSVs saved by spreadsheets,
truncated feature HDF5 files, a model narrower or wider than the features
and ActivityNet-style JSON with repeated keys, no subset or non-numeric
fields. Each error names the file and the video or key; accepted input is
checked by its parsed values."""
import csv
import json
import os
import re

import h5py
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import refineloc_mm  # noqa: F401
from helpers.runs import REPO, SYNTHETIC_CONFIG
from refineloc_mm.datasets import (AnnotationError, NpySnippetFeatureDataset,
                                   SnippetFeatureDataset)
from refineloc_mm.datasets.snippet_feature_dataset import (
    CSV_COLUMNS, read_groundtruth_csv)
from refineloc_mm.engine.hooks import InputWidthCheckHook

FPS, SNIPPET, WIDTH = 30.0, 16, 8
LENGTHS = {'vid_a': 10, 'vid_b': 6, 'vid_c': 5}
ROWS = [
    ['vid_a', 0.5, 2.0, '2'],
    ['vid_b', 0.0, 1.0, '10'],
    ['vid_b', 1.5, 3.0, '2'],
    ['vid_c', 1.0, 2.0, '10'],
]

pytestmark = pytest.mark.usefixtures('mmaction_dataset_scope')


def duration(num_snippets):
    return num_snippets * SNIPPET / FPS


def csv_rows(columns=CSV_COLUMNS, extra=None):
    """ROWS as dicts of every column of ``columns`` (``extra``: values of
    columns outside :data:`CSV_COLUMNS`)."""
    rows = []
    for name, start, end, label in ROWS:
        t = LENGTHS[name]
        row = {
            'video-name': name, 't-start': start, 't-end': end,
            'label': label, 'video-duration': duration(t), 'fps': FPS,
            'video-num-frames': t * SNIPPET
        }
        row.update(extra or {})
        rows.append([row[c] for c in columns])
    return rows


def write_csv(path, columns=CSV_COLUMNS, extra=None, encoding='utf-8'):
    with open(path, 'w', newline='', encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(csv_rows(columns, extra))
    return str(path)


def write_hdf5(path, width=WIDTH):
    rng = np.random.default_rng(0)
    with h5py.File(path, 'w') as f:
        for name, t in LENGTHS.items():
            f.create_dataset(
                name, data=rng.standard_normal((t, width)).astype('f4'))
    return str(path)


# ------------------------------------------------------------------ CSV
def test_csv_with_byte_order_mark(tmp_path):
    """A spreadsheet's "CSV UTF-8" (with a BOM) reads like a plain CSV."""
    plain = read_groundtruth_csv(write_csv(tmp_path / 'plain.csv'))
    bom = tmp_path / 'bom.csv'
    write_csv(bom, encoding='utf-8-sig')
    assert bom.read_bytes().startswith(b'\xef\xbb\xbf')
    assert read_groundtruth_csv(str(bom)) == plain
    assert list(plain) == ['vid_a', 'vid_b', 'vid_c']
    assert plain['vid_b']['segments'] == [(0.0, 1.0, '10'), (1.5, 3.0, '2')]
    assert plain['vid_b']['duration'] == duration(6)
    assert plain['vid_b']['num_frames'] == 6 * SNIPPET


def test_csv_columns_by_name(tmp_path, log_records):
    """Columns in another order and unknown columns (ignored, one log
    line naming them) give the same parsed values."""
    plain = read_groundtruth_csv(write_csv(tmp_path / 'plain.csv'))
    shuffled = list(reversed(CSV_COLUMNS))
    assert read_groundtruth_csv(
        write_csv(tmp_path / 'order.csv', shuffled)) == plain
    assert not log_records
    columns = ['comment'] + shuffled[:3] + ['subset'] + shuffled[3:]
    path = write_csv(tmp_path / 'extra.csv', columns,
                     extra=dict(comment='ok, fine', subset='validation'))
    assert read_groundtruth_csv(path) == plain
    lines = [m for _, m in log_records if 'unknown column' in m]
    assert len(lines) == 1, log_records
    assert path in lines[0] and "'comment'" in lines[0] \
        and "'subset'" in lines[0]


def test_csv_missing_or_repeated_column(tmp_path):
    """A missing or repeated column is named with the file."""
    columns = [c for c in CSV_COLUMNS if c != 'fps']
    path = write_csv(tmp_path / 'nofps.csv', columns)
    with pytest.raises(AnnotationError) as err:
        read_groundtruth_csv(path)
    assert path in str(err.value) and "['fps']" in str(err.value)
    path = tmp_path / 'twice.csv'
    path.write_text(','.join(CSV_COLUMNS + ('label', )) + '\n')
    with pytest.raises(AnnotationError, match=re.escape(str(path)) +
                       r".*repeats the column\(s\) \['label'\]"):
        read_groundtruth_csv(str(path))


def test_csv_conflicting_rows_refused(tmp_path):
    """Rows of one video with different durations: file, line, video."""
    path = tmp_path / 'conflict.csv'
    write_csv(path)
    with open(path, 'a', newline='') as f:
        csv.writer(f).writerow(
            ['vid_a', 3.0, 4.0, '2', duration(11), FPS, 11 * SNIPPET])
    with pytest.raises(AnnotationError, match=re.escape(str(path)) +
                       r', line 6 \(video "vid_a"\): duration/fps'):
        read_groundtruth_csv(str(path))


# ----------------------------------------------------------------- HDF5
def truncate(path):
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 2)


def test_truncated_hdf5_names_file_and_split(tmp_path):
    """An interrupted download: the error names the HDF5 file and the
    split's annotation file, not only h5py's message."""
    ann = write_csv(tmp_path / 'split.csv')
    feat = write_hdf5(tmp_path / 'split.h5')
    truncate(feat)
    with pytest.raises(OSError) as err:
        SnippetFeatureDataset(ann_file=ann, feature_file=feat,
                              snippet_size=SNIPPET)
    msg = str(err.value)
    assert msg.startswith(feat) and f'of the split {ann}' in msg
    assert 'truncated or corrupt' in msg


def test_hdf5_corrupted_after_indexing_names_file_and_video(tmp_path):
    """A file that breaks after the dataset was built (read lazily by
    LoadSnippetFeatures): the error names the file and the video."""
    ann = write_csv(tmp_path / 'split.csv')
    feat = write_hdf5(tmp_path / 'split.h5')
    ds = SnippetFeatureDataset(ann_file=ann, feature_file=feat,
                               snippet_size=SNIPPET)
    truncate(feat)
    with pytest.raises(OSError) as err:
        ds[1]
    msg = str(err.value)
    assert msg.startswith(feat) and 'video "vid_b"' in msg


# ---------------------------------------------------- model/data width
def width_runner(tmp_path, model_width, data_width=WIDTH, in_channels=True):
    """The synthetic config on a tiny reference-layout split of
    ``data_width``-d features, with ``model.cls_head.in_channels =
    model_width``."""
    ann = write_csv(tmp_path / 'split.csv')
    feat = write_hdf5(tmp_path / 'split.h5', data_width)
    cfg = Config.fromfile(str(REPO / SYNTHETIC_CONFIG))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.cls_head.in_channels = model_width
    split = dict(data_root='', ann_file=ann, feature_file=feat, stream=2,
                 in_channels=data_width if in_channels else None)
    cfg.train_dataloader.dataset.dataset.update(split)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(split)
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    return Runner.from_cfg(cfg)


def test_model_width_checked_before_training(tmp_path):
    """Both config keys and both widths, before the first batch."""
    runner = width_runner(tmp_path, model_width=16)
    assert any(isinstance(h, InputWidthCheckHook) for h in runner.hooks)
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert 'model.cls_head.in_channels=16' in msg
    assert 'train_dataloader.dataset.dataset.in_channels=8' in msg
    assert str(tmp_path / 'split.csv') in msg
    assert runner.iter == 0


def test_model_width_checked_before_testing(tmp_path):
    """Without in_channels in the dataset config the features' own width
    is compared (at test time too)."""
    runner = width_runner(tmp_path, model_width=16, in_channels=False)
    with pytest.raises(ValueError) as err:
        runner.test()
    msg = str(err.value)
    assert 'model.cls_head.in_channels=16' in msg
    assert ('test_dataloader.dataset.in_channels is not set and the '
            f'features of {tmp_path / "split.csv"} are 8-d') in msg


def test_matching_model_width_passes(tmp_path):
    runner = width_runner(tmp_path, model_width=WIDTH, in_channels=False)
    runner._test_loop = runner.build_test_loop(runner._test_loop)
    assert runner.test_dataloader.dataset.feature_width == WIDTH
    InputWidthCheckHook().before_run(runner)


# -------------------------------------------------- ActivityNet JSON
def entry(name, subset='training', **fields):
    t = LENGTHS[name]
    out = dict(subset=subset, duration=duration(t), fps=FPS,
               annotations=[dict(segment=[0.5, 1.5], label='Dive')])
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


def write_npy_layout(root, raw_json):
    os.makedirs(root / 'features', exist_ok=True)
    rng = np.random.default_rng(0)
    for name, t in LENGTHS.items():
        np.save(root / 'features' / f'{name}.npy',
                rng.standard_normal((t, WIDTH)).astype(np.float32))
    ann = root / 'ann.json'
    ann.write_text(raw_json)
    return str(ann), str(root / 'features')


def json_of(pairs):
    """A database written from (video, entry) pairs, repeats kept."""
    body = ', '.join(f'{json.dumps(k)}: {json.dumps(v)}' for k, v in pairs)
    return '{"database": {' + body + '}}'


def build_npy(ann, folder, **kwargs):
    kwargs.setdefault('subset', 'training')
    return NpySnippetFeatureDataset(
        ann_file=ann, feature_dir=folder, snippet_size=SNIPPET, **kwargs)


def test_json_repeated_video_with_other_values_refused(tmp_path):
    """A repeated video key is not silently the last entry."""
    pairs = [(n, entry(n)) for n in LENGTHS]
    pairs.append(('vid_b', entry('vid_b', duration=99.0)))
    ann, folder = write_npy_layout(tmp_path, json_of(pairs))
    with pytest.raises(AnnotationError) as err:
        build_npy(ann, folder)
    msg = str(err.value)
    assert msg.startswith(ann) and 'video "vid_b" appears more than once' \
        in msg


def test_json_repeated_field_with_other_values_refused(tmp_path):
    """A key repeated inside a video entry: file, video and key."""
    raw = json_of([(n, entry(n)) for n in LENGTHS]).replace(
        '"vid_c": {"subset": "training",',
        '"vid_c": {"subset": "training", "subset": "validation",')
    ann, folder = write_npy_layout(tmp_path, raw)
    with pytest.raises(AnnotationError,
                       match=re.escape(f'{ann} (video "vid_c"): the key '
                                       '"subset" appears more than once')):
        build_npy(ann, folder)


def test_json_identical_repeat_accepted_with_log_line(tmp_path,
                                                      log_records):
    """The same video twice with the same entry is read once, logged."""
    pairs = [(n, entry(n)) for n in LENGTHS] + [('vid_a', entry('vid_a'))]
    ann, folder = write_npy_layout(tmp_path, json_of(pairs))
    ds = build_npy(ann, folder)
    assert [ds.get_data_info(i)['video_name'] for i in range(len(ds))] == [
        'vid_a', 'vid_b', 'vid_c']
    lines = [m for _, m in log_records if 'repeated with identical' in m]
    assert len(lines) == 1 and lines[0].startswith(f'{ann}: 1 key(s)')


def test_json_video_without_subset_refused(tmp_path, log_records):
    """A video without "subset" would drop out of every split: refused
    naming file and video; on_error='skip' leaves it out, logged; without
    a subset filter every video is taken."""
    pairs = [(n, entry(n, subset=None if n == 'vid_c' else 'training'))
             for n in LENGTHS]
    ann, folder = write_npy_layout(tmp_path, json_of(pairs))
    with pytest.raises(AnnotationError,
                       match=re.escape(f'{ann} (video "vid_c"): "subset" '
                                       'is None')):
        build_npy(ann, folder)
    ds = build_npy(ann, folder, on_error='skip')
    assert len(ds) == 2 and ds.skipped_videos == {'no subset': ['vid_c']}
    assert any('no subset: vid_c' in m for _, m in log_records)
    assert len(build_npy(ann, folder, subset=None)) == 3


@pytest.mark.parametrize('field, value, key', [
    ('num_frames', 'many', '"num_frames"'),
    ('num_frames', [160], '"num_frames"'),
    ('duration', 'long', '"duration"'),
    ('fps', 'thirty', '"fps"'),
    ('annotations', [dict(segment=['0.5s', 1.5], label='Dive')],
     '"segment"'),
])
def test_json_non_numeric_field_refused(tmp_path, field, value, key):
    """File, video and key are named."""
    pairs = [(n, entry(n, **({field: value} if n == 'vid_b' else {})))
             for n in LENGTHS]
    ann, folder = write_npy_layout(tmp_path, json_of(pairs))
    with pytest.raises(AnnotationError) as err:
        build_npy(ann, folder)
    msg = str(err.value)
    assert msg.startswith(f'{ann} (video "vid_b")') and key in msg, msg


def test_json_numeric_num_frames_parsed(tmp_path):
    pairs = [(n, entry(n, num_frames=str(LENGTHS[n] * SNIPPET)))
             for n in LENGTHS]
    ann, folder = write_npy_layout(tmp_path, json_of(pairs))
    ds = build_npy(ann, folder)
    assert [ds.get_data_info(i)['num_frames'] for i in range(3)] == [
        160, 96, 80]
