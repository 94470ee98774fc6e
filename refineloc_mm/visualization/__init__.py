# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Seeing a RefineLoc run: per-video timelines, per-round curves and the
progress of long passes.

Everything draws on plain :class:`matplotlib.figure.Figure` objects with an
Agg canvas (no pyplot, no global backend), so it works headless, in
DataLoader workers and inside training hooks alike.
"""
from .curves import plot_refinement_curves
from .palette import class_color, class_display_name
from .progress import Progress, track_progress
from .timeline import (TimelineData, add_image_to_visualizer, figure_to_rgb,
                       load_pseudo_label_rounds, plot_timeline, score_videos,
                       timeline_height, video_pseudo_labels)

__all__ = [
    'Progress', 'TimelineData', 'add_image_to_visualizer', 'class_color',
    'class_display_name', 'figure_to_rgb', 'load_pseudo_label_rounds',
    'plot_refinement_curves', 'plot_timeline', 'score_videos',
    'timeline_height', 'track_progress', 'video_pseudo_labels'
]
