# ActivityNet v1.2 snippet features in the reference layout: train on
# `train`, evaluate on `valid`. Paths are relative to the working directory.
_base_ = ['./snippet_loaders.py', './activitynet12_classes.py']
dataset_type = 'SnippetFeatureDataset'
data_root = 'data/activitynet_v1-2'
snippet_size = 16
stream = 2
in_channels = 2048
classes = {{_base_.classes}}

pipeline = [dict(type='LoadSnippetFeatures'), dict(type='PackSnippetInputs')]
# the keys both splits share (a child config changes them for both as in
# thumos14_features.py)
split = dict(
    type=dataset_type,
    data_root=data_root,
    snippet_size=snippet_size,
    stream=stream,
    in_channels=in_channels,
    classes=classes,
    pipeline=pipeline)
train_split = dict(
    ann_file='activitynet_v1-2_train_groundtruth.csv',
    feature_file='activitynet_v1-2_train_features.hdf5',
    **split)
test_split = dict(
    ann_file='activitynet_v1-2_valid_groundtruth.csv',
    feature_file='activitynet_v1-2_valid_features.hdf5',
    test_mode=True,
    **split)

train_dataloader = dict(
    batch_size=256,
    dataset=dict(dataset=train_split))
val_dataloader = dict(
    dataset=test_split)
test_dataloader = val_dataloader

val_evaluator = dict(
    tiou_thresholds=(0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95))
test_evaluator = val_evaluator
