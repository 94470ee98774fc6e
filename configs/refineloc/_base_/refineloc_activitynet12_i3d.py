# The authors' best ActivityNet v1.2 (I3D, both streams) recipe of
# METHOD.md: model, optimizer, refinement schedule and pseudo ground truth
# generation.
_base_ = [
    './refineloc_i3d.py', '../../_base_/schedules/adam_refinement.py',
    '../../_base_/default_runtime.py'
]

model = dict(
    cls_head=dict(
        num_classes=100,
        in_channels=2048,
        num_layers=2,
        attention_dim=2,
        # k = 2: cross-entropy, unweighted, alpha_pgt = 4
        pseudo_gt_loss=dict(weighting='none', loss_weight=4.),
        post_processor=dict(
            top_k=2, min_cas_score=0.005, min_attention_score=0.5,
            padding=2)))

optim_wrapper = dict(optimizer=dict(lr=1e-4))
# batches of 256 videos (~400 MB of features each): keeping freed memory in
# the heap would hold the largest batches for good (docs/benchmarks.md,
# "Memory at ActivityNet scale")
reuse_freed_memory = False
train_cfg = dict(
    num_rounds=50,
    epochs_per_round=50,
    best_metric='average_mAP',
    early_stop_rounds=3)
default_hooks = dict(
    pseudo_labels=dict(
        generator=dict(
            source='predictions',
            post_processor=dict(
                type='ActionSegmentPredictor',
                top_k=3,
                min_cas_score=0.05,
                min_attention_score=0.5,
                padding=2),
            from_m_iterations=1,
            dropout=0.2)))
