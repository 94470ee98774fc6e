# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Raw video: snippet sampling, end-to-end training through tools/train.py
and tools/test.py with tiny 2D and 3D backbones, and feature extraction
with a tiny recognizer through tools/extract_features.py followed by
training on the extracted features."""
import csv
import json
import textwrap

import numpy as np
import pytest
import torch

from helpers.runs import REPO, run_tool

FPS = 25
SIZE = 40
SNIPPET = 8
COLOURS = {0: (0, 0, 255), 1: (0, 255, 0)}  # BGR: class 0 red, 1 green


def write_video(path, num_frames, segments):
    """A square moving over a grey background during each (start, end,
    label) frame range: its colour is the class, its direction too."""
    import cv2
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), FPS, (SIZE, SIZE))
    for i in range(num_frames):
        frame = np.full((SIZE, SIZE, 3), 60, np.uint8)
        for start, end, label in segments:
            if start <= i < end:
                x = (3 * (i - start)) % (SIZE - 10)
                x = x if label == 0 else SIZE - 10 - x
                cv2.rectangle(frame, (x, 12), (x + 10, 28), COLOURS[label],
                              -1)
        writer.write(frame)
    writer.release()


def make_split(root, split, num_videos, seed):
    rng = np.random.default_rng(seed)
    vdir = root / 'videos' / split
    vdir.mkdir(parents=True)
    rows, names = [], []
    for v in range(num_videos):
        name = f'video_{split}_{v}'
        num_frames = int(rng.integers(6, 9)) * SNIPPET + int(rng.integers(4))
        label = v % 2
        start = int(rng.integers(0, num_frames // 3))
        end = start + num_frames // 3
        write_video(vdir / f'{name}.mp4', num_frames, [(start, end, label)])
        rows.append([name, start / FPS, end / FPS, label, num_frames / FPS,
                     FPS, num_frames])
        names.append(name)
    with open(root / f'{split}_groundtruth.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['video-name', 't-start', 't-end', 'label',
                    'video-duration', 'fps', 'video-num-frames'])
        w.writerows(rows)
    return names


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    make_split(root, 'valid', 6, 0)
    make_split(root, 'test', 4, 1)
    return root


def loader_options(split, batch):
    return [f'{split}.batch_size={batch}', f'{split}.num_workers=0',
            f'{split}.persistent_workers=False']


def common_options():
    opts = ['default_hooks.checkpoint.interval=1',
            'default_hooks.logger.interval=1',
            'model.cls_head.post_processor.min_cas_score=0.02',
            'custom_hooks.0.generator.min_attention_score=0.5']
    for split, batch in (('train_dataloader', 3), ('val_dataloader', 2),
                         ('test_dataloader', 2)):
        opts += loader_options(split, batch)
    return opts


TINY_CONFIG = '''
_base_ = ['{base}']
clip_len = 2
pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleSnippetFrames', clip_len=clip_len),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='{fmt}'),
    dict(type='PackSnippetClips', input_format='{fmt}'),
]
split = dict(data_root='{root}', snippet_size={snippet}, pipeline=pipeline)
train_dataloader = dict(dataset=dict(dataset=dict(
    ann_file='valid_groundtruth.csv', video_dir='videos/valid', **split)))
val_dataloader = dict(dataset=dict(
    ann_file='test_groundtruth.csv', video_dir='videos/test', **split))
test_dataloader = val_dataloader
model = dict(
    backbone=dict(chunk_size=4, backbone=dict(_delete_=True, **{backbone})),
    cls_head=dict(in_channels={dim}))
'''

BACKBONES = {
    # (leaf config, FormatShape, tiny backbone, its width)
    '2d': ('refineloc_r50-tsn_thumos_rawvideo.py', 'NCHW',
           dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6, )),
           80),
    '3d': ('refineloc_x3d_thumos_rawvideo.py', 'NCTHW',
           dict(type='X3D', gamma_w=0.25, gamma_d=0.5, num_stages=2,
                spatial_strides=(2, 2)), 16),
}


def tiny_config(tmp_path, videos, kind):
    leaf, fmt, backbone, dim = BACKBONES[kind]
    path = tmp_path / f'tiny_{kind}.py'
    path.write_text(textwrap.dedent(TINY_CONFIG).format(
        base=REPO / 'configs' / leaf, fmt=fmt, root=videos,
        snippet=SNIPPET, backbone=backbone, dim=dim))
    return path


def test_snippet_sampling_and_packing(videos):
    import refineloc_mm  # noqa: F401
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS, MODELS
    init_default_scope('mmaction')
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleSnippetFrames', clip_len=2),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 32)),
        dict(type='CenterCrop', crop_size=32),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackSnippetClips', input_format='NCHW'),
    ]
    ds = DATASETS.build(dict(
        type='RawVideoSnippetDataset', data_root=str(videos),
        ann_file='valid_groundtruth.csv', video_dir='videos/valid',
        snippet_size=SNIPPET, pipeline=pipeline))
    info = ds.get_data_info(0)
    assert info['num_snippets'] == info['num_frames'] // SNIPPET
    assert len(info['fg_mask']) == info['num_snippets']
    sample = ds[0]
    t = info['num_snippets']
    assert sample['inputs'].shape == (t, 2, 3, 32, 32)
    assert sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].metainfo['num_snippets'] == t
    # the coloured square is visible exactly in the annotated snippets
    fg = np.asarray(info['fg_mask']).astype(bool)
    colour = sample['inputs'].float()
    sat = (colour.max(2).values - colour.min(2).values).mean((1, 2, 3))
    assert sat[fg].min() > sat[~fg].max()
    # preprocessor + 2D wrapper: packed [S, s', C, H, W] -> [S, D]
    pre = MODELS.build(dict(type='SnippetClipDataPreprocessor',
                            format_shape='NTCHW'))
    data = pre(dict(inputs=[ds[0]['inputs'], ds[1]['inputs']],
                    data_samples=[ds[0]['data_samples'],
                                  ds[1]['data_samples']]))
    s = t + ds.get_data_info(1)['num_snippets']
    assert data['inputs'].shape[0] == s and data['inputs'].dtype == \
        torch.float32
    net = MODELS.build(dict(type='SnippetClipBackbone', mode='2d',
                            chunk_size=3, backbone=BACKBONES['2d'][2]))
    net.eval()
    chunked = net(data['inputs'])
    net.chunk_size = None
    assert chunked.shape == (s, 80)
    torch.testing.assert_close(chunked, net(data['inputs']))


@pytest.mark.parametrize('kind', ['2d', '3d'])
def test_end_to_end_raw_video(kind, videos, tmp_path):
    config = tiny_config(tmp_path, videos, kind)
    work = tmp_path / 'work'
    proc = run_tool('tools/train.py', config, '--work-dir', work,
                    '--rounds', 2, '--epochs-per-round', 1,
                    '--cfg-options', *common_options())
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
                    '--cfg-options', *common_options())
    assert 'mAP@0.5' in proc.stdout + proc.stderr
    assert len(json.loads(dump.read_text())['results']) == 4


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
                    test_h5, *common, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert 'FAILED nope' in out and '4 extracted' in out, out
    # resumable: the four written videos are skipped
    proc = run_tool('tools/extract_features.py', cfg_path, ckpt,
                    lists['test'], test_h5, *common)
    assert '0 extracted, 4 skipped' in proc.stdout, proc.stdout
    run_tool('tools/extract_features.py', cfg_path, ckpt, lists['valid'],
             data / 'valid_features.hdf5', *common)
    import h5py
    with open(videos / 'valid_groundtruth.csv') as f:
        rows = {r['video-name']: int(r['video-num-frames'])
                for r in csv.DictReader(f)}
    with h5py.File(data / 'valid_features.hdf5', 'r') as f:
        assert set(f) == set(rows)
        for name, frames in rows.items():
            assert f[name].shape == (frames // SNIPPET, 80)
            assert f[name].dtype == np.float32
    # .npy layout
    npy = tmp_path / 'npy'
    run_tool('tools/extract_features.py', cfg_path, ckpt, lists['test'], npy,
             *common)
    assert len(list(npy.glob('*.npy'))) == 4

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
    run_tool('tools/train.py', 'configs/refineloc_thumos.py', '--work-dir',
             work, '--rounds', 2, '--epochs-per-round', 2, '--cfg-options',
             *opts)
    summary = json.loads((work / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]


def test_pretrained_backbone_init_cfg(tmp_path):
    """A recognizer checkpoint (keys backbone.*) initializes the wrapped
    backbone through init_cfg, again after a refinement reset."""
    import refineloc_mm  # noqa: F401
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    backbone = BACKBONES['3d'][2]
    torch.manual_seed(1)
    source = MODELS.build(backbone)
    ckpt = tmp_path / 'recognizer.pth'
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.zeros(2, 16)
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    model = MODELS.build(dict(
        type='RefineLoc',
        data_preprocessor=dict(type='SnippetClipDataPreprocessor'),
        backbone=dict(type='SnippetClipBackbone', mode='3d',
                      backbone=backbone,
                      init_cfg=dict(type='Pretrained', checkpoint=str(ckpt))),
        cls_head=dict(type='RefineLocHead', num_classes=2, in_channels=16,
                      loss=dict(type='RefineLocLoss'),
                      post_processor=dict(type='ActionSegmentPredictor'))))
    key = 'conv1_s.conv.weight'
    for _ in range(2):
        model.init_weights()
        torch.testing.assert_close(
            model.backbone.backbone.state_dict()[key],
            source.state_dict()[key])
        model.reset_parameters()
        model.init_weights()
    x = torch.randint(0, 255, (5, 3, 2, 32, 32), dtype=torch.uint8)
    feats = model.extract_feat(model.data_preprocessor(
        dict(inputs=x))['inputs'])
    assert feats.shape == (5, 16)
