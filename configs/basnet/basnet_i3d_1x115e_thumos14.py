# BaS-Net alone, THUMOS14, I3D features (RGB + flow, 2048 wide) in the
# reference layout (HDF5 + CSV), with the authors' settings: every video is
# resampled to num_segments = 750 snippets (uniform at validation/test and
# when the refinement scores the training split, one random snippet per
# bin in training), batches of 16 videos.
_base_ = [
    './_base_/basnet_thumos14_i3d.py',
    '../_base_/datasets/thumos14_features.py'
]

num_segments = 750
stream = 2  # RGB and flow, concatenated (the original's default modality)
in_channels = 2048
pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='ResampleSnippets', num_segments=num_segments),
    dict(type='PackSnippetInputs')
]
split = dict(stream=stream, in_channels=in_channels, pipeline=pipeline)
train_dataloader = dict(batch_size=16, dataset=dict(dataset=split))
val_dataloader = dict(dataset=split)
test_dataloader = val_dataloader
model = dict(cls_head=dict(in_channels=in_channels))
