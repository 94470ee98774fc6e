# W-TALC alone on the embedded synthetic THUMOS14-shaped set (data/synthetic/,
# written by tools/data/generate_synthetic.py), with the shrinking of
# refineloc-wtalc_i3d_4x10e_synthetic.py (one 1024-d I3D stream, training
# videos cropped to 128 snippets, Adam lr 1e-3) and a validation every
# epoch of 50 batches: its log is W-TALC's learning curve (docs/wtalc.md).
_base_ = [
    './wtalc_i3d_1x200e_thumos14.py',
    '../_base_/datasets/synthetic_features.py'
]

max_seqlen = 128
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='RandomSnippetCrop', max_seqlen=max_seqlen),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_sampler=dict(num_batches=50),
    dataset=dict(
        dataset=dict(_base_.synthetic_train, pipeline=train_pipeline)))
val_dataloader = dict(dataset=_base_.synthetic_test)
test_dataloader = val_dataloader
model = dict(cls_head=dict(in_channels=1024))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
# 1000 iterations, validated every 50
train_cfg = dict(max_epochs=20, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=20))
