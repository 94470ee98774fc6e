# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Raw video in process: snippet sampling, chunked and lazy decoding,
backbones and their initialization, the memory tool, streamed inputs
(the training runs through the tools are in
``tests/integration/test_raw_video_e2e.py``)."""
import pickle

import numpy as np
import pytest
import torch

from helpers.raw_video import (BACKBONES, MAX_SNIPPETS, SNIPPET, build,
                               clip_pipeline, make_videos, materialize,
                               raw_dataset, tiny_config)
from helpers.runs import REPO

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    return make_videos(tmp_path_factory.mktemp('videos'))


def test_snippet_sampling_and_packing(videos):
    from mmaction.registry import MODELS
    ds = raw_dataset(videos, clip_pipeline('NCHW'))
    info = ds.get_data_info(0)
    assert info['num_snippets'] == info['num_frames'] // SNIPPET
    assert len(info['fg_mask']) == info['num_snippets']
    sample = ds[0]
    t = info['num_snippets']
    assert sample['inputs'].shape == (t, 2, 3, 32, 32)
    assert sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].metainfo['num_snippets'] == t
    assert 'snippet_inds' not in sample['data_samples'].metainfo
    # the coloured square is visible exactly in the annotated snippets
    fg = np.asarray(info['fg_mask']).astype(bool)
    colour = sample['inputs'].float()
    sat = (colour.max(2).values - colour.min(2).values).mean((1, 2, 3))
    assert sat[fg].min() > sat[~fg].max()
    # preprocessor (packs, keeps uint8) + 2D wrapper normalizing chunk by
    # chunk: packed [S, s', C, H, W] -> [S, D]
    pre = MODELS.build(dict(type='SnippetClipDataPreprocessor',
                            format_shape='NTCHW'))
    data = pre(dict(inputs=[ds[0]['inputs'], ds[1]['inputs']],
                    data_samples=[ds[0]['data_samples'],
                                  ds[1]['data_samples']]))
    s = t + ds.get_data_info(1)['num_snippets']
    assert data['inputs'].shape[0] == s
    assert data['inputs'].dtype == torch.uint8
    x = data['inputs']
    net = MODELS.build(dict(type='SnippetClipBackbone', mode='2d',
                            chunk_size=3, backbone=BACKBONES['2d'][2]))
    net.eval()
    chunked = net(x, pre.normalize)
    assert chunked.shape == (s, 80)
    whole = pre.normalize(x)
    assert whole.dtype == torch.float32
    torch.testing.assert_close(
        whole[:, :, 0], (x[:, :, 0].float() - 123.675) / 58.395)
    net.chunk_size = None
    torch.testing.assert_close(chunked, net(whole))
    assert not torch.allclose(chunked, net(x))  # unnormalized differs


@pytest.mark.parametrize('decoder', ['Decord', 'OpenCV'])
@pytest.mark.parametrize('fmt', ['NCTHW', 'NCHW'])
def test_chunked_decode_equals_unchunked(videos, decoder, fmt):
    """DecodeSnippetChunks gives exactly the clips of decoding at once,
    with FormatShape in the chunks or after them, and streamed (lazy),
    chunk by chunk in the packed layout, also through pickling."""
    from refineloc_mm.datasets.transforms import SnippetClipStream
    whole = raw_dataset(videos, clip_pipeline(fmt, decoder,
                                              chunk_size=None))
    chunked = [raw_dataset(videos, clip_pipeline(
        fmt, decoder, format_in_chunks=inside)) for inside in (True, False)]
    lazy = raw_dataset(videos, clip_pipeline(fmt, decoder, lazy=True))
    shape = (3, 2, 32, 32) if fmt == 'NCTHW' else (2, 3, 32, 32)
    for i in (0, 4):
        t = whole.get_data_info(i)['num_snippets']
        assert t > 3 and t % 3  # several chunks of 3 snippets, one short
        ref = whole[i]['inputs']
        assert ref.shape == (t, ) + shape and ref.float().std() > 0
        for ds in chunked:
            assert torch.equal(ds[i]['inputs'], ref)
        stream = lazy[i]['inputs']
        assert isinstance(stream, SnippetClipStream) and len(stream) == t
        stream.prefetch = True  # the next chunk decoded on a thread
        chunks = list(pickle.loads(pickle.dumps(stream)))
        assert [len(c) for c in chunks] == [3] * (t // 3) + [t % 3]
        assert all(c.dtype == np.uint8 for c in chunks)
        assert torch.equal(torch.from_numpy(np.concatenate(chunks)), ref)
        stream.prefetch = False
        assert torch.equal(materialize(stream), ref)
        # before packing: the rows of the eager DecodeSnippetChunks output
        stream.input_format = None
        rows = np.concatenate(list(stream))
        assert torch.equal(torch.from_numpy(rows),
                           ref.flatten(0, 1) if fmt == 'NCHW' else ref)


def test_max_snippets_sampling():
    """Training samples (with pseudo labels) of videos longer than
    max_snippets keep one snippet per equal segment, their targets
    sliced alike; others keep every snippet."""
    from mmaction.registry import TRANSFORMS
    labels = np.array([1, 0, -1, 1, 1, 0, 0, -1, 1, 0])
    fg = labels == 1

    def sample(max_snippets, test_mode, with_labels=True, t=10):
        results = dict(num_snippets=t, snippet_size=8, total_frames=8 * t,
                       fg_mask=fg[:t].copy(), video_name='v')
        if with_labels:  # a training sample (PseudoLabelDataset's view)
            results['pseudo_label'] = labels[:t].copy()
            results['sample_view'] = 'train'
        return build(TRANSFORMS, dict(
            type='SampleSnippetFrames', clip_len=2,
            max_snippets=max_snippets, test_mode=test_mode))(results)

    # segments [0, 2) [2, 5) [5, 7) [7, 10): their centres
    out = sample(4, True)
    np.testing.assert_array_equal(out['snippet_inds'], [0, 3, 5, 8])
    assert out['num_snippets'] == out['num_clips'] == 4
    np.testing.assert_array_equal(out['pseudo_label'], [1, 1, 0, 1])
    np.testing.assert_array_equal(out['fg_mask'], fg[[0, 3, 5, 8]])
    # 2 frames at the centres of the halves of each 8-frame snippet
    np.testing.assert_array_equal(
        out['frame_inds'], [2, 6, 26, 30, 42, 46, 66, 70])
    np.testing.assert_array_equal(sample(4, True)['snippet_inds'],
                                  out['snippet_inds'])
    np.random.seed(0)
    draws = [sample(4, False) for _ in range(20)]
    assert len({tuple(d['snippet_inds']) for d in draws}) > 1
    for d in draws:
        inds = d['snippet_inds']
        assert [a <= i < b for i, (a, b) in
                zip(inds, [(0, 2), (2, 5), (5, 7), (7, 10)])] == [True] * 4
        np.testing.assert_array_equal(d['pseudo_label'], labels[inds])
        np.testing.assert_array_equal(d['fg_mask'], fg[inds])
    # no pseudo label (validation, test, the hook's scoring): all snippets
    out = sample(4, False, with_labels=False)
    assert out['num_snippets'] == 10 and 'snippet_inds' not in out
    assert len(out['frame_inds']) == 20
    out = sample(10, False)  # short enough
    assert out['num_snippets'] == 10 and 'snippet_inds' not in out
    np.testing.assert_array_equal(out['pseudo_label'], labels)


def test_max_snippets_in_the_training_split(videos, tmp_path):
    """With the tiny 2D config: the training split (PseudoLabelDataset)
    serves MAX_SNIPPETS snippets with their pseudo labels; the wrapped
    dataset, which the refinement hook scores for new pseudo labels, and
    the validation split serve every snippet."""
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    cfg = Config.fromfile(tiny_config(tmp_path, videos, '2d'))
    train = build(DATASETS, cfg.train_dataloader.dataset)
    labels = np.random.default_rng(0).integers(-1, 2, train.offsets[-1])
    train.set_labels(labels, 0.5)
    for i in range(2):
        t = int(train.num_snippets[i])
        assert t > MAX_SNIPPETS
        sample = train[i]
        meta = sample['data_samples'].metainfo
        inds = np.asarray(meta['snippet_inds'])
        assert meta['num_snippets'] == MAX_SNIPPETS == len(inds)
        assert (np.diff(inds) > 0).all() and 0 <= inds[0] and inds[-1] < t
        assert sample['inputs'].shape == (MAX_SNIPPETS, 2, 3, 32, 32)
        video_labels = labels[train.offsets[i]:train.offsets[i + 1]]
        np.testing.assert_array_equal(
            sample['data_samples'].pseudo_label.numpy(), video_labels[inds])
        # what the hook scores: every snippet, streamed (lazy='inference'
        # streams the samples without pseudo labels)
        full = train.dataset[i]
        assert full['data_samples'].metainfo['num_snippets'] == t
        assert not isinstance(full['inputs'], torch.Tensor)
        assert len(full['inputs']) == t
        assert torch.equal(sample['inputs'], materialize(full['inputs'])[inds])
    val = build(DATASETS, cfg.val_dataloader.dataset)
    assert len(val[0]['inputs']) == val.get_data_info(0)['num_snippets']


TINY_HEAD = dict(type='RefineLocHead', num_classes=2,
                 loss=dict(type='RefineLocLoss'),
                 post_processor=dict(type='ActionSegmentPredictor'))


def tiny_refineloc(backbone, dim, format_shape='NCTHW', **kwargs):
    from mmaction.registry import MODELS
    return build(MODELS, dict(
        type='RefineLoc',
        data_preprocessor=dict(type='SnippetClipDataPreprocessor',
                               format_shape=format_shape),
        backbone=backbone, cls_head=dict(TINY_HEAD, in_channels=dim),
        **kwargs))


@pytest.mark.parametrize('wrapped', [True, False])
def test_pretrained_backbone_init_cfg(tmp_path, wrapped):
    """A recognizer checkpoint (keys backbone.*) initializes the wrapped
    backbone through init_cfg, again after a refinement reset, whether
    the config wraps the backbone or RefineLoc does."""
    from mmaction.registry import MODELS
    backbone = BACKBONES['3d'][2]
    torch.manual_seed(1)
    source = build(MODELS, backbone)
    ckpt = tmp_path / 'recognizer.pth'
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.zeros(2, 16)
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    init_cfg = dict(type='Pretrained', checkpoint=str(ckpt))
    if wrapped:
        model = tiny_refineloc(
            dict(type='SnippetClipBackbone', mode='3d', backbone=backbone,
                 init_cfg=init_cfg), 16)
    else:
        model = tiny_refineloc(backbone, 16,
                               backbone_wrapper=dict(init_cfg=init_cfg))
    key = 'conv1_s.conv.weight'
    model.init_weights()
    for _ in range(2):
        weight = model.backbone.backbone.state_dict()[key]
        torch.testing.assert_close(weight, source.state_dict()[key])
        with torch.no_grad():
            weight.add_(1.)  # trained
        model.reset_parameters()  # a refinement reset
    x = torch.randint(0, 255, (5, 3, 2, 32, 32), dtype=torch.uint8)
    feats = model.extract_feat(model.data_preprocessor(
        dict(inputs=x))['inputs'])
    assert feats.shape == (5, 16)


def test_bare_backbone_is_wrapped():
    """RefineLoc(backbone=<bare MMAction2 backbone>, neck=...) wraps it in
    a SnippetClipBackbone whose mode follows the data preprocessor."""
    from refineloc_mm.models.backbones import SnippetClipBackbone
    mobile, x3d = BACKBONES['2d'][2], BACKBONES['3d'][2]
    model = tiny_refineloc(mobile, 80, 'NTCHW',
                           backbone_wrapper=dict(chunk_size=2))
    assert isinstance(model.backbone, SnippetClipBackbone)
    assert (model.backbone.mode, model.backbone.chunk_size) == ('2d', 2)
    assert type(model.backbone.backbone).__name__ == 'MobileNetV2'
    assert tiny_refineloc(x3d, 16).backbone.mode == '3d'
    assert tiny_refineloc(mobile, 80, 'NCHW').backbone.mode == '2d'
    # a 2D backbone on [S, s', C, H, W] frames: per frame, then pooled
    x = torch.randint(0, 255, (3, 2, 3, 32, 32), dtype=torch.uint8)
    inputs = model.data_preprocessor(dict(inputs=[x]))['inputs']
    c, a = model(inputs[None])
    assert c.shape == (1, 3, 2) and a.shape[:2] == (1, 3)
    with pytest.raises(ValueError, match='cannot tell whether'):
        from mmaction.registry import MODELS
        build(MODELS, dict(type='RefineLoc', backbone=x3d,
                           cls_head=dict(TINY_HEAD, in_channels=16)))
    with pytest.raises(ValueError, match='does not match'):
        tiny_refineloc(x3d, 16, backbone_wrapper=dict(mode='2d'))
    with pytest.raises(ValueError, match='bare backbone'):
        tiny_refineloc(dict(type='SnippetClipBackbone', backbone=x3d), 16,
                       backbone_wrapper=dict(chunk_size=2))


# tiny 3D backbones (and a neck) of MMAction2: (backbone, neck, clips
# [S, C, s', H, W], wrapper settings, feature width)
PATHWAY = dict(type='resnet3d', depth=18, pretrained=None, num_stages=2,
               out_indices=(1, ), spatial_strides=(1, 2),
               temporal_strides=(1, 1), dilations=(1, 1), conv1_stride_t=1,
               pool1_stride_t=1)
SLOWFAST = dict(
    type='ResNet3dSlowFast', resample_rate=2, speed_ratio=2, channel_ratio=2,
    slow_pathway=dict(PATHWAY, lateral=True, base_channels=8,
                      conv1_kernel=(1, 7, 7), inflate=(0, 1), speed_ratio=2,
                      channel_ratio=2),
    fast_pathway=dict(PATHWAY, lateral=False, base_channels=4,
                      conv1_kernel=(5, 7, 7)))
TPN_BACKBONE = dict(
    type='ResNet3dSlowOnly', depth=18, pretrained=None, base_channels=32,
    num_stages=2, out_indices=(0, 1), spatial_strides=(1, 2),
    temporal_strides=(1, 1), dilations=(1, 1), conv1_kernel=(1, 7, 7),
    inflate=(0, 1))
TPN = dict(
    type='TPN', in_channels=(32, 64), out_channels=32,
    spatial_modulation_cfg=dict(in_channels=(32, 64), out_channels=64),
    temporal_modulation_cfg=dict(downsample_scales=(1, 1)),
    upsample_cfg=dict(scale_factor=(1, 1, 1)),
    downsample_cfg=dict(downsample_scale=(1, 1, 1)),
    level_fusion_cfg=dict(in_channels=(32, 32), mid_channels=(32, 32),
                          out_channels=64,
                          downsample_scales=((1, 1, 1), (1, 1, 1))))
TINY_3D = {
    # C3D's fc6 takes 512 * (s'/16) * (H/32)^2 inputs: 16x16x16 clips
    'C3D': (dict(type='C3D', out_dim=512), None, (3, 3, 16, 16, 16), {},
            4096),
    'TimeSformer': (dict(type='TimeSformer', num_frames=2, img_size=32,
                         patch_size=16, embed_dims=32, num_heads=2,
                         num_transformer_layers=1), None,
                    (5, 3, 2, 32, 32), {}, 32),
    # slow (16) and fast (8) pathway features concatenated
    'SlowFast': (SLOWFAST, None, (5, 3, 4, 32, 32),
                 dict(multi_output='concat'), 24),
    'SlowFast-last': (SLOWFAST, None, (5, 3, 4, 32, 32), {}, 8),
    # MMAction2 necks return (features, auxiliary losses)
    'TPN-neck': (TPN_BACKBONE, TPN, (5, 3, 2, 32, 32), {}, 2048),
}


@pytest.mark.parametrize('name', list(TINY_3D))
def test_tiny_3d_backbones_encode_snippets(name):
    """Bare MMAction2 backbones through RefineLoc: uint8 snippet clips
    -> [S, D] features, the same chunked or not, then the head."""
    backbone, neck, shape, wrapper, dim = TINY_3D[name]
    torch.manual_seed(0)
    model = tiny_refineloc(backbone, dim, neck=neck,
                           backbone_wrapper=dict(wrapper, chunk_size=2))
    model.init_weights()
    model.eval()
    x = torch.randint(0, 255, shape, dtype=torch.uint8)
    inputs = model.data_preprocessor(dict(inputs=[x]))['inputs']
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        model.backbone.chunk_size = None
        whole = model.extract_feat(inputs)
        c, _ = model(inputs[None])
    assert feats.shape == (shape[0], dim)
    torch.testing.assert_close(feats, whole, rtol=1e-4, atol=1e-5)
    assert feats.std(0).max() > 0  # snippets differ
    assert c.shape == (1, shape[0], 2) and torch.isfinite(c).all()


@pytest.mark.parametrize('mode',
                         ['train', 'test', 'test-unchunked', 'forward'])
def test_raw_video_memory_tool(videos, tmp_path, monkeypatch, capsys, mode):
    """tools/raw_video_memory.py (the README's memory figures) on the
    tiny 3D config: the training pipeline keeps MAX_SNIPPETS snippets."""
    import runpy
    config = tiny_config(tmp_path, videos, '3d')
    video = videos / 'videos' / 'valid' / 'video_valid_0.mp4'  # 8 snippets
    monkeypatch.setattr('sys.argv', ['raw_video_memory.py', str(video),
                                     str(config), '--mode', mode])
    runpy.run_path(str(REPO / 'tools' / 'raw_video_memory.py'),
                   run_name='__main__')
    out = capsys.readouterr().out
    t = MAX_SNIPPETS if mode == 'train' else 8
    if mode == 'forward':  # the test pipeline streams into the model
        assert ('forward: 8 snippets -> inputs streamed in chunks of 3 '
                '-> features (8, 16)') in out, out
    else:
        assert f'{mode}: 8 snippets -> inputs ({t}, 3, 2, 32, 32)' in out
        assert ('streamed' in out) == (mode == 'test'), out
    assert 'peak RSS' in out


def test_checkpointed_chunks_and_autocast():
    """Training through the wrapper from uint8 clips: gradient
    checkpointing per chunk gives the gradients of the plain pass, and
    under (CPU bfloat16) autocast, as with --amp, the snippet features
    stay float32 and the step runs."""
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    model = tiny_refineloc(BACKBONES['2d'][2], 80, 'NTCHW',
                           backbone_wrapper=dict(chunk_size=2))
    model.train()
    sample = ActionDataSample(gt_label=torch.tensor([1., 0.]),
                              pseudo_label=torch.tensor([1, 0, -1, 1, 0]))
    sample.set_metainfo(dict(num_snippets=5, fps=25., snippet_size=8))
    x = torch.randint(0, 255, (5, 2, 3, 32, 32), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=[x], data_samples=[sample]),
                                   True)
    weight = model.backbone.backbone.conv1.conv.weight

    def step():
        model.zero_grad()
        sum(model(**data, mode='loss').values()).backward()
        return weight.grad.clone()

    # BatchNorm statistics: both passes from the same running stats
    state = {k: v.clone() for k, v in model.state_dict().items()}
    plain = step()
    model.load_state_dict(state)
    model.backbone.with_cp = True
    torch.testing.assert_close(step(), plain)
    assert plain.abs().sum() > 0
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert model.extract_feat(data['inputs']).dtype == torch.float32
        grad = step()
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize('kind', ['2d', '3d'])
def test_streamed_inputs_through_the_model(videos, kind):
    """Streams through a DataLoader worker (pickled), the data
    preprocessor (a list of streams) and the model: the snippet scores of
    the eagerly decoded inputs; refused in training mode."""
    from torch.utils.data import DataLoader, Subset

    from refineloc_mm.datasets.collate import packed_snippet_collate
    _, fmt, backbone, dim, _ = BACKBONES[kind]
    torch.manual_seed(0)
    model = tiny_refineloc(backbone, dim, 'NTCHW' if fmt == 'NCHW' else fmt,
                           backbone_wrapper=dict(chunk_size=2))
    model.init_weights()
    model.eval()
    eager, lazy = (raw_dataset(videos, clip_pipeline(fmt, lazy=lazy))
                   for lazy in (False, True))
    batch = packed_snippet_collate([eager[i] for i in (0, 4)])
    # streams made in a DataLoader worker process reach this one pickled
    loader = DataLoader(Subset(lazy, [0, 4]), batch_size=2, num_workers=1,
                        collate_fn=packed_snippet_collate)
    streamed = next(iter(loader))
    assert isinstance(streamed['inputs'], list)
    assert len(streamed['inputs']) == 2
    eager_data = model.data_preprocessor(batch, False)
    lazy_data = model.data_preprocessor(streamed, False)
    assert lazy_data['inputs'] == streamed['inputs']  # the same streams
    with torch.no_grad():
        feats = model.extract_feat(eager_data['inputs'])
        # tiny features (the 2D one's ~1e-7): relative tolerance
        torch.testing.assert_close(
            model.extract_feat(lazy_data['inputs']), feats, rtol=1e-4,
            atol=1e-4 * feats.abs().max().item())
    assert feats.std(0).max() > 0
    ref = model.snippet_scores(**eager_data)
    out = model.snippet_scores(**lazy_data)
    assert torch.equal(out['mask'], ref['mask']) and ref['mask'].all(1).any()
    for key in ('cas_softmax', 'foreground', 'video_score'):
        torch.testing.assert_close(out[key], ref[key])
    preds = model(**lazy_data, mode='predict')
    assert len(preds) == 2
    model.train()
    with pytest.raises(RuntimeError, match='are for inference'):
        model.snippet_scores(**lazy_data)


def test_lazy_decode_checks(videos):
    """Lazy decoding is for inference samples and needs configs ending
    with FormatShape and a known decoder (or ``reopen``)."""
    from mmaction.registry import TRANSFORMS
    steps = clip_pipeline('NCTHW')[2]['transforms']
    with pytest.raises(ValueError, match='lazy must be'):
        build(TRANSFORMS, dict(type='DecodeSnippetChunks',
                               transforms=steps, lazy='yes'))
    with pytest.raises(ValueError, match='FormatShape as its last'):
        build(TRANSFORMS, dict(type='DecodeSnippetChunks',
                               transforms=steps[:-1], lazy=True))
    with pytest.raises(ValueError, match='cannot tell how to reopen'):
        build(TRANSFORMS, dict(type='DecodeSnippetChunks', lazy=True,
                               transforms=steps[1:]))
    custom = build(TRANSFORMS, dict(
        type='DecodeSnippetChunks', lazy=True, reopen=dict(type='MyInit'),
        transforms=[dict(type='DecordDecode')] + steps[1:]))
    assert custom.reopen == dict(type='MyInit')
    lazy = build(TRANSFORMS, dict(type='DecodeSnippetChunks',
                                  transforms=steps, lazy=True))
    assert lazy.reopen == dict(type='DecordInit')
    results = dict(filename='v.mp4', frame_inds=np.arange(4), clip_len=2,
                   num_clips=2, num_snippets=2, video_reader=object(),
                   pseudo_label=np.zeros(2, np.int64), video_name='v',
                   sample_view='train')
    with pytest.raises(ValueError, match="use lazy='inference'"):
        lazy(dict(results))
    inference = build(TRANSFORMS, dict(type='DecodeSnippetChunks',
                                       transforms=steps, lazy='inference'))
    del results['pseudo_label'], results['sample_view']
    out = inference(results)
    assert len(out['imgs']) == 2 and out['video_reader'] is None


def test_default_pipeline_streams_inference_samples(videos):
    """Without a configured pipeline a video is streamed for inference
    and a training sample (with pseudo labels) keeps at most 256
    snippets, decoded."""
    from refineloc_mm.datasets import PseudoLabelDataset
    from refineloc_mm.datasets.transforms import SnippetClipStream
    ds = raw_dataset(videos, None)
    sample = ds[0]
    t = ds.get_data_info(0)['num_snippets']
    assert isinstance(sample['inputs'], SnippetClipStream)
    assert len(sample['inputs']) == t
    train = PseudoLabelDataset(ds)
    inputs = train[0]['inputs']
    assert isinstance(inputs, torch.Tensor) and inputs.dtype == torch.uint8
    assert inputs.shape[:3] == (min(t, 256), 3, 8)
    torch.testing.assert_close(inputs, materialize(sample['inputs']))
