# The authors' best THUMOS14 (I3D) recipe of METHOD.md: model thresholds,
# optimizer, refinement schedule and pseudo ground truth generation.
# Inference thresholds live in models/refineloc_i3d.py (THUMOS values).
_base_ = [
    '../models/refineloc_i3d.py', '../schedules/adam_refinement.py',
    '../default_runtime.py'
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
