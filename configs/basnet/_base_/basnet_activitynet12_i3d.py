# BaS-Net alone on ActivityNet v1.2 (I3D, both streams). The original
# repository has THUMOS14 settings only: everything that differs from
# basnet_thumos14_i3d.py is OURS, not the authors': 100 classes,
# num_segments = 50 (set in the leaf config; the 4702 training videos of
# annotations/activitynet_v1-2 have 201 snippets of 16 frames on average,
# median 188, and long actions), about 1500 iterations of batch 16 as on
# THUMOS14 (294 batches per epoch, so 5 epochs = 1470 iterations), the
# same optimizer and the same post-processing thresholds (not tuned).
_base_ = ['./basnet_thumos14_i3d.py']

model = dict(
    cls_head=dict(
        num_classes=100,
        in_channels=2048,
        # ours: RefineLoc's ActivityNet v1.2 pseudo ground truth loss
        # weight (alpha_pgt = 4, unweighted)
        pseudo_gt_loss=dict(weighting='none', loss_weight=4.0)))

# BaS-Net alone: one round (no pseudo labels) of 5 epochs; a refinement
# config on top of it changes num_rounds
train_cfg = dict(num_rounds=1, epochs_per_round=5)
# pseudo labels, once a refinement config adds rounds: the THUMOS14
# recipe's, with RefineLoc's ActivityNet v1.2 dropout (20 %)
default_hooks = dict(pseudo_labels=dict(generator=dict(dropout=0.2)))
