# The embedded default: THUMOS14 settings on the synthetic THUMOS-shaped
# set written by tools/data/generate_synthetic.py (no download needed).
_base_ = [
    './refineloc_i3d_50x100e_thumos14.py',
    '../_base_/datasets/synthetic_features.py'
]

train_dataloader = dict(dataset=dict(dataset=_base_.synthetic_train))
val_dataloader = dict(dataset=_base_.synthetic_test)
test_dataloader = val_dataloader

# 4 rounds of 10 epochs, no early stop; the rest of the refinement
# (generator thresholds, dropout, model selection) is the THUMOS14 recipe's
train_cfg = dict(num_rounds=4, epochs_per_round=10, early_stop_rounds=None)
