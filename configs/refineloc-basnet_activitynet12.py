# RefineLoc on top of BaS-Net, ActivityNet v1.2 (I3D, RGB + flow). Both the
# BaS-Net settings (basnet_activitynet12.py) and the refinement are OURS
# (no published settings for either): the refinement follows RefineLoc's
# ActivityNet v1.2 recipe (fresh model each round, 20 % dropout, early
# stop after 3 rounds without a better average mAP), with the pseudo
# labels from BaS-Net's own post-processing of the training videos.
_base_ = ['./basnet_activitynet12.py']

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
            post_processor=None,  # the model's own post-processing
            from_m_iterations=1,
            dropout=0.2))
]
