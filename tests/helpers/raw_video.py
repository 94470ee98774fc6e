# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Tiny raw videos (a coloured square moving during each action) and the
raw-video configs and pipelines shared by the raw-video tests."""
import csv
import textwrap

import numpy as np
import torch

from helpers.runs import REPO

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


def make_videos(root):
    """The tiny raw-video set: 6 training videos (``valid``) and 4 test
    videos, one action each, class ``v % 2``."""
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
            'default_hooks.pseudo_labels.generator.post_processor.'
            'min_attention_score=0.5']
    for split, batch in (('train_dataloader', 3), ('val_dataloader', 2),
                         ('test_dataloader', 2)):
        opts += loader_options(split, batch)
    return opts


def clip_pipeline(fmt, decoder='Decord', max_snippets=None, chunk_size=3,
                  format_in_chunks=True, lazy=False):
    """Tiny raw-video pipeline: 2 frames per snippet, 32x32 crops,
    decoded ``chunk_size`` snippets at a time (None: all at once), with
    ``FormatShape`` in the chunks or after them, streamed with ``lazy``."""
    steps = [dict(type=f'{decoder}Decode'),
             dict(type='Resize', scale=(-1, 32)),
             dict(type='CenterCrop', crop_size=32),
             dict(type='FormatShape', input_format=fmt)]
    if chunk_size:
        split = len(steps) - (not format_in_chunks)
        steps = [dict(type='DecodeSnippetChunks', chunk_size=chunk_size,
                      transforms=steps[:split], lazy=lazy)] + steps[split:]
    return [dict(type=f'{decoder}Init'),
            dict(type='SampleSnippetFrames', clip_len=2,
                 max_snippets=max_snippets),
            *steps,
            dict(type='PackSnippetClips', input_format=fmt)]


TINY_CONFIG = """
_base_ = ['{base}']
train_pipeline = {train_pipeline!r}
test_pipeline = {test_pipeline!r}
split = dict(data_root='{root}', snippet_size={snippet})
train_dataloader = dict(dataset=dict(dataset=dict(
    ann_file='valid_groundtruth.csv', video_dir='videos/valid',
    pipeline=train_pipeline, **split)))
val_dataloader = dict(dataset=dict(
    ann_file='test_groundtruth.csv', video_dir='videos/test',
    pipeline=test_pipeline, **split))
test_dataloader = val_dataloader
model = dict({model}, cls_head=dict(in_channels={dim}))
"""

# training videos keep this many of their 6 to 8 snippets
MAX_SNIPPETS = 4
BACKBONES = {
    # (leaf config, FormatShape, tiny backbone, its width, model override)
    # 2d: a bare MMAction2 backbone, wrapped by RefineLoc itself
    '2d': ('refineloc/refineloc_r50-tsn_50x100e_thumos14.py', 'NCHW',
           dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6, )),
           80, 'backbone=dict(_delete_=True, **{backbone}), '
           'backbone_wrapper=dict(chunk_size=4)'),
    # 3d: an explicit SnippetClipBackbone
    '3d': ('refineloc/refineloc_x3d_50x100e_thumos14.py', 'NCTHW',
           dict(type='X3D', gamma_w=0.25, gamma_d=0.5, num_stages=2,
                spatial_strides=(2, 2)), 16,
           'backbone=dict(chunk_size=4, backbone=dict(_delete_=True, '
           '**{backbone}))'),
}
# tiny models run faster on one thread, and much faster on a busy machine
ONE_THREAD = dict(OMP_NUM_THREADS='1')


def tiny_config(tmp_path, videos, kind):
    leaf, fmt, backbone, dim, model = BACKBONES[kind]
    path = tmp_path / f'tiny_{kind}.py'
    path.write_text(textwrap.dedent(TINY_CONFIG).format(
        base=REPO / 'configs' / leaf, root=videos, snippet=SNIPPET,
        train_pipeline=clip_pipeline(fmt, max_snippets=MAX_SNIPPETS,
                                     lazy='inference'),
        test_pipeline=clip_pipeline(fmt, lazy=True),
        model=model.format(backbone=backbone), dim=dim))
    return path


def build(registry, cfg):
    import refineloc_mm  # noqa: F401
    import refineloc_mm.base_models.wtalc  # noqa: F401
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    return registry.build(cfg)


def materialize(inputs):
    """Packed [T, ...] clips of a sample: a stream decoded, chunk by
    chunk."""
    if isinstance(inputs, torch.Tensor):
        return inputs
    return torch.from_numpy(np.concatenate(list(inputs)))


def raw_dataset(videos, pipeline):
    from mmaction.registry import DATASETS
    return build(DATASETS, dict(
        type='RawVideoSnippetDataset', data_root=str(videos),
        ann_file='valid_groundtruth.csv', video_dir='videos/valid',
        snippet_size=SNIPPET, pipeline=pipeline))


# A base model's refinement on the tiny raw videos through a tiny X3D
# (2 rounds of 1 epoch): the model's THUMOS14 recipe with this set, its
# training pipeline, batch sampler and head widths filled in
RAW_VIDEO_CONFIG = """
_base_ = ['{repo}/configs/{recipe}',
          '{repo}/configs/_base_/datasets/thumos14_rawvideo.py']
