# The embedded default: THUMOS14 settings on the synthetic THUMOS-shaped
# set written by tools/data/generate_synthetic.py (no download needed).
_base_ = ['./refineloc_i3d_50x100e_thumos14.py']

data_root = 'data/synthetic'
split = dict(data_root=data_root)
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            ann_file='synthetic_valid_groundtruth.csv',
            feature_file='synthetic_valid_features.hdf5',
            **split)))
val_dataloader = dict(
    dataset=dict(
        ann_file='synthetic_test_groundtruth.csv',
        feature_file='synthetic_test_features.hdf5',
        **split))
test_dataloader = val_dataloader

# 4 rounds of 10 epochs, no early stop; the rest of the refinement
# (generator thresholds, dropout, model selection) is the THUMOS14 recipe's
train_cfg = dict(num_rounds=4, epochs_per_round=10, early_stop_rounds=None)
