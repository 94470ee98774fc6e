# RefineLoc, ActivityNet v1.2, I3D features (both streams) as per-video .npy
# files + an ActivityNet-style JSON (layout 2, see
# docs/data_preparation.md); the same recipe as
# configs/refineloc/refineloc_i3d_50x50e_activitynet12.py.
_base_ = [
    './_base_/refineloc_activitynet12_i3d.py',
    '../_base_/datasets/activitynet12_npy.py'
]
