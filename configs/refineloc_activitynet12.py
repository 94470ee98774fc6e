# RefineLoc, ActivityNet v1.2, I3D features (both streams): the authors'
# best setting (METHOD.md).
_base_ = [
    '_base_/models/refineloc_i3d.py', '_base_/datasets/thumos14_features.py',
    '_base_/schedules/adam_refinement.py', '_base_/default_runtime.py'
]

data_root = 'data/activitynet_v1-2'
in_channels = 2048
model = dict(
    cls_head=dict(
        num_classes=100,
        in_channels=in_channels,
        num_layers=2,
        attention_dim=2,
        loss=dict(alpha_pgt=4., weighted=False),
        post_processor=dict(
            top_k=2, min_cas_score=0.005, min_attention_score=0.5,
            padding=2)))

split = dict(
    data_root=data_root, snippet_size=16, stream=2, in_channels=in_channels)
train_dataloader = dict(
    batch_size=256,
    dataset=dict(
        dataset=dict(
            ann_file='activitynet_v1-2_train_groundtruth.csv',
            feature_file='activitynet_v1-2_train_features.hdf5',
            **split)))
val_dataloader = dict(
    dataset=dict(
        ann_file='activitynet_v1-2_valid_groundtruth.csv',
        feature_file='activitynet_v1-2_valid_features.hdf5',
        **split))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='TemporalmAP',
    tiou_thresholds=(0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-4))
num_rounds = 50
epochs_per_round = 50
train_cfg = dict(
    max_epochs=num_rounds * epochs_per_round, val_interval=epochs_per_round)
default_hooks = dict(checkpoint=dict(interval=epochs_per_round))

custom_hooks = [
    dict(
        type='RefinementHook',
        epochs_per_round=epochs_per_round,
        reset=True,
        best_metric='average_mAP',
        early_stop_rounds=3,
        generator=dict(
            type='PseudoGTGenerator',
            source='predictions',
            top_k=3,
            min_cas_score=0.05,
            min_attention_score=0.5,
            padding=2,
            from_m_iterations=1,
            dropout=0.2))
]
