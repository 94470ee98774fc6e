# DELU alone on the embedded synthetic THUMOS14-shaped set (data/synthetic/,
# written by tools/data/generate_synthetic.py), with the shrinking of
# refineloc-delu_i3d_4x16e_synthetic.py (see its header: Adam lr 1e-3,
# weight decay 0.1) for 600 iterations and a validation every 4 epochs of
# 25 batches (100 iterations): its log is DELU's learning curve on the
# synthetic set (docs/delu.md). The curriculum spans the whole run
# (max_iter = the run's 600 iterations).
_base_ = [
    './delu_i3d_1x100e_thumos14.py', '../_base_/datasets/synthetic_features.py'
]

max_seqlen = 320
iterations_per_epoch = 25
max_epochs = 24  # 600 iterations
train_pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='RandomPerturbSnippets', num_segments=max_seqlen),
    dict(type='PackSnippetInputs')
]
train_dataloader = dict(
    batch_sampler=dict(num_batches=iterations_per_epoch),
    dataset=dict(
        dataset=dict(_base_.synthetic_train, pipeline=train_pipeline)))
val_dataloader = dict(batch_size=4, dataset=_base_.synthetic_test)
test_dataloader = val_dataloader
model = dict(
    cls_head=dict(
        in_channels=1024,
        attention_channels=64,
        cls_channels=128,
        fusion_channels=256,
        bit_wise_kernel=1,
        dropout=0.2,
        loss=dict(
            uct_guide_loss=dict(max_iter=max_epochs * iterations_per_epoch))))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.1))
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
