# DELU alone, THUMOS14, I3D features (RGB + flow, 2048 wide) in the
# reference layout (HDF5 + CSV), with the authors' settings
# (scripts/train_thumos.sh): batches of 10 videos (3 classes x 2 videos
# sharing the class + 4 random videos), every training video resampled to
# max_seqlen = 320 snippets (one random snippet per bin), test videos whole,
# Adam lr 5e-5 / weight decay 1e-3, 5000 iterations (100 epochs of 50
# batches), seed 0.
_base_ = [
    './_base_/delu_thumos14_i3d.py',
    '../_base_/datasets/thumos14_features.py'
]

max_seqlen = 320
num_similar = 3  # = model.cls_head.loss.co_activity_loss.num_similar
# Model selection. False (default): the model of the last iteration is
# validated and kept. True: the original's choice, a validation on the
# evaluation split (here the TEST split, as the original) every 50
# iterations and the best checkpoint by average mAP@0.1:0.7 (the original
# keeps the highest sum of mAP@0.1..0.7) kept as best_*.pth. Evaluated when
# this file is read: edit it here (or in a config inheriting from it and
# re-deriving the two keys below), --cfg-options cannot flip it.
select_on_test = False

features = dict(stream=2, in_channels=2048)
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    # training samples only: test videos keep every snippet
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
# the original tests one whole video at a time
val_dataloader = dict(batch_size=1, dataset=features)
test_dataloader = val_dataloader
train_cfg = dict(
    val_interval=1 if select_on_test else {{_base_.epochs_per_round}})
default_hooks = dict(
    checkpoint=dict(
        save_best='average_mAP' if select_on_test else None,
        rule='greater'))
