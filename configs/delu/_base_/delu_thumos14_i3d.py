# DELU alone on THUMOS14 (I3D, both streams) with the authors' training
# settings (scripts/train_thumos.sh of MengyuanChen21/ECCV2022-DELU):
# Adam lr 5e-5, betas (0.9, 0.999), weight decay 1e-3 (Adam's L2 term), no
# schedule, 5000 iterations of batch 10 (DELUBatchSampler: 3 classes x 2
# videos + 4 random videos, set in the leaf config), seed 0.
#
# Iterations -> epochs: one epoch = `iterations_per_epoch` = 50 batches
# (the original tests every 50 iterations), so 5000 iterations = 100
# epochs. Model selection: the original tests on the TEST split every 50
# iterations and keeps the best weights (selection on the test set). Here,
# by default, the model of the round's last iteration is validated
# (`select_on_test = False`, no selection on the test split); the leaf
# configs reproduce the original's choice with `select_on_test = True`.
_base_ = ['./delu_i3d.py', '../../_base_/default_runtime.py']

iterations_per_epoch = 50
num_rounds = 1
epochs_per_round = 100  # 5000 iterations
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=num_rounds * epochs_per_round,
    val_begin=1,
    val_interval=epochs_per_round)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=epochs_per_round))
optim_wrapper = dict(
    optimizer=dict(
        type='Adam', lr=5e-5, betas=(0.9, 0.999), weight_decay=1e-3,
        fused=True))
param_scheduler = None
randomness = dict(seed=0, deterministic=False)
