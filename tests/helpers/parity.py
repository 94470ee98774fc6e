# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Comparison of forward outputs with the reference implementations.

float32 forward passes of one model on two CPUs differ by a few units in
the last place of the *largest* values (BaS-Net's CAS reaches ~10 through
2048-wide convolutions and differs by ~1.3e-5 between CPUs), so a fixed
absolute tolerance of 1e-5 holds on one machine and fails on another. The
tolerance below is absolute, scaled by the magnitude of the reference:
``FORWARD_TOL * max(1, max|ref|)``; outputs of magnitude <= 1 keep the
absolute 1e-5.
"""
import numpy as np

FORWARD_TOL = 1e-5


def forward_atol(ref, tol: float = FORWARD_TOL) -> float:
    """``tol * max(1, max|ref|)``: the absolute tolerance of a forward
    output whose reference is ``ref``."""
    ref = np.asarray(ref, dtype=np.float64)
    peak = float(np.abs(ref).max()) if ref.size else 0.0
    return tol * max(1.0, peak)


def assert_forward_close(actual, ref, tol: float = FORWARD_TOL,
                         err_msg: str = '') -> None:
    """``actual`` equals ``ref`` (arrays or CPU tensors) up to
    :func:`forward_atol` (no relative term)."""
    actual = np.asarray(actual)
    ref = np.asarray(ref)
    np.testing.assert_allclose(
        actual, ref, rtol=0, atol=forward_atol(ref, tol), err_msg=err_msg)


def fixture_tensor(npz, key: str):
    """The fixture array ``key`` of an ``.npz`` as a CPU tensor."""
    import torch
    return torch.from_numpy(np.asarray(npz[key]))


def fixture_tensors(npz, prefix: str) -> dict:
    """``{sub key: tensor}`` of the keys ``PREFIX...`` of an ``.npz``
    (e.g. a state dict under ``CASE/state/``)."""
    return {
        k[len(prefix):]: fixture_tensor(npz, k)
        for k in npz.files if k.startswith(prefix)
    }
