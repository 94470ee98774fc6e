# The authors' best THUMOS14 (I3D) recipe of METHOD.md: model thresholds,
# optimizer, refinement schedule and pseudo ground truth generation.
# Inference thresholds live in refineloc_i3d.py (THUMOS values).
_base_ = [
    './refineloc_i3d.py', '../../_base_/schedules/adam_refinement.py',
    '../../_base_/default_runtime.py'
]

# 50 rounds of 100 epochs (the schedule's), early stop after 3 rounds
# without a better mAP@0.5
train_cfg = dict(early_stop_rounds=3)
# the refinement thresholds of the pseudo ground truth (METHOD.md)
default_hooks = dict(
    pseudo_labels=dict(
        generator=dict(
            source='predictions',
            post_processor=dict(
                type='ActionSegmentPredictor',
                top_k=2,
                min_cas_score=0.1,
                min_attention_score=0.92,
                padding=2),
            from_m_iterations=1,
            dropout=0.3)))
