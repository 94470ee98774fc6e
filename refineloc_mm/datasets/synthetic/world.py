# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Class structure and prototypes of the synthetic set (both splits).

The signal strengths of the feature model (:class:`SyntheticStrengths`) and
the per-class statistics and signatures drawn from a seed
(:func:`make_world`); the feature model itself is described in
:mod:`refineloc_mm.datasets.synthetic.features`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# class log-mean instance lengths are standardized to this mean and std
# (log seconds; measured on the real THUMOS14 annotations, see
# :mod:`refineloc_mm.datasets.synthetic.layout`)
CLASS_LOG_LEN_MEAN, CLASS_LOG_LEN_STD = 1.35, 0.6  # log(seconds)


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={'help': help})


@dataclass(frozen=True)
class SyntheticStrengths:
    """Signal strengths of the feature model (all CLI-tunable).

    Amplitudes are per coordinate; see the module docstring for the model.
    """

    action_strength: float = _opt(
        0.25, 'class-specific action signature amplitude')
    action_var_std: float = _opt(
        0.05, 'per-instance deviation from the class action signature')
    foreground_strength: float = _opt(
        0.15, 'generic (class-agnostic) foreground direction amplitude')
    context_strength: float = _opt(
        0.1, 'class-correlated context signature amplitude')
    context_decay: float = _opt(
        3.0, 'decay length (s) of the context around an instance')
    context_extent: float = _opt(
        8.0, 'no context further than this (s) from an instance')
    context_floor: float = _opt(
        0.05, "fraction of the video's class context present everywhere")
    context_bursts_per_min: float = _opt(
        0.5, 'rate of context-only bursts away from the actions (/minute)')
    boundary_floor: float = _opt(
        0.1, 'relative action evidence at instance boundaries (1 = flat)')
    background_strength: float = _opt(
        0.2, 'amplitude of the shared background types')
    num_background_types: int = _opt(8, 'number of background types')
    shot_mean_len: float = _opt(10.0, 'mean shot length (s)')
    shot_std: float = _opt(0.3, 'per-shot random offset std')
    scene_std: float = _opt(1.0, 'per-video scene vector std')
    noise_std: float = _opt(1.0, 'per-snippet i.i.d. noise std')
    pair_similarity: float = _opt(
        0.5, 'shared fraction (squared cosine) of partner class signatures')

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f'{f.name} must be >= 0')
        if not 0 <= self.pair_similarity <= 1:
            raise ValueError('pair_similarity must be in [0, 1]')
        if not 0 <= self.boundary_floor <= 1:
            raise ValueError('boundary_floor must be in [0, 1]')
        if self.num_background_types < 1:
            raise ValueError('num_background_types must be >= 1')
        if self.context_decay <= 0 or self.shot_mean_len <= 0:
            raise ValueError('context_decay and shot_mean_len must be > 0')


@dataclass
class SyntheticWorld:
    """Class-level structure shared by both splits.

    Attributes:
        class_log_len (np.ndarray): [C] mean log instance length per class.
        partner (np.ndarray): [C] partner class of each class, -1 if none.
        action (np.ndarray): [2, C, D/2] action signatures per stream.
        context (np.ndarray): [2, C, D/2] context signatures per stream.
        background (np.ndarray): [2, K, D/2] background types per stream.
        foreground (np.ndarray): [2, D/2] generic foreground direction.
    """

    class_log_len: np.ndarray
    partner: np.ndarray
    action: np.ndarray
    context: np.ndarray
    background: np.ndarray
    foreground: np.ndarray


def _rms_rows(x: np.ndarray) -> np.ndarray:
    """Rescale the last axis of ``x`` to a root mean square of 1."""
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True))


def make_world(seed: int,
               num_classes: int = 20,
               feat_dim: int = 2048,
               strengths: SyntheticStrengths | None = None
               ) -> SyntheticWorld:
    """Draw the class structure and the prototypes for a seed.

    Args:
        seed (int): Base seed.
        num_classes (int): Number of action classes.
        feat_dim (int): Feature dimension (even; two halves).
        strengths (SyntheticStrengths, optional): Uses
            ``num_background_types`` and ``pair_similarity``.

    Returns:
        SyntheticWorld: Shared structure of both splits.
    """
    st = strengths or SyntheticStrengths()
    if feat_dim < 2 or feat_dim % 2:
        raise ValueError(f'feat_dim must be even and >= 2, got {feat_dim}')
    if num_classes < 2:
        raise ValueError(f'num_classes must be >= 2, got {num_classes}')
    half = feat_dim // 2
    # class statistics: independent of feat_dim and of the strengths
    rng = np.random.default_rng([seed, 0, 0])
    z_len = rng.standard_normal(num_classes)
    z_len = (z_len - z_len.mean()) / z_len.std()
    class_log_len = CLASS_LOG_LEN_MEAN + CLASS_LOG_LEN_STD * z_len
    partner = np.full(num_classes, -1, dtype=np.int64)
    num_pairs = max(1, num_classes // 10) if num_classes >= 4 else 0
    perm = rng.permutation(num_classes)
    for p in range(num_pairs):
        a, b = int(perm[2 * p]), int(perm[2 * p + 1])
        partner[a], partner[b] = b, a
    # prototypes
    rng = np.random.default_rng([seed, 0, 1])
    shape = (2, num_classes, half)
    action = rng.standard_normal(shape)
    context = rng.standard_normal(shape)
    shared_action = rng.standard_normal(shape)
    shared_context = rng.standard_normal(shape)
    background = rng.standard_normal(
        (2, st.num_background_types, half))
    foreground = rng.standard_normal((2, half))
    rho = st.pair_similarity
    for c in range(num_classes):
        if partner[c] < 0:
            continue
        key = min(c, int(partner[c]))  # the pair shares the same vector
        action[:, c] = (math.sqrt(rho) * shared_action[:, key] +
                        math.sqrt(1 - rho) * action[:, c])
        context[:, c] = (math.sqrt(rho) * shared_context[:, key] +
                         math.sqrt(1 - rho) * context[:, c])
    return SyntheticWorld(
        class_log_len=class_log_len,
        partner=partner,
        action=_rms_rows(action),
        context=_rms_rows(context),
        background=_rms_rows(background),
        foreground=_rms_rows(foreground))
