# THUMOS14 raw videos (no pre-extracted features): the reference
# ground-truth CSVs plus one video file per video name. A video has
# T = floor(video-num-frames / snippet_size) snippets, as its features
# would; SampleSnippetFrames takes `clip_len` frames per snippet and
# DecodeSnippetChunks decodes, crops and formats them with MMAction2's own
# transforms, `decode_chunk` snippets at a time (full-resolution frames of
# one chunk only; inputs stay uint8). Leaf configs set the pipelines for
# their backbone (FormatShape NCTHW for 3D, NCHW for 2D backbones).
#   data/thumos14/videos/{validation,test}/<video-name>.mp4
#
# Memory: a training video keeps at most `max_train_snippets` snippets
# (one per equal segment, with their pseudo labels); validation, test and
# the pseudo-label hook's scoring of the training split see every snippet
# (sampling applies to samples with pseudo labels only). Inference
# streams: with `lazy=True` (test pipeline) the pipeline only describes
# the clips and the model decodes, normalizes and encodes them one chunk
# at a time, so memory does not grow with the video's length;
# `lazy='inference'` (training pipeline) streams the samples without
# pseudo labels, i.e. the pseudo-label hook's scoring of the training split.
_base_ = ['./snippet_loaders.py']
dataset_type = 'RawVideoSnippetDataset'
data_root = 'data/thumos14'
snippet_size = 16
clip_len = 8
max_train_snippets = 256
decode_chunk = 32

# 3D layout by default: inputs [T, C, clip_len, H, W] per video
decode = dict(
    type='DecodeSnippetChunks',
    chunk_size=decode_chunk,
    transforms=[
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 128)),
        dict(type='CenterCrop', crop_size=112),
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
classes = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12',
           '13', '14', '15', '16', '17', '18', '19')

# the keys both splits share
split = dict(
    type=dataset_type,
    data_root=data_root,
    filename_tmpl='{}.mp4',
    snippet_size=snippet_size,
    classes=classes)
train_split = dict(
    ann_file='thumos14_valid_groundtruth.csv',
    video_dir='videos/validation',
    pipeline=train_pipeline,
    **split)
test_split = dict(
    ann_file='thumos14_test_groundtruth.csv',
    video_dir='videos/test',
    pipeline=test_pipeline,
    test_mode=True,
    **split)

train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    dataset=dict(dataset=train_split))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    dataset=test_split)
test_dataloader = val_dataloader
