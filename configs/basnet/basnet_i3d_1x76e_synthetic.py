# BaS-Net alone on the embedded synthetic THUMOS14-shaped set
# (data/synthetic/, written by tools/data/generate_synthetic.py), with the
# shrinking of refineloc-basnet_i3d_4x38e_synthetic.py (T = 256 resampled
# snippets, one 1024-wide half of the features, CAS width 64, filter width
# 32, Adam lr 1e-3, class threshold 0.1) and a validation every 4 epochs
# (52 iterations of batch 16): its log is BaS-Net's learning curve
# (docs/basnet.md). One round of 76 epochs = 988 iterations (twice the
# refinement config's round).
_base_ = [
    './basnet_i3d_1x115e_thumos14.py',
    '../_base_/datasets/synthetic_features.py'
]

num_segments = 256
in_channels = 1024  # one 1024-wide half of the synthetic features
pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='ResampleSnippets', num_segments=num_segments),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    dataset=dict(dataset=dict(_base_.synthetic_train, pipeline=pipeline)))
val_dataloader = dict(dataset=dict(_base_.synthetic_test, pipeline=pipeline))
test_dataloader = val_dataloader
model = dict(
    cls_head=dict(
        in_channels=in_channels,
        cas_channels=64,
        filter_channels=32,
        post_processor=dict(
            class_thresh=0.1,
            act_thresh=[0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175,
                        0.2, 0.225])))
optim_wrapper = dict(optimizer=dict(lr=1e-3))

# one round (BaS-Net alone) of 76 epochs = 988 iterations, validated
# every 4 epochs
train_cfg = dict(num_rounds=1, epochs_per_round=76, val_interval=4)
