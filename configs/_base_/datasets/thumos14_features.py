# THUMOS14 snippet features in the reference layout: train on `valid`,
# evaluate on `test`. Paths are relative to the working directory.
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
train_split = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='thumos14_valid_groundtruth.csv',
    feature_file='thumos14_valid_features.hdf5',
    snippet_size=snippet_size,
    stream=stream,
    in_channels=in_channels,
    classes=classes,
    pipeline=pipeline)
test_split = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='thumos14_test_groundtruth.csv',
    feature_file='thumos14_test_features.hdf5',
    snippet_size=snippet_size,
    stream=stream,
    in_channels=in_channels,
    classes=classes,
    pipeline=pipeline,
    test_mode=True)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='packed_snippet_collate'),
    dataset=dict(type='PseudoLabelDataset', dataset=train_split))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='packed_snippet_collate'),
    dataset=test_split)
test_dataloader = val_dataloader

val_evaluator = dict(
    type='TemporalmAP', tiou_thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))
test_evaluator = val_evaluator
