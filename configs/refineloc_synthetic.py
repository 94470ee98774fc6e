# The embedded default: THUMOS14 settings on the synthetic THUMOS-shaped
# set written by tools/data/generate_synthetic.py (no download needed).
_base_ = ['./refineloc_thumos.py']

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

num_rounds = 4
epochs_per_round = 10
train_cfg = dict(
    max_epochs=num_rounds * epochs_per_round, val_interval=epochs_per_round)
default_hooks = dict(checkpoint=dict(interval=epochs_per_round))
custom_hooks = [
    dict(
        type='RefinementHook',
        epochs_per_round=epochs_per_round,
        reset=True,
        best_metric='mAP@0.5',
        early_stop_rounds=None,
        generator=dict(
            type='PseudoGTGenerator',
            source='predictions',
            top_k=2,
            min_cas_score=0.1,
            min_attention_score=0.92,
            padding=2,
            from_m_iterations=1,
            dropout=0.3))
]
