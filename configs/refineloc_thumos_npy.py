# RefineLoc, THUMOS14, I3D features as per-video .npy files + an
# ActivityNet-style JSON (layout 2, see the README's data section). Model,
# schedule and refinement are those of configs/refineloc_thumos.py (the
# authors' best setting; tests/test_dataset_formats.py keeps them equal).
_base_ = [
    '_base_/models/refineloc_i3d.py', '_base_/datasets/thumos14_npy.py',
    '_base_/schedules/adam_refinement.py', '_base_/default_runtime.py'
]

num_rounds = 50
epochs_per_round = 100
train_cfg = dict(
    max_epochs=num_rounds * epochs_per_round, val_interval=epochs_per_round)
default_hooks = dict(checkpoint=dict(interval=epochs_per_round))

custom_hooks = [
    dict(
        type='RefinementHook',
        epochs_per_round=epochs_per_round,
        reset=True,
        best_metric='mAP@0.5',
        early_stop_rounds=3,
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
