# ActivityNet v1.2 snippet features as per-video .npy files + an
# ActivityNet-style JSON (layout 2): train on `training`, evaluate on
# `validation`. Default paths: the W-TALC bundle converted by
# tools/data/convert_wtalc.py (or the reference layout converted by
# tools/data/convert_reference.py); see docs/data_preparation.md.
_base_ = ['./snippet_loaders.py', './activitynet12_classes.py']
dataset_type = 'NpySnippetFeatureDataset'
data_root = 'data/activitynet_v1-2_npy'
ann_file = 'annotations.json'
feature_dir = 'features'  # or one folder per stream, concatenated along D
filename_tmpl = '{}.npy'
train_subset = 'training'
test_subset = 'validation'
fps = None  # frame rate for videos whose annotation has no "fps"
snippet_size = 16
stream = 2
in_channels = 2048
classes = {{_base_.classes}}

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
    batch_size=256,
    # one batch (~0.4 GB) in flight per worker: loading takes ~1 s of the
    # ~17 s a batch trains on 2 cores, so deeper prefetching only costs
    # memory (set prefetch_factor=None with num_workers=0)
    prefetch_factor=1,
    dataset=dict(dataset=train_split))
val_dataloader = dict(
    dataset=test_split)
test_dataloader = val_dataloader

val_evaluator = dict(
    tiou_thresholds=(0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95))
test_evaluator = val_evaluator
