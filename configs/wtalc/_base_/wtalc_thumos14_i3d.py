# W-TALC on THUMOS14 I3D features (RGB + flow): the authors' model,
# optimization and seed (sujoyp/wtalc-pytorch, options.py: seed 1). The
# batch sampler and the crop of long videos are set by the leaf configs
# (../wtalc_i3d_1x200e_thumos14.py), on top of the dataset config.
_base_ = [
    './wtalc_i3d.py', '../../_base_/schedules/wtalc_adam.py',
    '../../_base_/default_runtime.py'
]
# one checkpoint per epoch (= 500 iterations), the last two kept; pseudo
# labels (once a refinement config adds a RefinementLoop) from W-TALC's own
# (gated) segments of the training videos
default_hooks = dict(
    checkpoint=dict(interval=1),
    pseudo_labels=dict(
        generator=dict(source='predictions', post_processor=None)))
randomness = dict(seed=1, deterministic=False)
