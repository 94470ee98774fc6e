# Kept for the design card: configs/refineloc/refineloc_i3d_50x100e_thumos14.py
_base_ = ['./refineloc/refineloc_i3d_50x100e_thumos14.py']
