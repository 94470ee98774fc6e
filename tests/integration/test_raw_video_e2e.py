# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Raw video end to end: training through tools/train.py and
tools/test.py with tiny 2D and 3D backbones, and feature extraction with a
tiny recognizer through tools/extract_features.py followed by training on
the extracted features."""
import csv
import json

import numpy as np
import pytest
import torch

from helpers.raw_video import (ONE_THREAD, SNIPPET, common_options,
                               make_videos, tiny_config)
from helpers.runs import REPO, run_tool

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    return make_videos(tmp_path_factory.mktemp('videos'))


@pytest.mark.parametrize('kind', ['2d', '3d'])
def test_end_to_end_raw_video(kind, videos, tmp_path):
    config = tiny_config(tmp_path, videos, kind)
    work = tmp_path / 'work'
    # training videos keep MAX_SNIPPETS snippets: round 1 trains on
    # pseudo labels sliced alike, generated from every snippet
    validated = work / 'val_predictions.json'  # last: round 1's model
    proc = run_tool('tools/train.py', config, '--work-dir', work,
                    '--rounds', 2, '--epochs-per-round', 1,
                    '--cfg-options', *common_options(),
                    f'val_evaluator.results_file={validated}', env=ONE_THREAD)
    summary = json.loads((work / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    assert summary['rounds'][1]['pseudo_labels_used']['coverage'] > 0
    assert 'Refinement round 1' in proc.stdout + proc.stderr
    # the backbone is trained with the head
    from helpers.runs import state_dict
    end0 = state_dict(work / 'round_0.pth')
    assert any(k.startswith('backbone.backbone.') for k in end0)
    dump = tmp_path / 'results.json'
    proc = run_tool('tools/test.py', config, work / 'round_1.pth',
                    '--work-dir', tmp_path / 'test', '--dump', dump,
                    '--cfg-options', *common_options(), env=ONE_THREAD)
    # tools/test.py scored the checkpoint's weights: the predictions and
    # metrics of round 1's validation, on the same split
    results = json.loads(dump.read_text())['results']
    assert len(results) == 4 and any(results.values())
    assert results == json.loads(validated.read_text())['results']
    from helpers.runs import logged_metrics
    metrics = logged_metrics(proc.stdout + proc.stderr)
    expected = summary['rounds'][1]['metrics']
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():  # the log rounds to 4 decimals
        assert metrics[key] == pytest.approx(value, abs=1e-4), key


RECOGNIZER = '''
default_scope = 'mmaction'
model = dict(
    type='Recognizer2D',
    backbone=dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6, )),
    cls_head=dict(type='TSNHead', num_classes=2, in_channels=80),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375],
                           format_shape='NCHW'))
'''


def test_extract_features_then_train(videos, tmp_path):
    import refineloc_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    cfg_path = tmp_path / 'tiny_tsn.py'
    cfg_path.write_text(RECOGNIZER)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(cfg_path).model)
    ckpt = tmp_path / 'tiny_tsn.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)

    data = tmp_path / 'features'
    data.mkdir()
    for split in ('valid', 'test'):
        (data / f'{split}_groundtruth.csv').write_text(
            (videos / f'{split}_groundtruth.csv').read_text())
    lists = {}
    for split in ('valid', 'test'):
        paths = sorted((videos / 'videos' / split).glob('*.mp4'))
        lists[split] = tmp_path / f'{split}.txt'
        lists[split].write_text(''.join(f'{p}\n' for p in paths))
    common = ['--snippet-size', SNIPPET, '--clip-len', 2, '--resize', 32,
              '--crop', 32, '--chunk-size', 3]
    # the test split first with one broken entry: reported, others go on
    broken = tmp_path / 'test_broken.txt'
    broken.write_text(lists['test'].read_text() + f'{tmp_path}/nope.mp4\n')
    test_h5 = data / 'test_features.hdf5'
    proc = run_tool('tools/extract_features.py', cfg_path, ckpt, broken,
                    test_h5, *common, check=False, env=ONE_THREAD)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert 'FAILED nope' in out and '4 extracted' in out, out
    # resumable: the four written videos are skipped
    proc = run_tool('tools/extract_features.py', cfg_path, ckpt,
                    lists['test'], test_h5, *common, env=ONE_THREAD)
    assert '0 extracted, 4 skipped' in proc.stdout, proc.stdout
    run_tool('tools/extract_features.py', cfg_path, ckpt, lists['valid'],
             data / 'valid_features.hdf5', *common, env=ONE_THREAD)
    import h5py
    with open(videos / 'valid_groundtruth.csv') as f:
        rows = {r['video-name']: int(r['video-num-frames'])
                for r in csv.DictReader(f)}
    with h5py.File(data / 'valid_features.hdf5', 'r') as f:
        assert set(f) == set(rows)
        for name, frames in rows.items():
            assert f[name].shape == (frames // SNIPPET, 80)
            assert f[name].dtype == np.float32
    # .npy layout, in this process; OpenCVInit/OpenCVDecode decode the
    # same frames here as decord, so they give the same features
    import runpy
    extract = runpy.run_path(str(REPO / 'tools' / 'extract_features.py'))
    npy = {}
    for decoder in ('decord', 'opencv'):
        npy[decoder] = tmp_path / f'npy_{decoder}'
        assert extract['main']([str(a) for a in (
            cfg_path, ckpt, lists['test'], npy[decoder], *common,
            '--decoder', decoder)]) == 0
    assert len(list(npy['decord'].glob('*.npy'))) == 4
    for ref in sorted(npy['decord'].glob('*.npy')):
        got = np.load(npy['opencv'] / ref.name)
        assert got.shape == np.load(ref).shape and got.std() > 0
        np.testing.assert_allclose(got, np.load(ref), rtol=1e-5, atol=1e-5)

    # the feature-based config trains on the extracted features
    opts = common_options() + ['model.cls_head.in_channels=80']
    for split, ann, feats in (
            ('train_dataloader.dataset.dataset', 'valid', 'valid'),
            ('val_dataloader.dataset', 'test', 'test'),
            ('test_dataloader.dataset', 'test', 'test')):
        opts += [f'{split}.data_root={data}',
                 f'{split}.ann_file={ann}_groundtruth.csv',
                 f'{split}.feature_file={feats}_features.hdf5',
                 f'{split}.in_channels=80', f'{split}.stream=2',
                 f'{split}.snippet_size={SNIPPET}']
    work = tmp_path / 'work'
    # the design card's config name (it inherits
    # configs/refineloc/refineloc_i3d_50x100e_thumos14.py), the schedule
    # as --cfg-options of the RefinementLoop
    run_tool('tools/train.py', 'configs/refineloc_thumos.py', '--work-dir',
             work, '--cfg-options', 'train_cfg.num_rounds=2',
             'train_cfg.epochs_per_round=2', *opts, env=ONE_THREAD)
    summary = json.loads((work / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
