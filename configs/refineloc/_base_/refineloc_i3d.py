# RefineLoc on pre-extracted snippet features (identity backbone).
# the model's components: refineloc_mm.base_models.refineloc (which imports
# refineloc_mm, the generic components)
custom_imports = dict(
    imports=['refineloc_mm.base_models.refineloc'], allow_failed_imports=False)
model = dict(
    type='RefineLoc',
    data_preprocessor=dict(type='SnippetDataPreprocessor'),
    cls_head=dict(
        type='RefineLocHead',
        num_classes=20,
        in_channels=1024,
        num_layers=2,
        attention_dim=1,
        loss=dict(
            type='RefineLocLoss',
            alpha_l1=0.,
            alpha_gs=0.),
        # pseudo ground truth loss on the attention (k = 1: BCE with
        # logits, pos_weight sqrt(w_fg)); loss_weight is alpha_pgt
        pseudo_gt_loss=dict(
            type='PseudoGTLoss', weighting='sqrt_pos_weight',
            loss_weight=2.),
        # inference thresholds of the action segment prediction module
        post_processor=dict(
            type='ActionSegmentPredictor',
            top_k=2,
            min_cas_score=0.35,
            min_attention_score=0.5,
            padding=2)))
