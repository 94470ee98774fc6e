# RefineLoc on top of DELU, ActivityNet v1.2 (I3D, RGB + flow). DELU's
# settings: delu_i3d_1x110e_activitynet12.py (partly the original's
# ActivityNet script, partly ours); the refinement is OURS, from RefineLoc's
# ActivityNet v1.2 recipe (fresh model each round, 20 % dropout, early
# stop after 3 rounds without a better average mAP), with the pseudo labels
# from DELU's attention with RefineLoc's thresholds (the `attention` source,
# chosen on the synthetic set, see docs/delu.md).
_base_ = ['./delu_i3d_1x110e_activitynet12.py']

train_cfg = dict(
    _delete_=True,
    type='RefinementLoop',
    num_rounds=10,
    epochs_per_round=110,
    best_metric='average_mAP',
    early_stop_rounds=3)
default_hooks = dict(
    checkpoint=dict(interval='round'),
    pseudo_labels=dict(
        batch_size=16,
        generator=dict(
            # chosen on the synthetic set (docs/delu.md): DELU's attention
            # with RefineLoc's thresholds (attn > 0.92 on the top-2
            # classes, padding 2; the class probabilities do not decide);
            # post_processor=None: DELU's own proposals
            source='predictions',
            post_processor=dict(
                type='SnippetThresholdSegmenter',
                top_k=2,
                min_cas_score=0.,
                min_attention_score=0.92,
                padding=2),
            from_m_iterations=1,
            dropout=0.2)))
