# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Features of the synthetic set.

Feature model
-------------
Every video is a sequence of ``T`` snippets; snippet ``t`` covers
``[t s / fps, (t + 1) s / fps)``. Both halves ("RGB" ``[0:D/2]`` and
"flow" ``[D/2:D]``) are built from the *same* temporal coefficients but with
their own independently drawn prototypes and noise, so either half alone or
both carry the signal. All prototypes are random Gaussian vectors rescaled to
a per-coordinate RMS of 1, so a strength ``a`` means ``a`` per coordinate (a
projection of ``a * sqrt(D / 2)`` on the unit direction, against a noise of
``noise_std`` per direction). For a snippet ``t`` of video ``v``::

    x_t = sum_i p_i(t) * (action_strength * A[c_i] + action_var_std * e_i)
        + foreground_strength * min(1, sum_i overlap_i(t)) * F
        + context_strength    * sum_c w_c(t) * X[c]
        + background_strength * (1 - min(1, sum_i p_i(t))) * B[k(t)]
        + scene_std * z_v + shot_std * o_{shot(t)} + noise_std * n_t

* ``A[c]`` action signature of class ``c`` (partner classes share a part of
  size ``pair_similarity`` of their action and context signatures);
  ``e_i ~ N(0, I)`` per instance (the intra-class variation).
* ``p_i(t) = overlap_i(t) * (boundary_floor + (1 - boundary_floor)
  * sin(pi * u))`` where ``overlap_i(t)`` is the fraction of snippet ``t``
  inside instance ``i`` and ``u`` the relative position of the snippet centre
  in the instance: the evidence is strongest in the middle of an instance and
  weakest at its boundaries (and partial snippets are weaker still).
* ``F`` generic foreground direction shared by all classes (weaker than the
  class-specific signatures by default). Unlike the class evidence it is
  flat over an instance (it follows the fraction of the snippet inside
  instances, not the boundary profile): the class-discriminative evidence
  is concentrated in the middle of an action, but "something is happening"
  holds all along it. A weakly-supervised model (round 0) is drawn to the
  discriminative middles and to the context; pseudo labels that cover whole
  instances teach the attention the generic cue, which is what refinement
  is meant to exploit.
* ``X[c]`` class-correlated *context* signature, distinct from ``A[c]``.
  ``w_c(t)`` is 1 inside instances of class ``c`` and decays as
  ``exp(-d / context_decay)`` with the distance ``d`` (seconds) to the nearest
  instance of ``c`` (0 beyond ``context_extent``). On top, each video has
  context *bursts* (Poisson, ``context_bursts_per_min``; 2-6 s, half-sine
  shaped) of one of its classes at random places (mostly away from the
  actions, since actions cover ~30 % of a video), and a floor
  ``context_floor`` of its classes' context everywhere. Context therefore
  predicts the video label as well as the action does, which is what draws a
  weakly-supervised attention onto the wrong snippets.
* ``B[k]`` one of ``num_background_types`` background types shared by all
  classes; every shot (Poisson cuts, mean ``shot_mean_len`` seconds) has one
  type, and it fades out where the action takes over.
* ``z_v`` per-video scene vector and ``o_shot`` per-shot offset: large,
  temporally constant nuisances unique to a video (the scene is larger than
  every class signal by default).
* ``n_t`` i.i.d. per-snippet Gaussian noise.

The defaults keep every coordinate O(1) (std ~1.5).

