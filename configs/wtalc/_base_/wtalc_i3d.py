# W-TALC (Paul et al., ECCV 2018) on pre-extracted I3D features (RGB + flow,
# 2048-d, 16-frame snippets): the authors' settings (sujoyp/wtalc-pytorch
# @ 81ea982: model.py, train.py, test.py, detectionMAP.py).
# the model's components: refineloc_mm.base_models.wtalc (which imports
# refineloc_mm, the generic components)
custom_imports = dict(
    imports=['refineloc_mm.base_models.wtalc'], allow_failed_imports=False)
model = dict(
    type='WTALC',
    data_preprocessor=dict(type='SnippetDataPreprocessor'),
    cls_head=dict(
        type='WTALCHead',
        num_classes=20,
        in_channels=2048,
        dropout_ratio=0.7,
        topk_divisor=8,
        # total = lambda * MIL + (1 - lambda) * CASL, lambda = 0.5
        mil_loss=dict(type='MILLoss', loss_weight=0.5),
        # num_similar must equal the batch sampler's
        casl_loss=dict(
            type='CoActivitySimilarityLoss',
            num_similar=3,
            margin=0.5,
            loss_weight=0.5),
        # plain W-TALC: no foreground attention branch
        attention=None,
        post_processor=dict(
            type='WTALCPostProcessor',
            topk_divisor=8,
            threshold_ratio=0.5,
            min_length=2,
            class_score_weight=0.7)))
