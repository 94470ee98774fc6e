# RefineLoc trained end to end on THUMOS14 raw video with a 3D backbone
# (X3D-S): one clip of `clip_len` frames per 16-frame snippet, globally
# pooled to a 432-d snippet feature.
#
# Pretrained backbone: point `pretrained` at a local MMAction2 X3D
# recognizer checkpoint (keys backbone.*); nothing is downloaded at run
# time. Reapplied whenever a refinement round resets the model.
_base_ = [
    './_base_/refineloc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_rawvideo.py'
]

pretrained = None  # e.g. 'checkpoints/x3d_s_13x6x1_kinetics400.pth'
clip_len = 13
feat_dim = 432
max_train_snippets = 256  # snippets per training video (memory bound)

model = dict(
    data_preprocessor=dict(
        type='SnippetClipDataPreprocessor',
        mean=(114.75, 114.75, 114.75),
        std=(57.38, 57.38, 57.38),
        format_shape='NCTHW'),
    backbone=dict(
        type='SnippetClipBackbone',
        mode='3d',
        chunk_size=32,
        with_cp=True,
        backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)
        if pretrained else None),
    cls_head=dict(in_channels=feat_dim))

# 3D layout: inputs [T, C, clip_len, H, W] per video
decode = dict(
    type='DecodeSnippetChunks',
    chunk_size=32,
    transforms=[
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 182)),
        dict(type='CenterCrop', crop_size=160),
        dict(type='FormatShape', input_format='NCTHW'),
    ])
train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleSnippetFrames',
        clip_len=clip_len,
        max_snippets=max_train_snippets),
    dict(decode, lazy='inference'),  # streams the hook's scoring
    dict(type='PackSnippetClips', input_format='NCTHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleSnippetFrames', clip_len=clip_len),
    dict(decode, lazy=True),  # streamed: decoded inside the model
    dict(type='PackSnippetClips', input_format='NCTHW'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
