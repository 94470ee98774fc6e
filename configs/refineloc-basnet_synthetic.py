# RefineLoc on top of BaS-Net on the embedded synthetic THUMOS14-shaped set
# (tools/data/generate_synthetic.py -> data/synthetic/, 200 training and
# 212 test videos of 2048-wide features), 4 refinement rounds.
#
# Shrunk to train in minutes on 2 CPU cores (the THUMOS14 configs keep the
# authors' settings): the original CAS module (2048-wide temporal
# convolutions over 750 snippets, batch 16) is GPU-sized, so here
# num_segments = 64 snippets per video (instead of 750), one 1024-wide half
# of the features (instead of 2048), CAS module width 64 (instead of 2048),
# filtering module width 32 (instead of 512), and rounds of 10 epochs (130
# iterations of batch 16, instead of 115 epochs = 1495 iterations). To
# learn in so few iterations the learning rate is 3e-3 (instead of 1e-4),
# and the class threshold of the post-processing is 0.1 (instead of 0.25:
# after 130 iterations hardly any video score of the 21-way softmax reaches
# 0.25). Losses, the rest of the post-processing and the refinement as in
# refineloc-basnet_thumos.py.
_base_ = ['./refineloc-basnet_thumos.py']

data_root = 'data/synthetic'
num_segments = 64
stream = 1  # one 1024-wide half of the synthetic features
in_channels = 1024
pipeline = [
    dict(type='LoadSnippetFeatures'),
    dict(type='ResampleSnippets', num_segments=num_segments),
    dict(type='PackSnippetInputs')
]
split = dict(
    data_root=data_root,
    stream=stream,
    in_channels=in_channels,
    pipeline=pipeline)
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
model = dict(
    cls_head=dict(
        in_channels=in_channels,
        cas_channels=64,
        filter_channels=32,
        post_processor=dict(class_thresh=0.1)))
optim_wrapper = dict(optimizer=dict(lr=3e-3))

# the refinement of refineloc-basnet_thumos.py, 4 rounds of 10 epochs
train_cfg = dict(num_rounds=4, epochs_per_round=10, early_stop_rounds=None)
