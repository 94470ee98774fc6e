# RefineLoc on top of W-TALC, THUMOS14 I3D features (reference layout).
# W-TALC keeps its authors' settings (wtalc_i3d_1x200e_thumos14.py); the
# refinement is ours (the RefineLoc paper's exact W-TALC recipe is not
# known here, every choice below is a config key):
# - the pseudo labels supervise W-TALC's CAS on the scale its threshold
#   reads (pseudo_gt_target='cas_margin': per labelled class, the CAS
#   normalized over the video to [0, 1] minus 1 - threshold_ratio, times
#   10, as the logit of RefineLoc's k = 1 loss: BCE with logits, pos_weight
#   sqrt(w_fg), weight 2): positive where W-TALC's post-processing keeps a
#   snippet, whatever the logits' level, so W-TALC's class filter is left
#   alone; the test is W-TALC's own post-processing (docs/wtalc.md
#   compares this target with a foreground branch on the embedding);
# - that level, free under the margin, is pinned in the rounds with pseudo
#   labels by a BCE (weight 0.2) of W-TALC's top-k pooled logits against
#   the video labels (level_loss): without it each round scores more
#   classes the test video does not have above W-TALC's class filter;
# - pseudo labels from the model's own post-processing (post_processor=
#   None: the same segments as at test time) on
#   the training videos, only the classes the video is labelled with
#   (video_label_classes_only), dropout 0.3, from the last round only;
# - each round is one full W-TALC training (100k iterations = 200 epochs),
#   the model is reset between rounds, at most 10 rounds with early stop
#   after 3 rounds without a better mAP@0.5.
_base_ = ['./wtalc_i3d_1x200e_thumos14.py']

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
    best_metric='mAP@0.5',
    early_stop_rounds=3)
# pseudo labels from W-TALC's own segments (the recipe's), dropout 0.3,
# only the segments of the classes the training video is labelled with
default_hooks = dict(
    checkpoint=dict(interval='round'),
    pseudo_labels=dict(
        generator=dict(dropout=0.3, video_label_classes_only=True)))
