# RefineLoc on top of BaS-Net, THUMOS14 (I3D, RGB + flow). BaS-Net keeps
# the authors' settings (basnet_thumos.py: one round = their 1500
# iterations of batch 16, as 115 epochs); the refinement is ours, from
# RefineLoc's THUMOS14 recipe (the RefineLoc paper's BaS-Net settings were
# not available): each round starts from a fresh model, the pseudo labels
# come from BaS-Net's own post-processing of the training videos
# (post_processor=None), 30 % of each video's snippets are dropped,
# rounds stop when mAP@0.5 has not improved for 3 rounds. The labels
# supervise the foreground weights w (model.cls_head.loss.pseudo_gt_loss).
_base_ = ['./basnet_thumos.py']

num_rounds = 50
epochs_per_round = 115
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
        batch_size=16,
        generator=dict(
            type='PseudoGTGenerator',
            source='predictions',
            post_processor=None,  # the model's own post-processing
            from_m_iterations=1,
            dropout=0.3))
]
