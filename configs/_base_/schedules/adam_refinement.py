# One refinement round = `epochs_per_round` epochs of Adam. RefinementLoop
# derives max_epochs (num_rounds * epochs_per_round) and validates once per
# round; between rounds it resets model, optimizer state and schedule, and
# it stops after `early_stop_rounds` rounds without a better `best_metric`.
# A child config changes only what differs, e.g.
#   train_cfg = dict(num_rounds=4, epochs_per_round=10)
# (or `--cfg-options train_cfg.num_rounds=2`, or tools/train.py --rounds 2).
# The pseudo label generation is `default_hooks.pseudo_labels`
# (_base_/default_runtime.py), set by each recipe.
train_cfg = dict(
    type='RefinementLoop',
    num_rounds=50,
    epochs_per_round=100,
    val_begin=1,
    reset=True,
    best_metric='mAP@0.5',
    early_stop_rounds=None)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# fused: PyTorch's single-kernel Adam (CPU and CUDA), the same update as
# the reference's torch.optim.Adam (equal up to float rounding), without
# a loop of small kernels per parameter
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=0., fused=True))
param_scheduler = None
