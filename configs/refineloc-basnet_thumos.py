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

# BaS-Net alone is one round of 115 epochs: here 50 of them
train_cfg = dict(num_rounds=50, early_stop_rounds=3)
# pseudo labels from BaS-Net's own post-processing (the recipe's), 30 %
# dropout
default_hooks = dict(pseudo_labels=dict(generator=dict(dropout=0.3)))
