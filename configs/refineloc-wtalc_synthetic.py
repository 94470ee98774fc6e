# RefineLoc + W-TALC on the embedded synthetic THUMOS14-shaped set
# (data/synthetic/, written by tools/data/generate_synthetic.py), 4 rounds.
# Shrunk to fit 2 CPU cores (the THUMOS14 configs keep the authors'
# settings): one I3D stream (1024-d, as configs/refineloc_synthetic.py)
# instead of both, epochs of 20 batches and 4 epochs per round (80
# iterations instead of 100k), and Adam lr 1e-3 instead of 1e-4 so that so
# few iterations learn something.
_base_ = ['./refineloc-wtalc_thumos.py']

data_root = 'data/synthetic'
features = dict(data_root=data_root, stream=1, in_channels=1024)
train_dataloader = dict(
    batch_sampler=dict(num_batches=20),
    dataset=dict(
        dataset=dict(
            ann_file='synthetic_valid_groundtruth.csv',
            feature_file='synthetic_valid_features.hdf5',
            **features)))
val_dataloader = dict(
    dataset=dict(
        ann_file='synthetic_test_groundtruth.csv',
        feature_file='synthetic_test_features.hdf5',
        **features))
test_dataloader = val_dataloader
model = dict(cls_head=dict(in_channels=1024))
optim_wrapper = dict(optimizer=dict(lr=1e-3))

# the refinement of refineloc-wtalc_thumos.py, 4 rounds of 4 epochs
train_cfg = dict(num_rounds=4, epochs_per_round=4, early_stop_rounds=None)
