# RefineLoc trained end to end on THUMOS14 raw video with a 2D backbone
# (TSN ResNet-50): every snippet's `clip_len` frames go through the
# backbone one by one and are averaged into one 2048-d snippet feature;
# pixels -> snippet features -> RefineLoc head train together from video
# labels, with the refinement of the recipe.
#
# The backbone is a bare MMAction2 backbone: RefineLoc wraps it in a
# SnippetClipBackbone (settings in `backbone_wrapper`; mode '2d' follows
# the data preprocessor's format_shape).
#
# Pretrained backbone: point `pretrained` at a local MMAction2 TSN (or
# any recognizer with a ResNet-50 `backbone.*`) checkpoint; nothing is
# downloaded at run time. It is loaded by the wrapper's init_cfg, and
# again whenever a refinement round resets the model. Alternatively,
# `load_from` takes a RefineLoc checkpoint (keys backbone.backbone.*).
_base_ = [
    './_base_/refineloc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_rawvideo.py'
]

pretrained = None  # e.g. 'checkpoints/tsn_r50_imagenet-pretrained.pth'
clip_len = 4  # frames per 16-frame snippet
feat_dim = 2048
max_train_snippets = 256  # snippets per training video (memory bound)

model = dict(
    data_preprocessor=dict(
        type='SnippetClipDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        format_shape='NTCHW'),
    backbone=dict(type='ResNet', depth=50, norm_eval=False),
    backbone_wrapper=dict(
        chunk_size=64,  # snippets per backbone pass: bounded memory
        with_cp=True,  # recompute activations chunk by chunk in backward
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)
        if pretrained else None),
    cls_head=dict(in_channels=feat_dim))

# 2D layout: inputs [T, clip_len, C, H, W] per video
decode = dict(
    type='DecodeSnippetChunks',
    chunk_size=64,
    transforms=[
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 256)),
        dict(type='CenterCrop', crop_size=224),
        dict(type='FormatShape', input_format='NCHW'),
    ])
train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleSnippetFrames',
        clip_len=clip_len,
        max_snippets=max_train_snippets),
    dict(decode, lazy='inference'),  # streams the hook's scoring
    dict(type='PackSnippetClips', input_format='NCHW'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleSnippetFrames', clip_len=clip_len),
    dict(decode, lazy=True),  # streamed: decoded inside the model
    dict(type='PackSnippetClips', input_format='NCHW'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# the backbone is trained with a smaller learning rate than the head
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
