# DELU (Chen et al., ECCV 2022) on pre-extracted snippet features
# (identity backbone), with the authors' settings
# (MengyuanChen21/ECCV2022-DELU @ a60e46d: model.py class DELU with
# --AWM BWA_fusion_dropout_feat_v2, the weights of scripts/train_thumos.sh,
# proposal_methods.multiple_threshold_hamnet): I3D RGB + flow (1024 + 1024),
# attention blocks 1024 -> 512 -> 512 -> 1 per stream, fusion 2048 -> 2048,
# classifier 2048 -> 2048 -> C + 1 (background last), dropout 0.7 / 0.5.
# Every training video is resampled to 320 snippets by the pipeline
# (RandomPerturbSnippets, see the leaf configs); test videos are whole.
# the model's components: refineloc_mm.base_models.delu (which imports
# refineloc_mm, the generic components)
custom_imports = dict(
    imports=['refineloc_mm.base_models.delu'], allow_failed_imports=False)
model = dict(
    type='DELU',
    data_preprocessor=dict(type='SnippetDataPreprocessor'),
    cls_head=dict(
        type='DELUHead',
        num_classes=20,
        in_channels=2048,
        stream_channels=None,  # two halves: RGB 0..1023, flow 1024..2047
        attention_channels=512,
        cls_channels=2048,
        dropout=0.7,
        attention_dropout=0.5,
        # the original's classification video score: k = 1 (max over time)
        video_score_topk='one',
        # ours: the pseudo ground truth supervises the attention logits of
        # both streams ('attn': the fused probability instead)
        pseudo_gt_target='stream_logits',
        loss=dict(
            type='DELULoss',
            edl_loss=dict(
                type='VideoEvidentialLoss', topk_ratio=9, loss_weight=1.3),
            uct_guide_loss=dict(
                type='UncertaintyGuideLoss',
                amplitude=0.7,
                max_iter=5000,  # the curriculum's length (iterations)
                # the original's code: snippet j weighted by the curve at
                # the time index of the j-th least uncertain snippet
                # ('rank': by its own uncertainty rank, as in the paper)
                ordering='original',
                stable_sort=False,
                loss_weight=0.4),
            mil_loss=dict(
                type='BackgroundMILLoss', topk_ratio=7.,
                with_background=True, loss_weight=1.),
            mil_supp_loss=dict(
                type='BackgroundMILLoss', topk_ratio=7.,
                with_background=False, loss_weight=1.),
            # num_similar must equal the batch sampler's
            co_activity_loss=dict(
                type='CoActivitySimilarityLoss', num_similar=3, margin=0.5,
                loss_weight=1.),
            mutual_loss=dict(type='AttentionMutualLoss', loss_weight=1.),
            norm_weight=0.8,
            guide_weight=0.4),
        # ours (the original has no pseudo labels): RefineLoc's
        # THUMOS14 loss (BCE with logits, pos_weight sqrt(w_fg),
        # alpha_pgt = 2); zero in round 0
        pseudo_gt_loss=dict(
            type='PseudoGTLoss',
            input_type='logits',
            weighting='sqrt_pos_weight',
            loss_weight=2.),
        post_processor=dict(
            type='DELUPostProcessor',
            class_thresh=0.2,
            class_topk_ratio=10,
            act_thresh=None,  # np.linspace(0.1, 0.9, 20), the original's
            lambda_=0.25,
            gamma=0.2,
            sigma=0.3,
            min_length=2,
            # the original's quirks (see DELUPostProcessor)
            drop_if_only_position_zero=True,
            nms_plus_one=True,
            # the original reads ./Thumos14reduced-Annotations/
            # Ambiguous_test.txt; None: no ambiguous filter
            ambiguous_file=None)))