decode = dict(type='DecodeSnippetChunks', chunk_size=3, transforms=[
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW')])
train_pipeline = [
    dict(type='DecordInit'),
{train_transforms}
    dict(decode, lazy='inference'),
    dict(type='PackSnippetClips', input_format='NCTHW')]
test_pipeline = {test_pipeline!r}
split = dict(data_root='{root}', snippet_size={snippet})
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    batch_size=4,
    batch_sampler=dict(type='{sampler}', num_similar=1,
                       num_batches=2),
    dataset=dict(dataset=dict(
        ann_file='valid_groundtruth.csv', video_dir='videos/valid',
        pipeline=train_pipeline, **split)), **loader)
val_dataloader = dict(batch_size=2, dataset=dict(
    ann_file='test_groundtruth.csv', video_dir='videos/test',
    pipeline=test_pipeline, **split), **loader)
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(
        type='SnippetClipDataPreprocessor', mean=(114.75, 114.75, 114.75),
        std=(57.38, 57.38, 57.38), format_shape='NCTHW'),
    backbone=dict(
        type='SnippetClipBackbone', mode='3d', chunk_size=4,
        backbone=dict(type='X3D', gamma_w=0.25, gamma_d=0.5, num_stages=2,
                      spatial_strides=(2, 2))),
    cls_head=dict(
        in_channels=16, {cls_head}))
{extra}
train_cfg = dict(
    _delete_=True, type='RefinementLoop', num_rounds=2, epochs_per_round=1)
default_hooks = dict(
    checkpoint=dict(interval=1),
    logger=dict(interval=1),
    pseudo_labels=dict(
        generator=dict(source='predictions', post_processor=None,
                       dropout=0.)))
"""


def raw_video_config(root, name, recipe, train_transforms, sampler,
                     cls_head, extra=''):
    """The tiny raw-video set in ``root`` and ``root/tiny_<name>.py``:
    :data:`RAW_VIDEO_CONFIG` on the model's ``recipe`` (relative to
    ``configs/``), with ``train_transforms`` (config lines between
    ``DecordInit`` and the decoding), the batch ``sampler`` type, the head's
    keys besides ``in_channels`` and ``extra`` top-level lines."""
    make_videos(root)
    path = root / f'tiny_{name}.py'
    path.write_text(
        textwrap.dedent(RAW_VIDEO_CONFIG).format(
            repo=REPO, root=root, snippet=SNIPPET, recipe=recipe,
            train_transforms=textwrap.indent(
                textwrap.dedent(train_transforms).strip(), ' ' * 4),
            sampler=sampler, cls_head=cls_head, extra=extra,
            test_pipeline=clip_pipeline('NCTHW', lazy=True)))
    return path


# W-TALC with the refinement's attention branch on the tiny raw videos
MAX_SEQLEN = 4  # training videos have 6 to 8 snippets


def wtalc_config(root):
    """The tiny raw-video set in ``root`` and a W-TALC config on it
    (``root/tiny_wtalc.py``, 2 rounds of 1 epoch)."""
    return raw_video_config(
        root, 'wtalc', 'wtalc/_base_/wtalc_thumos14_i3d.py',
        f"""
        # before SampleSnippetFrames: it decodes the kept snippets
        dict(type='RandomSnippetCrop', max_seqlen={MAX_SEQLEN}),
        dict(type='SampleSnippetFrames', clip_len=2),""",
        'WTALCBatchSampler',
        'casl_loss=dict(num_similar=1), '
        'attention=dict(_delete_=True, num_layers=2)')
