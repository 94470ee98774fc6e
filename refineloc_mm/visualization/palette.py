# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Fixed colours per class index and readable class names."""
from typing import Sequence, Tuple

from matplotlib import colormaps
from matplotlib.colors import to_rgba

RGBA = Tuple[float, float, float, float]


def _is_gray(color) -> bool:
    return max(color[:3]) - min(color[:3]) < 0.05


# Sasha Trubetskoy's 20 distinct colours without white, black and gray, the
# pale ones (yellow, lime, pink, lavender, mint, apricot, beige) darkened so
# that thin lines stay visible on white: the first 18 classes get clearly
# different colours
DISTINCT = ('#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4',
            '#1fb5d6', '#f032e6', '#c9a227', '#469990', '#9a6324',
            '#800000', '#808000', '#000075', '#8fce00', '#ff8fab',
            '#a37ee0', '#2bc28a', '#e0a370')


def _palette() -> Tuple[RGBA, ...]:
    """54 qualitative colours, grays left out (gray/black mean background
    and foreground in the pseudo-label track): 18 maximally distinct
    colours, then ``tab20b`` and ``tab20c``."""
    colors = [to_rgba(c) for c in DISTINCT]
    for name in ('tab20b', 'tab20c'):
        colors += [
            tuple(c) + (1.0, ) for c in colormaps[name].colors
            if not _is_gray(c)
        ]
    return tuple(tuple(float(v) for v in c) for c in colors)


PALETTE = _palette()


def class_color(index: int) -> RGBA:
    """The colour of class ``index`` (cycling beyond the palette), the same
    in every plot and every run."""
    return PALETTE[int(index) % len(PALETTE)]


def class_display_name(classes: Sequence[str], index: int) -> str:
    """Name of class ``index`` for a legend: numeric names (THUMOS14's
    ``'0'..'19'``) read ``'class 7'``, others are used as they are."""
    index = int(index)
    if index < 0 or index >= len(classes):
        return f'class {index}'
    name = str(classes[index])
    return f'class {name}' if name.lstrip('-').isdigit() else name
