# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tests of :mod:`refineloc_mm.datasets.synthetic` and of its command line
``tools/data/generate_synthetic.py``."""
import csv
import importlib.util
import os
import os.path as osp
import warnings
from typing import Any

import h5py
import numpy as np
import pytest
from helpers.runs import REPO

from refineloc_mm.datasets import synthetic as gs


def load_tool():
    """``tools/data/generate_synthetic.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        'generate_synthetic_tool',
        REPO / 'tools' / 'data' / 'generate_synthetic.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY: dict[str, Any] = {
    'num_train': 12,
    'num_test': 8,
    'feat_dim': 64,
    'duration_scale': 0.2,
}
HEADER = [
    'video-name', 't-start', 't-end', 'label', 'video-duration', 'fps',
    'video-num-frames'
]


def _read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader)


def _read_bytes(paths: dict[str, str]) -> dict[str, bytes]:
    out = {}
    for key, path in paths.items():
        with open(path, 'rb') as f:
            out[key] = f.read()
    return out


@pytest.fixture(scope='module')
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = str(tmp_path_factory.mktemp('synth'))
    return gs.generate_synthetic(out, seed=0, **TINY)


def test_files_and_groundtruth(tiny: dict[str, Any]) -> None:
    paths = tiny['paths']
    assert sorted(osp.basename(p) for p in paths.values()) == [
        'synthetic_test_features.hdf5', 'synthetic_test_groundtruth.csv',
        'synthetic_valid_features.hdf5', 'synthetic_valid_groundtruth.csv'
    ]
    assert not tiny['skipped']
    out_dir = osp.dirname(paths['train_features'])
    assert sorted(os.listdir(out_dir)) == sorted(
        osp.basename(p) for p in paths.values())  # no temp files left
    with open(paths['train_groundtruth']) as f:
        assert f.readline().rstrip('\n') == ','.join(HEADER)
    for split, num in (('train', TINY['num_train']),
                       ('test', TINY['num_test'])):
        rows = _read_csv(paths[f'{split}_groundtruth'])
        names = {r['video-name'] for r in rows}
        assert len(names) == num  # every video has >= 1 instance
        assert tiny['splits'][split]['num_videos'] == num
        assert tiny['splits'][split]['num_instances'] == len(rows)
        for r in rows:
            assert r['label'] == str(int(r['label']))
            assert 0 <= int(r['label']) < 20
            t0, t1 = float(r['t-start']), float(r['t-end'])
            dur, fps = float(r['video-duration']), float(r['fps'])
            nf = int(r['video-num-frames'])
            assert abs(fps * dur - nf) < 0.05
            assert fps in (30.0, 30000 / 1001, 25.0, 24.0)
            assert 0 <= t0 and t1 <= dur
            # at least one snippet long and inside the covered snippets
            assert t1 - t0 >= 16 / fps - 1e-9
            assert t1 <= (nf // 16) * 16 / fps + 1e-9
        # rows are sorted; only instances of different classes overlap
        by_video: dict[str, list] = {}
        for r in rows:
            by_video.setdefault(r['video-name'], []).append(
                (float(r['t-start']), float(r['t-end']), r['label']))
        for iv in by_video.values():
            assert iv == sorted(iv, key=lambda x: x[:2])
            for i, a in enumerate(iv):
                for b in iv[i + 1:]:
                    assert a[2] != b[2] or a[1] <= b[0]


def test_features_match_groundtruth(tiny: dict[str, Any]) -> None:
    paths = tiny['paths']
    for split in ('train', 'test'):
        rows = _read_csv(paths[f'{split}_groundtruth'])
        frames = {r['video-name']: int(r['video-num-frames']) for r in rows}
        total = 0
        with h5py.File(paths[f'{split}_features'], 'r') as f:
            assert set(f.keys()) == set(frames)
            for name, nf in frames.items():
                x = f[name][()]
                assert x.dtype == np.float32
                assert x.shape == (nf // 16, TINY['feat_dim'])
                assert np.isfinite(x).all()
                total += x.shape[0]
        assert tiny['splits'][split]['num_snippets'] == total


def test_deterministic(tmp_path: Any, tiny: dict[str, Any]) -> None:
    same = gs.generate_synthetic(str(tmp_path / 'same'), seed=0, **TINY)
    assert _read_bytes(same['paths']) == _read_bytes(tiny['paths'])
    other = gs.generate_synthetic(str(tmp_path / 'other'), seed=1, **TINY)
    a, b = _read_bytes(tiny['paths']), _read_bytes(other['paths'])
    assert all(a[k] != b[k] for k in a)
    # the ground truth does not depend on the strengths, the features do
    tuned = gs.generate_synthetic(
        str(tmp_path / 'tuned'), seed=0, action_strength=0.3, **TINY)
    c = _read_bytes(tuned['paths'])
    assert c['train_groundtruth'] == a['train_groundtruth']
    assert c['train_features'] != a['train_features']


def test_skip_and_force(tmp_path: Any) -> None:
    out = str(tmp_path / 'synth')
    first = gs.generate_synthetic(out, **TINY)
    mtime = os.stat(first['paths']['test_features']).st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        again = gs.generate_synthetic(out, **TINY)
    assert again['skipped'] and again['splits'] == first['splits']
    with pytest.warns(UserWarning, match='other arguments'):
        assert gs.generate_synthetic(out, seed=3, **TINY)['skipped']
    assert os.stat(first['paths']['test_features']).st_mtime_ns == mtime
    os.remove(first['paths']['test_groundtruth'])
    assert not gs.generate_synthetic(out, **TINY)['skipped']
    assert not gs.generate_synthetic(out, force=True, **TINY)['skipped']
    with pytest.raises(TypeError):
        gs.generate_synthetic(out, force=True, not_a_strength=1.0, **TINY)


def test_cli(tmp_path: Any, capsys: pytest.CaptureFixture) -> None:
    out = str(tmp_path / 'cli')
    load_tool().main([
        '--out-dir', out, '--num-train', '3', '--num-test', '2',
        '--feat-dim', '8', '--duration-scale', '0.1', '--context-strength',
        '0.2', '--num-background-types', '3'
    ])
    assert 'multi-label videos' in capsys.readouterr().out
    with h5py.File(osp.join(out, 'synthetic_test_features.hdf5'), 'r') as f:
        assert len(f.keys()) == 2
        assert '"context_strength": 0.2' in f.attrs['synthetic_config']


def test_thumos_like_statistics() -> None:
    """Default sizes (layout only): THUMOS14-like counts."""
    world = gs.make_world(0, 20, 2)
    for split, num, snippets in (('train', 200, 76184), ('test', 212,
                                                          83942)):
        videos = gs.sample_split_layout(split, num, world, 16, 0)
        assert len(videos) == num
        n = np.array([len(v.labels) for v in videos])
        multi = sum(len(v.classes) > 1 for v in videos)
        assert 0.07 * num < multi < 0.25 * num
        assert n.min() >= 1 and 10 < n.mean() < 25 and np.median(n) < 12
        total = sum(v.num_snippets for v in videos)
        assert abs(total - snippets) < 0.05 * snippets
        lengths = np.concatenate([v.ends_ds - v.starts_ds for v in videos])
        assert 3.5 < lengths.mean() / 10 < 5.5  # real: 4.0 / 4.5 s
        assert 2.4 < np.median(lengths) / 10 < 3.6  # real: 2.9 / 3.2 s
        durations = np.array([v.duration for v in videos])
        assert 180 < durations.mean() < 240
        # gaps between the unions of overlapping instances (real: median
        # 3.2 s, 10-13 % under 0.5 s, 21-25 % under 1 s)
        gaps, overlapping = [], 0
        for v in videos:
            union: list = []
            for a, b, c in zip(v.starts_ds, v.ends_ds, v.labels):
                if union and a < union[-1][1]:
                    assert c != union[-1][2] and world.partner[c] >= 0
                    union[-1][1] = max(union[-1][1], b)
                    overlapping += 1
                else:
                    union.append([a, b, c])
            gaps += [y[0] - x[1] for x, y in zip(union, union[1:])]
        gaps = np.array(gaps) / 10
        assert gaps.min() >= 0
        assert 1.5 < np.median(gaps) < 4.0
        assert (gaps < 0.5).mean() < 0.25 and (gaps > 10).mean() > 0.1
        # partner classes overlap (real: 8-9 % of the instances)
        assert 0.01 * n.sum() < overlapping < 0.15 * n.sum()


def _signal_gaps(out_dir: str, feat_dim: int, **strengths: Any
                 ) -> dict[str, float]:
    """Within-video mean projections (in noise-std units), averaged.

    Returns the gap between snippets of the primary class c and background
    snippets far (> 10 s) from any action on the action direction of c
    (``action``), the gap between background snippets near (< 3 s) the
    actions and far ones on the context direction of c (``context``), both
    halves separately.
    """
    res = gs.generate_synthetic(
        out_dir,
        num_train=16,
        num_test=2,
        feat_dim=feat_dim,
        duration_scale=0.5,
        **strengths)
    st = gs.SyntheticStrengths(**strengths)
    world = gs.make_world(0, 20, feat_dim, st)
    videos = gs.sample_split_layout('train', 16, world, 16, 0, 0.5)
    half = feat_dim // 2
    gaps: dict[str, list] = {}
    with h5py.File(res['paths']['train_features'], 'r') as f:
        for v in videos:
            x = f[v.name][()]
            centers = (np.arange(len(x)) + 0.5) * 16 / v.fps
            label = np.full(len(x), -1)
            dist = np.full(len(x), np.inf)
            # relative position in the instance of the snippets fully in it
            pos = np.full(len(x), np.nan)
            snip = 16 / v.fps
            for a, b, c in zip(v.starts_ds / 10, v.ends_ds / 10, v.labels):
                label[(centers >= a) & (centers < b)] = c
                dist = np.minimum(
                    dist, np.maximum(np.maximum(a - centers, centers - b), 0))
                full = (centers - snip / 2 >= a) & (centers + snip / 2 <= b)
                pos[full] = (centers[full] - a) / (b - a)
            c = v.labels[0]
            fg, far = label == c, (label < 0) & (dist > 10)
            near = (label < 0) & (dist < 3)
            edge = (label == c) & ((pos < 0.2) | (pos > 0.8))
            mid = (label == c) & (pos > 0.35) & (pos < 0.65)
            if not (fg.any() and far.any() and near.any() and edge.any()
                    and mid.any()):
                continue
            for s in range(2):
                xs = x[:, s * half:(s + 1) * half]
                act = xs @ world.action[s, c] / np.sqrt(half)
                ctx = xs @ world.context[s, c] / np.sqrt(half)
                gen = xs @ world.foreground[s] / np.sqrt(half)
                gaps.setdefault(f'action{s}', []).append(
                    act[fg].mean() - act[far].mean())
                gaps.setdefault(f'context{s}', []).append(
                    ctx[near].mean() - ctx[far].mean())
                for k, sel in (('edge', edge), ('mid', mid)):
                    gaps.setdefault(f'action_{k}{s}', []).append(
                        act[sel].mean() - act[far].mean())
                    gaps.setdefault(f'generic_{k}{s}', []).append(
                        gen[sel].mean() - gen[far].mean())
    assert len(gaps['action0']) >= 5
    return {k: float(np.mean(v)) for k, v in gaps.items()}


def test_signal(tmp_path: Any) -> None:
    gaps = _signal_gaps(str(tmp_path / 'default'), 512)
    for s in range(2):  # both halves carry the action and the context
        assert gaps[f'action{s}'] > 1.0
        assert gaps[f'context{s}'] > 0.6
        # the class evidence is weak at the boundaries, the generic
        # foreground cue is flat over the instance
        assert gaps[f'action_mid{s}'] > 1.5 * gaps[f'action_edge{s}'] > 0
        assert gaps[f'generic_mid{s}'] > 1.0
        assert gaps[f'generic_edge{s}'] > 0.7 * gaps[f'generic_mid{s}']
    # the check can fail: without action signature there is no gap
    gaps = _signal_gaps(
        str(tmp_path / 'null'),
        512,
        action_strength=0.0,
        action_var_std=0.0,
        context_strength=0.0)
    for s in range(2):
        assert abs(gaps[f'action{s}']) < 0.4
        assert abs(gaps[f'context{s}']) < 0.4
