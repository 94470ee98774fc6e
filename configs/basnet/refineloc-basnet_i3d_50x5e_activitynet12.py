# RefineLoc on top of BaS-Net, ActivityNet v1.2 (I3D, RGB + flow). Both the
# BaS-Net settings (basnet_i3d_1x5e_activitynet12.py) and the refinement
# are OURS (no published settings for either): the refinement follows
# RefineLoc's ActivityNet v1.2 recipe (fresh model each round, 20 %
# dropout, early stop after 3 rounds without a better average mAP); the
# pseudo labels as in refineloc-basnet_i3d_50x115e_thumos14.py (runs of
# w >= 0.5 for the video's classes, supervising the CAS logits of the
# base branch).
_base_ = ['./basnet_i3d_1x5e_activitynet12.py']

model = dict(
    cls_head=dict(
        pseudo_gt_target='base_cas',
        pseudo_gt_loss=dict(
            type='PseudoGTLoss',
            input_type='logits',
            weighting='none',
            loss_weight=1.0)))

# BaS-Net alone is one round of 5 epochs (its RefinementLoop): here
# up to 50 of them, checkpointed once per round; the pseudo labels are the
# recipe's (_base_/basnet_activitynet12_i3d.py: runs of w >= 0.5 of the
# video's classes, dropout 0.2)
train_cfg = dict(num_rounds=50, best_metric='average_mAP', early_stop_rounds=3)
