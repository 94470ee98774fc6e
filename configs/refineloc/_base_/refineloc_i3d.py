# RefineLoc on pre-extracted snippet features (identity backbone).
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
            alpha_gs=0.,
            alpha_pgt=2.,
            weighted=True),
        # inference thresholds of the action segment prediction module
        post_processor=dict(
            type='ActionSegmentPredictor',
            top_k=2,
            min_cas_score=0.35,
            min_attention_score=0.5,
            padding=2)))
