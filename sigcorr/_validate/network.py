"""Checks of the network matched filter (``matched_filter``, its Dask twin,
``mad_threshold``)."""

from __future__ import annotations

import numpy as np

from .common import as_kernel_array, as_numeric_array, check_int, compute_dtype

__all__ = ["network_inputs", "network_shapes", "check_network_method"]

NETWORK_METHODS = ("ccoeff_normed",)


def check_network_method(method) -> str:
    if isinstance(method, str) and method in NETWORK_METHODS:
        return method
    raise ValueError(f"method must be 'ccoeff_normed' (the normalized correlation coefficient), got {method!r}")


def network_shapes(dshape, templates, moveouts, weights):
    """The checks that need only the data's shape (``sigcorr.dask`` calls
    them before any data is read).  ``templates`` is a numeric array;
    returns (templates (T, C, m), moveouts (T, C) int64, weights (T, C)
    float64) as arrays, and the output length (undecimated)."""
    if len(dshape) not in (1, 2):
        raise ValueError(f"data must be (C, N) (channels x samples) or one channel (N,), got shape {tuple(dshape)}")
    C, N = (1, dshape[0]) if len(dshape) == 1 else dshape
    if templates.ndim == 2 and len(dshape) == 1:
        templates = templates[:, None, :]
    if templates.ndim != 3:
        raise ValueError(f"templates must be (T, C, m): T templates of C channels of m samples, got shape "
                         f"{templates.shape}" + (" (one template? pass templates[None])" if templates.ndim == 2 else ""))
    T, Ct, m = templates.shape
    if T == 0 or m == 0:
        raise ValueError(f"templates must not be empty, got shape {templates.shape}")
    if Ct != C:
        raise ValueError(f"templates have {Ct} channels but data has {C}: templates must be (T, C, m) for data (C, N)")
    if not np.isfinite(templates).all():
        raise ValueError("templates must be finite (no NaN or inf)")
    mv = _moveouts(moveouts, (T, C))
    w = _weights(weights, (T, C))
    span = m + int(mv.max())
    if span > N:
        more = f" plus the largest moveout {int(mv.max())}" if mv.max() > 0 else ""
        raise ValueError(f"templates are longer than the data: {m} samples{more} > {N} data samples")
    return templates, mv, w, N - span + 1


def _moveouts(moveouts, shape):
    if moveouts is None:
        return np.zeros(shape, dtype=np.int64)
    mv = as_numeric_array(moveouts, "moveouts", allow_complex=False)
    if mv.dtype.kind == "b":
        raise TypeError("moveouts must be integers (samples), got booleans")
    if mv.shape != shape:
        raise ValueError(f"moveouts must have shape (T, C) = {shape}, got {mv.shape}")
    if mv.dtype.kind == "f":
        if not np.isfinite(mv).all() or (mv != np.round(mv)).any():
            raise ValueError("moveouts must be whole numbers of samples")
    if (mv < 0).any():
        raise ValueError(f"moveouts must be >= 0 (samples after the earliest channel), got {mv.min()}")
    return np.ascontiguousarray(mv, dtype=np.int64)


def _weights(weights, shape):
    if weights is None:
        return np.ones(shape)
    w = as_numeric_array(weights, "weights", allow_complex=False)
    if w.shape != shape:
        raise ValueError(f"weights must have shape (T, C) = {shape}, got {w.shape}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    zero = np.flatnonzero(~(w > 0).any(axis=1))
    if zero.size:
        raise ValueError(f"weights of template {int(zero[0])} are all zero: every template needs a channel of weight > 0")
    return w


def network_inputs(data, templates, moveouts, weights, method, step):
    """matched_filter's arguments, checked: (data (C, N) in the compute
    dtype, templates (T, C, m) float64, moveouts, weights, dtype, step,
    output length).  float32 (and 8/16-bit) data computes in float32, the
    rest in float64; NaN (and inf) samples are missing data."""
    check_network_method(method)
    step = check_int(step, "step", minimum=1)
    x = as_numeric_array(data, "data", allow_complex=False, masked="missing")
    t = as_numeric_array(templates, "templates", allow_complex=False)
    tpl, mv, w, n_out = network_shapes(x.shape, t, moveouts, weights)
    dtype = compute_dtype(x.dtype, family="image")
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    return as_kernel_array(x2, dtype), np.asarray(tpl, dtype=np.float64), mv, w, dtype, step, n_out
