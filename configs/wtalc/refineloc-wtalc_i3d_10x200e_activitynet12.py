# RefineLoc on top of W-TALC, ActivityNet v1.2 I3D features. Ours
# throughout (no published recipe): the refinement of
# refineloc-wtalc_i3d_10x200e_thumos14.py (pseudo labels from the model's
# own segments of the video's classes only, supervising W-TALC's CAS on the
# scale its threshold reads; W-TALC's own post-processing at test time)
# with RefineLoc's ActivityNet v1.2 pseudo label dropout (0.2) and model
# selection (average mAP), each round a full W-TALC training (200 epochs).
_base_ = ['./wtalc_i3d_1x200e_activitynet12.py']

model = dict(
    cls_head=dict(
        pseudo_gt_target='cas_margin',
        margin_scale=10.,
        level_loss=dict(type='BCELossWithLogits', loss_weight=0.2),
        pseudo_gt_loss=dict(
            type='PseudoGTLoss',
            input_type='logits',
            weighting='sqrt_pos_weight',
            loss_weight=2.)))

# W-TALC alone trains with an EpochBasedTrainLoop (validated every
# epoch): _delete_ replaces it by the refinement loop, each round one full
# W-TALC training, validated and checkpointed once per round
train_cfg = dict(
    _delete_=True,
    type='RefinementLoop',
    num_rounds=10,
    epochs_per_round=200,
    best_metric='average_mAP',
    early_stop_rounds=3)
# pseudo labels from W-TALC's own segments (the recipe's), dropout 0.2,
# only the segments of the classes the training video is labelled with
default_hooks = dict(
    checkpoint=dict(interval='round'),
    pseudo_labels=dict(
        generator=dict(dropout=0.2, video_label_classes_only=True)))
