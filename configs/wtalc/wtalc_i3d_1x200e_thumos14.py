# W-TALC alone on THUMOS14 I3D features in the reference layout (HDF5 +
# CSV), with the authors' settings: both streams (RGB + flow, 2048-d),
# batches of 3 classes x 2 videos sharing the class + 4 random videos,
# training videos longer than max_seqlen = 750 snippets randomly cropped,
# Adam 1e-4 / 5e-4 for 100k iterations (200 epochs of 500 batches).
_base_ = [
    './_base_/wtalc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_features.py'
]
max_seqlen = 750  # W-TALC's I3D setting (UntrimmedNet features: 1200)
num_similar = 3  # = model.cls_head.casl_loss.num_similar
# both I3D streams, as W-TALC (the RefineLoc THUMOS14 config uses stream 1)
features = dict(stream=2, in_channels=2048)
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    # training samples only: inference samples keep every snippet
    dict(type='RandomSnippetCrop', max_seqlen=max_seqlen),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_size=10,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(
        type='WTALCBatchSampler',
        num_similar=num_similar,
        num_batches={{_base_.iterations_per_epoch}}),
    dataset=dict(dataset=dict(pipeline=train_pipeline, **features)))
val_dataloader = dict(dataset=features)
test_dataloader = val_dataloader
