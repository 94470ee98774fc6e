# BaS-Net alone, ActivityNet v1.2, I3D features (RGB + flow) in the
# reference layout (HDF5 + CSV). The original has no ActivityNet settings:
# the choices here are OURS (see _base_/recipes/basnet_activitynet12_i3d.py),
# among them num_segments = 50 snippets per video and batches of 16.
_base_ = [
    './_base_/basnet_activitynet12_i3d.py',
    '../_base_/datasets/activitynet12_features.py'
]

num_segments = 50  # ours
pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='ResampleSnippets', num_segments=num_segments),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_size=16, dataset=dict(dataset=dict(pipeline=pipeline)))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
