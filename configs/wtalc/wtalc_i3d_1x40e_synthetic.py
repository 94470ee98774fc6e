# W-TALC alone on the embedded synthetic THUMOS14-shaped set, with the
# shrinking of refineloc-wtalc_i3d_4x40e_synthetic.py (one 1024-d I3D
# stream, training videos cropped to 256 snippets, Adam lr 2e-3 divided by
# 10 after 1500 iterations): the same config without the pseudo ground
# truth loss and the refinement loop, and with W-TALC's own class filter,
# 2000 iterations (40 epochs of 50 batches) validated every 100. Its log is
# W-TALC's learning curve on the set (docs/wtalc.md).
_base_ = ['./refineloc-wtalc_i3d_4x40e_synthetic.py']

# plain W-TALC: the base head's defaults (no pseudo ground truth target)
# and the original's post-processing
model = dict(
    cls_head=dict(
        pseudo_gt_target='attention',
        level_loss=None,
        post_processor=dict(min_class_score=0.)))
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=40, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=40))
