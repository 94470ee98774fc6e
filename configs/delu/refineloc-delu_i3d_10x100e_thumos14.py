# RefineLoc on top of DELU, THUMOS14 I3D features (reference layout).
# DELU keeps its authors' settings (delu_i3d_1x100e_thumos14.py: one round =
# their 5000 iterations); the refinement is ours, from RefineLoc's THUMOS14
# recipe: each round starts from a fresh model (and a fresh curriculum),
# the pseudo labels come from DELU's attention on the training videos
# with RefineLoc's THUMOS14 thresholds (SnippetThresholdSegmenter:
# attn > 0.92 on the top-2 classes, padding 2; chosen on the synthetic
# set over DELU's own proposals, which cover almost every snippet, see
# docs/delu.md),
# 30 % of each video's snippets are dropped, the labels supervise the
# attention logits of both streams (model.cls_head.pseudo_gt_loss),
# at most 10 rounds with an early stop after 3 rounds without a better
# mAP@0.5.
_base_ = ['./delu_i3d_1x100e_thumos14.py']

# DELU alone trains with an EpochBasedTrainLoop: _delete_ replaces it by
# the refinement loop, each round one full DELU training, validated and
# checkpointed once per round
train_cfg = dict(
    _delete_=True,
    type='RefinementLoop',
    num_rounds=10,
    epochs_per_round=100,
    best_metric='mAP@0.5',
    early_stop_rounds=3)
default_hooks = dict(
    checkpoint=dict(interval='round', save_best=None),
    pseudo_labels=dict(
        batch_size=1,
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
            dropout=0.3)))
