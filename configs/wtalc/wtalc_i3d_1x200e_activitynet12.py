# W-TALC alone on ActivityNet v1.2 I3D features (reference layout). Ours:
# the original has no ActivityNet settings (see
# _base_/recipes/wtalc_activitynet12_i3d.py); the data side keeps W-TALC's
# THUMOS14 choices: 10-video batches of 3 classes x 2 videos + 4 random
# videos, 500 batches per epoch, training videos longer than 750 snippets
# randomly cropped.
_base_ = [
    './_base_/wtalc_activitynet12_i3d.py',
    '../_base_/datasets/activitynet12_features.py'
]
max_seqlen = 750
num_similar = 3  # = model.cls_head.casl_loss.num_similar
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
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
    dataset=dict(dataset=dict(pipeline=train_pipeline)))
