# W-TALC on ActivityNet v1.2 I3D features (RGB + flow, 2048-d). The
# original repository (sujoyp/wtalc-pytorch) has no ActivityNet settings:
# everything that differs from its THUMOS14 settings is ours: 100 classes
# and validation every 10 epochs (5000 iterations; the validation split has
# ~2.4k videos). Model, losses, optimizer, batch composition and
# max_seqlen are W-TALC's THUMOS14 ones.
_base_ = [
    './wtalc_i3d.py', '../../_base_/schedules/wtalc_adam.py',
    '../../_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=100, in_channels=2048))
train_cfg = dict(val_interval=10)
# pseudo labels as in wtalc_thumos14_i3d.py
default_hooks = dict(
    checkpoint=dict(interval=10),
    pseudo_labels=dict(
        generator=dict(source='predictions', post_processor=None)))
randomness = dict(seed=1, deterministic=False)
