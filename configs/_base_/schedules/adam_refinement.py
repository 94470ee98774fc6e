# One refinement round = `epochs_per_round` epochs of Adam; the
# RefinementHook resets model, optimizer state and schedule between rounds.
# tools/train.py --rounds/--epochs-per-round rewrite every derived value.
num_rounds = 50
epochs_per_round = 100

train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=num_rounds * epochs_per_round,
    val_begin=1,
    val_interval=epochs_per_round)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# fused: PyTorch's single-kernel Adam (CPU and CUDA), the same update as
# the reference's torch.optim.Adam (equal up to float rounding), without
# a loop of small kernels per parameter
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=0., fused=True))
param_scheduler = None
