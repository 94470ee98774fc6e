# Copyright (c) refineloc-mm contributors. All rights reserved.
"""A reference measurement as a user would pass it to ``tools/benchmark.py
--reference-results`` (the benchmark report's and the tool's tests)."""
import json

FIGURES = dict(
    train_epoch=1.38,
    train_gflops=355.0,
    regenerate=0.44,
    test_forward=0.69,
    post_processing=0.11,
    map_thumos=0.81,
    map_thumos_first=4.2,
    schedule_wall=269.0,
    schedule_peak_rss_gb=1.74)


def write_figures(path, figures=FIGURES, **extra):
    """``path`` with ``{"figures": figures, **extra}`` as JSON."""
    path.write_text(json.dumps(dict(figures=figures, **extra)))
    return path
