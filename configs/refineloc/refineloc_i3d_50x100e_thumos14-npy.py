# RefineLoc, THUMOS14, I3D features as per-video .npy files + an
# ActivityNet-style JSON (layout 2, see docs/data_preparation.md); the same
# recipe as configs/refineloc/refineloc_i3d_50x100e_thumos14.py.
_base_ = [
    './_base_/refineloc_thumos14_i3d.py',
    '../_base_/datasets/thumos14_npy.py'
]