Output is deterministic: the feature arithmetic avoids BLAS, so it does not
depend on the number of threads.
"""
from __future__ import annotations

import math

import numpy as np

from .layout import VideoLayout
from .world import SyntheticStrengths, SyntheticWorld

BURST_LEN_RANGE = (2.0, 6.0)  # seconds


def _snippet_overlap(starts: np.ndarray, snip_s: float, t0: float,
                     t1: float) -> np.ndarray:
    """Fraction of each snippet ``[s, s + snip_s)`` inside ``[t0, t1]``."""
    inter = np.minimum(starts + snip_s, t1) - np.maximum(starts, t0)
    return np.clip(inter / snip_s, 0.0, 1.0)


def video_features(video: VideoLayout,
                   world: SyntheticWorld,
                   strengths: SyntheticStrengths,
                   rng: np.random.Generator,
                   snippet_size: int = 16) -> np.ndarray:
    """Synthesize the ``[T, D]`` float32 features of one video.

    Args:
        video (VideoLayout): Annotations.
        world (SyntheticWorld): Prototypes.
        strengths (SyntheticStrengths): Signal strengths.
        rng (np.random.Generator): Feature random generator of the video.
        snippet_size (int): Frames per snippet.

    Returns:
        np.ndarray: Features, float32, shape ``[T, D]``.
    """
    st = strengths
    num_t = video.num_snippets
    num_classes = world.action.shape[1]
    half = world.action.shape[2]
    snip_s = snippet_size / video.fps
    starts = np.arange(num_t) * snip_s
    centers = starts + 0.5 * snip_s
    span = num_t * snip_s

    # per-instance profiles (on the snippets an instance touches) and
    # per-class action and context weights
    act = np.zeros((num_t, num_classes))
    ctx = np.zeros((num_t, num_classes))
    cover = np.zeros(num_t)  # fraction of each snippet inside instances
    pieces = []  # (first snippet, profile) per instance
    reach = math.ceil(st.context_extent / snip_s) + 1
    for a, b, c in zip(video.starts_ds, video.ends_ds, video.labels):
        t0, t1 = a / 10.0, b / 10.0
        i0 = max(int(t0 / snip_s) - 1, 0)
        i1 = min(math.ceil(t1 / snip_s) + 1, num_t)
        u = np.clip((centers[i0:i1] - t0) / (t1 - t0), 0.0, 1.0)
        inside = _snippet_overlap(starts[i0:i1], snip_s, t0, t1)
        p = inside * (
            st.boundary_floor + (1 - st.boundary_floor) * np.sin(np.pi * u))
        act[i0:i1, c] += p
        cover[i0:i1] += inside
        pieces.append((i0, p))
        j0, j1 = max(i0 - reach, 0), min(i1 + reach, num_t)
        cj = centers[j0:j1]
        dist = np.maximum(np.maximum(t0 - cj, cj - t1), 0.0)
        near = np.exp(-dist / st.context_decay) * (dist <= st.context_extent)
        ctx[j0:j1, c] = np.maximum(ctx[j0:j1, c], near)
    # context bursts away from the actions (any place, one of the classes)
    classes = np.array(video.classes)
    num_bursts = rng.poisson(st.context_bursts_per_min * span / 60.0)
    b_center = rng.uniform(0.0, span, num_bursts)
    b_len = rng.uniform(*BURST_LEN_RANGE, num_bursts)
    b_class = classes[rng.integers(0, len(classes), num_bursts)]
    for m, ln, c in zip(b_center, b_len, b_class):
        u = np.clip((centers - m) / ln + 0.5, 0.0, 1.0)
        ctx[:, c] = np.maximum(ctx[:, c], np.sin(np.pi * u))
    ctx[:, classes] = np.maximum(ctx[:, classes], st.context_floor)
    fg = np.minimum(act.sum(1), 1.0)

    # shots with a background type each
    num_cuts = rng.poisson(span / st.shot_mean_len)
    cuts = np.sort(rng.uniform(0.0, span, num_cuts))
    shot_id = np.searchsorted(cuts, centers)
    shot_type = rng.integers(0, st.num_background_types, num_cuts + 1)
    bg = np.zeros((num_t, st.num_background_types))
    bg[np.arange(num_t), shot_type[shot_id]] = 1.0 - fg

    coef = np.concatenate(
        [
            st.action_strength * act,
            st.context_strength * ctx,
            st.background_strength * bg,
            st.foreground_strength * np.minimum(cover, 1.0)[:, None],
        ],
        axis=1).astype(np.float32)
    # only ~a dozen columns are used by a video; einsum without BLAS is fast
    # here and does not depend on the BLAS threading (determinism)
    used = np.flatnonzero(coef.any(0))
    coef = coef[:, used]
    out = np.empty((num_t, 2 * half), dtype=np.float32)
    for s in range(2):
        atoms = np.concatenate([
            world.action[s], world.context[s], world.background[s],
            world.foreground[s][None]
        ])[used].astype(np.float32)
        x = np.einsum('tk,kd->td', coef, atoms, optimize=False)
        var = st.action_var_std * rng.standard_normal((len(pieces), half))
        for (i0, p), e in zip(pieces, var.astype(np.float32)):
            x[i0:i0 + len(p)] += p.astype(np.float32)[:, None] * e
        offsets = st.scene_std * rng.standard_normal(half) + (
            st.shot_std * rng.standard_normal((num_cuts + 1, half)))
        x += offsets.astype(np.float32)[shot_id]
        noise = rng.standard_normal((num_t, half), dtype=np.float32)
        noise *= np.float32(st.noise_std)
        x += noise
        out[:, s * half:(s + 1) * half] = x
    return out
