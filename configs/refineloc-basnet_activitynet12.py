# RefineLoc on top of BaS-Net, ActivityNet v1.2 (I3D, RGB + flow). Both the
# BaS-Net settings (basnet_activitynet12.py) and the refinement are OURS
# (no published settings for either): the refinement follows RefineLoc's
# ActivityNet v1.2 recipe (fresh model each round, 20 % dropout, early
# stop after 3 rounds without a better average mAP); the pseudo labels
# as in refineloc-basnet_thumos.py (runs of w >= 0.5 for the video's
# classes, supervising the suppression CAS logits).
_base_ = ['./basnet_activitynet12.py']

model = dict(
    cls_head=dict(
        loss=dict(
            pseudo_gt_target='suppression_cas',
            pseudo_gt_loss=dict(
                type='PseudoGTLoss',
                input_type='logits',
                weighting='none',
                loss_weight=1.0))))

num_rounds = 50
epochs_per_round = 5
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
        batch_size=16,
        generator=dict(
            type='PseudoGTGenerator',
            source='predictions',
            # runs of the foreground weights w >= 0.5 (every class: the
            # class filter below keeps the video's own)
            post_processor=dict(
                type='BaSNetPostProcessor',
                activation='foreground',
                class_thresh=0.0,
                act_thresh=[0.5]),
            video_label_classes_only=True,
            from_m_iterations=1,
            dropout=0.2))
]
