# THUMOS14 snippet features as per-video .npy files + an ActivityNet-style
# JSON (layout 2): train on the `validation` subset, evaluate on `test`.
# Default paths: the W-TALC bundle converted by tools/data/convert_wtalc.py
# (2048-d rgb+flow I3D features, 25 fps, 16-frame snippets); see
# docs/data_preparation.md for the other distributions (rgb/ and flow/
# folders, other strides).
_base_ = ['./snippet_loaders.py']
dataset_type = 'NpySnippetFeatureDataset'
data_root = 'data/thumos14_npy'
ann_file = 'annotations.json'
# one folder, or one per stream: ['features/rgb', 'features/flow'] are
# concatenated along D in that order
feature_dir = 'features'
filename_tmpl = '{}.npy'
train_subset = 'validation'
test_subset = 'test'
fps = None  # frame rate for videos whose annotation has no "fps"
snippet_size = 16
stream = 1  # the second half (flow) of the 2048-d features, as the paper
in_channels = 1024
# the 20 THUMOS14 classes by name, alphabetical: one mapping for every
# split and checkpoint (set classes = None to take them from the JSON)
classes = ('BaseballPitch', 'BasketballDunk', 'Billiards', 'CleanAndJerk',
           'CliffDiving', 'CricketBowling', 'CricketShot', 'Diving',
           'FrisbeeCatch', 'GolfSwing', 'HammerThrow', 'HighJump',
           'JavelinThrow', 'LongJump', 'PoleVault', 'Shotput',
           'SoccerPenalty', 'TennisSwing', 'ThrowDiscus', 'VolleyballSpiking')

pipeline = [dict(type='LoadSnippetFeatures'), dict(type='PackSnippetInputs')]
# batches are packed into one [sum T, D] tensor in the DataLoader workers
# (in shared memory), so the main process holds each batch once
split = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file=ann_file,
    feature_dir=feature_dir,
    filename_tmpl=filename_tmpl,
    fps=fps,
    snippet_size=snippet_size,
    stream=stream,
    in_channels=in_channels,
    classes=classes,
    pipeline=pipeline)
train_split = dict(subset=train_subset, **split)
test_split = dict(subset=test_subset, test_mode=True, **split)

train_dataloader = dict(
    dataset=dict(dataset=train_split))
val_dataloader = dict(
    dataset=test_split)
test_dataloader = val_dataloader
