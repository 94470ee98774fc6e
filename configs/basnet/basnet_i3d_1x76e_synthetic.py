# BaS-Net alone on the embedded synthetic THUMOS14-shaped set
# (data/synthetic/, written by tools/data/generate_synthetic.py): the
# shrinking of refineloc-basnet_i3d_4x60e_synthetic.py (both streams,
# 2048-d; T = 256 resampled snippets, CAS width 64, filter width 32, Adam
# lr 2e-4, class threshold 0.1) without the refinement, validated every 4
# epochs (52 iterations of batch 16): its log is BaS-Net's learning curve
# (docs/basnet.md). One round of 76 epochs = 988 iterations.
_base_ = ['./refineloc-basnet_i3d_4x60e_synthetic.py']

# one round (BaS-Net alone: no pseudo labels) of 76 epochs = 988
# iterations, validated every 4 epochs
train_cfg = dict(num_rounds=1, epochs_per_round=76, val_interval=4)
