# THUMOS14 snippet features in the reference layout: train on `valid`,
# evaluate on `test`. Paths are relative to the working directory.
_base_ = ['./snippet_loaders.py']
dataset_type = 'SnippetFeatureDataset'
data_root = 'data/thumos14'
snippet_size = 16
stream = 1
in_channels = 1024
# THUMOS14 annotations label the 20 classes 0..19; fixed here so that every
# split (and every checkpoint) uses the same class-to-index mapping.
classes = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12',
           '13', '14', '15', '16', '17', '18', '19')

pipeline = [dict(type='LoadSnippetFeatures'), dict(type='PackSnippetInputs')]
# the keys both splits share; a child config changes them for both with
#   split = dict(stream=2, in_channels=2048)
#   train_dataloader = dict(dataset=dict(dataset=split))
#   val_dataloader = dict(dataset=split)
split = dict(
    type=dataset_type,
    data_root=data_root,
    snippet_size=snippet_size,
    stream=stream,
    in_channels=in_channels,
    classes=classes,
    pipeline=pipeline)
train_split = dict(
    ann_file='thumos14_valid_groundtruth.csv',
    feature_file='thumos14_valid_features.hdf5',
    **split)
test_split = dict(
    ann_file='thumos14_test_groundtruth.csv',
    feature_file='thumos14_test_features.hdf5',
    test_mode=True,
    **split)

train_dataloader = dict(
    dataset=dict(dataset=train_split))
val_dataloader = dict(
    dataset=test_split)
test_dataloader = val_dataloader
