# RefineLoc on top of W-TALC, THUMOS14 I3D features (reference layout).
# W-TALC keeps its authors' settings (wtalc_i3d_1x200e_thumos14.py); the
# refinement is ours (the RefineLoc paper's exact W-TALC recipe is not
# known here, every choice below is a config key):
# - a foreground attention branch on W-TALC's embedding (2-layer MLP, one
#   logit), trained only by the pseudo ground truth loss (RefineLoc's k = 1
#   loss and THUMOS14 weight: BCE with logits, pos_weight sqrt(w_fg),
#   weight 2), whose gradient also reaches the embedding;
# - at test time, once the branch has been trained (round 0 is plain
#   W-TALC), W-TALC's threshold on every snippet, then its runs cut at the
#   snippets with foreground < alpha_A = 0.1 (foreground_mode=
#   'gate_after_threshold'; docs/wtalc.md compares the modes and alpha_A);
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
        # _delete_: replaces the base model's attention=None
        attention=dict(_delete_=True, num_layers=2, detach_embedding=False),
        pseudo_gt_loss=dict(
            type='PseudoGTLoss',
            input_type='logits',
            weighting='sqrt_pos_weight',
            loss_weight=2.),
        # test time: W-TALC's threshold on every snippet, then runs cut at
        # snippets with foreground < alpha_A (WTALCPostProcessor.
        # foreground_mode; gating before the threshold fragments actions)
        post_processor=dict(
            min_foreground=0.1, foreground_mode='gate_after_threshold')))

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
