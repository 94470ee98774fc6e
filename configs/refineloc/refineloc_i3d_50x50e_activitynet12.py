# RefineLoc, ActivityNet v1.2, I3D features (both streams) in the reference
# layout (HDF5 + CSV): the authors' best setting (METHOD.md).
_base_ = [
    './_base_/refineloc_activitynet12_i3d.py',
    '../_base_/datasets/activitynet12_features.py'
]
