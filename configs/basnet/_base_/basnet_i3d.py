# BaS-Net (Lee et al., AAAI 2020) on pre-extracted snippet features
# (identity backbone), with the authors' settings (Pilhyeon/BaSNet-pytorch
# @ c8c6bbd): I3D RGB + flow (2048 wide), filtering module 2048 -> 512 -> 1,
# CAS module 2048 -> 2048 -> 2048 -> C + 1 (kernels 3, 3, 1), dropout 0.7,
# top-k = T // 8, norm loss weight 1e-4, post-processing with class
# threshold 0.25, x24 upsampling, activation thresholds 0:0.025:0.225,
# outer-inner contrast (lambda 0.25, gamma 0.2) and per-class NMS 0.7.
# Every video is resampled to `num_segments` snippets by the pipeline
# (ResampleSnippets, see the dataset part of the leaf configs).
# the model's components: refineloc_mm.base_models.basnet (which imports
# refineloc_mm, the generic components)
custom_imports = dict(
    imports=['refineloc_mm.base_models.basnet'], allow_failed_imports=False)
model = dict(
    type='BaSNet',
    data_preprocessor=dict(type='SnippetDataPreprocessor'),
    cls_head=dict(
        type='BaSNetHead',
        num_classes=20,
        in_channels=2048,
        cas_channels=2048,
        filter_channels=512,
        dropout=0.7,
        topk_ratio=8,
        loss=dict(
            type='BaSNetLoss',
            alpha=1e-4),
        # ours (the original has no pseudo labels): the refinement's
        # labels supervise the foreground weights w with RefineLoc's
        # loss for a sigmoid foreground (THUMOS14 recipe: BCE with
        # pos_weight sqrt(w_fg), alpha_pgt = 2); zero in round 0
        pseudo_gt_loss=dict(
            type='PseudoGTLoss',
            input_type='probs',
            weighting='sqrt_pos_weight',
            loss_weight=2.0),
        post_processor=dict(
            type='BaSNetPostProcessor',
            class_thresh=0.25,
            act_thresh=None,  # np.arange(0.0, 0.25, 0.025), the original's
            scale=24,
            lambda_=0.25,
            gamma=0.2,
            nms_thresh=0.7,
            # the original's quirks (see BaSNetPostProcessor)
            binarize_scores=True,
            nms_plus_one=True,
            drop_if_only_class_zero=True,
            drop_if_only_position_zero=True)))
