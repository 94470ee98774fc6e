# W-TALC alone on the embedded synthetic THUMOS14-shaped set (data/synthetic/,
# written by tools/data/generate_synthetic.py), with the shrinking of
# refineloc-wtalc_i3d_4x10e_synthetic.py (one 1024-d I3D stream, training
# videos cropped to 128 snippets, Adam lr 1e-3) and a validation every
# epoch of 50 batches: its log is W-TALC's learning curve (docs/wtalc.md).
_base_ = ['./wtalc_i3d_1x200e_thumos14.py']

data_root = 'data/synthetic'
max_seqlen = 128
features = dict(data_root=data_root, stream=1, in_channels=1024)
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='RandomSnippetCrop', max_seqlen=max_seqlen),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_sampler=dict(num_batches=50),
    dataset=dict(
        dataset=dict(
            ann_file='synthetic_valid_groundtruth.csv',
            feature_file='synthetic_valid_features.hdf5',
            pipeline=train_pipeline,
            **features)))
val_dataloader = dict(
    dataset=dict(
        ann_file='synthetic_test_groundtruth.csv',
        feature_file='synthetic_test_features.hdf5',
        **features))
test_dataloader = val_dataloader
model = dict(cls_head=dict(in_channels=1024))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
# 1000 iterations, validated every 50
train_cfg = dict(max_epochs=20, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=20))
