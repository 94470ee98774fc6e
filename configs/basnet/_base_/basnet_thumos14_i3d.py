# BaS-Net alone on THUMOS14 (I3D, both streams) with the authors' training
# settings (options.py / main.py of Pilhyeon/BaSNet-pytorch): Adam lr 1e-4,
# betas (0.9, 0.999), weight decay 5e-4, batch 16, 1500 iterations.
#
# Iterations -> epochs: the original draws 1500 batches of 16 from its 200
# training videos (13 batches per pass, the last one of 8 videos), i.e.
# 1500 / 13 = 115.4 passes; here one round is 115 epochs (1495
# iterations). The original tests on the test split after every iteration
# and keeps the best one (model selection on test); here the model of the
# round's last epoch is validated (no selection on the test split).
_base_ = [
    './basnet_i3d.py', '../../_base_/schedules/adam_refinement.py',
    '../../_base_/default_runtime.py'
]

# BaS-Net alone: one round (no pseudo labels) of 115 epochs; a refinement
# config on top of it changes num_rounds
train_cfg = dict(num_rounds=1, epochs_per_round=115)
# pseudo labels, once a refinement config adds rounds (ours, issue 16,
# measured on the synthetic set, docs/basnet.md): the training videos
# scored in batches of 16, the labels cut from the round's foreground
# weights w (runs of w >= 0.5, every class: the class filter keeps the
# video's own), from the last round only, 30 % of each video's snippets
# dropped (RefineLoc's THUMOS14 dropout)
default_hooks = dict(
    pseudo_labels=dict(
        batch_size=16,
        generator=dict(
            source='predictions',
            post_processor=dict(
                type='BaSNetPostProcessor',
                activation='foreground',
                class_thresh=0.0,
                act_thresh=[0.5]),
            video_label_classes_only=True,
            from_m_iterations=1,
            dropout=0.3)))
optim_wrapper = dict(
    optimizer=dict(
        type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=5e-4,
        fused=True))
