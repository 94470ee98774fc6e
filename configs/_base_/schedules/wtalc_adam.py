# W-TALC's optimization (options.py / main.py): Adam, lr 1e-4, weight decay
# 5e-4 (L2, torch.optim.Adam's), 100k iterations of 10-video batches, a
# test every 500 iterations. Here one epoch = 500 batches
# (WTALCBatchSampler num_batches, set by the dataset configs), so 100k
# iterations = 200 epochs, validated after each.
iterations_per_epoch = 500
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=200, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# fused: PyTorch's single-kernel Adam, the same update as torch.optim.Adam
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4, fused=True))
param_scheduler = None
