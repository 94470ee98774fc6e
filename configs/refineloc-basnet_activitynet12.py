# RefineLoc on top of BaS-Net, ActivityNet v1.2 (I3D, RGB + flow). Both the
# BaS-Net settings (basnet_activitynet12.py) and the refinement are OURS
# (no published settings for either): the refinement follows RefineLoc's
# ActivityNet v1.2 recipe (fresh model each round, 20 % dropout, early
# stop after 3 rounds without a better average mAP), with the pseudo
# labels from BaS-Net's own post-processing of the training videos.
_base_ = ['./basnet_activitynet12.py']

# BaS-Net alone is one round of 5 epochs: here 50 of them
train_cfg = dict(
    num_rounds=50, best_metric='average_mAP', early_stop_rounds=3)
# pseudo labels from BaS-Net's own post-processing (the recipe's), 20 %
# dropout
default_hooks = dict(pseudo_labels=dict(generator=dict(dropout=0.2)))
