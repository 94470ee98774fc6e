# Data loading shared by every RefineLoc dataset config: the training split
# is wrapped in PseudoLabelDataset (the pseudo-label hook's labels), batches
# are packed into one [sum T, ...] tensor by the workers, and evaluation is
# temporal mAP (THUMOS14 tIoUs; ActivityNet configs override them). A
# dataset config sets `train_dataloader.dataset.dataset` and
# `val_dataloader.dataset`.
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='packed_snippet_collate'),
    dataset=dict(type='PseudoLabelDataset'))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='packed_snippet_collate'))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='TemporalmAP', tiou_thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))
test_evaluator = val_evaluator
