# The synthetic THUMOS14-shaped set written by
# tools/data/generate_synthetic.py into data/synthetic/ (reference layout:
# HDF5 + CSV, THUMOS14's 20 classes, training split `valid`, test split
# `test`), read through one 1024-wide half of its features (stream 1).
# Paths are relative to the working directory.
#
# A second base next to a THUMOS14 config: its keys are its own, so
# mmengine merges the two, and the leaf points the splits at the set:
#   _base_ = ['./<model>_..._thumos14.py',
#             '../_base_/datasets/synthetic_features.py']
#   train_dataloader = dict(dataset=dict(dataset=_base_.synthetic_train))
#   val_dataloader = dict(dataset=_base_.synthetic_test)
#   test_dataloader = val_dataloader
#   model = dict(cls_head=dict(in_channels=1024))
synthetic_split = dict(data_root='data/synthetic', stream=1, in_channels=1024)
synthetic_train = dict(
    ann_file='synthetic_valid_groundtruth.csv',
    feature_file='synthetic_valid_features.hdf5',
    **synthetic_split)
synthetic_test = dict(
    ann_file='synthetic_test_groundtruth.csv',
    feature_file='synthetic_test_features.hdf5',
    **synthetic_split)
