# RefineLoc, THUMOS14, I3D features as per-video .npy files + an
# ActivityNet-style JSON (layout 2, see docs/data_preparation.md); the same
# recipe as configs/refineloc_thumos.py.
_base_ = [
    './_base_/refineloc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_npy.py'
]
