# RefineLoc, THUMOS14, I3D features in the reference layout (HDF5 + CSV):
# the authors' best setting (METHOD.md).
_base_ = [
    './_base_/refineloc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_features.py'
]
