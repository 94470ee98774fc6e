# Copyright (c) refineloc-mm contributors. All rights reserved.
"""A seeded, THUMOS14-shaped synthetic dataset in the reference layout.

:func:`generate_synthetic` writes it (``tools/data/generate_synthetic.py``
is its command line); :mod:`.layout` samples the annotations,
:mod:`.world` the class structure and prototypes, :mod:`.features` the
snippet features.
"""
from .features import video_features
from .generate import generate_synthetic, output_paths
from .layout import (CSV_HEADER, SPLITS, VideoLayout, layout_to_csv_text,
                     sample_split_layout, summarize_groundtruth)
from .world import SyntheticStrengths, SyntheticWorld, make_world

__all__ = [
    'CSV_HEADER', 'SPLITS', 'SyntheticStrengths', 'SyntheticWorld',
    'VideoLayout', 'generate_synthetic', 'layout_to_csv_text', 'make_world',
    'output_paths', 'sample_split_layout', 'summarize_groundtruth',
    'video_features'
]
