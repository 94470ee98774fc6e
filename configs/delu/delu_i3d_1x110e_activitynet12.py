# DELU alone, ActivityNet v1.2, I3D features (RGB + flow) in the reference
# layout (HDF5 + CSV). The original's ActivityNet model (DELU_ACT) is not
# ported: DELU's THUMOS14 network with the settings of the original's
# scripts/train_activitynet.sh where they apply (see
# _base_/recipes/delu_activitynet12_i3d.py: lr 3e-5, 22000 iterations,
# max_seqlen 60, its loss weights), the rest OURS.
_base_ = [
    './_base_/delu_activitynet12_i3d.py',
    '../_base_/datasets/activitynet12_features.py'
]

max_seqlen = 60  # scripts/train_activitynet.sh
num_similar = 3
features = dict(stream=2, in_channels=2048)
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='RandomPerturbSnippets', num_segments=max_seqlen),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_size=10,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(
        type='DELUBatchSampler',
        num_similar=num_similar,
        num_batches={{_base_.iterations_per_epoch}}),
    dataset=dict(dataset=dict(pipeline=train_pipeline, **features)))
val_dataloader = dict(dataset=features)
test_dataloader = val_dataloader
