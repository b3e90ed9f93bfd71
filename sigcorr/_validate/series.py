"""autocorrelation, detect_period(s), crosscorrelation, estimate_delay."""

from __future__ import annotations

import numpy as np

from .common import (
    as_kernel_array,
    as_numeric_array,
    check_axis,
    check_flag,
    check_int,
    check_nonempty,
    check_positive,
    check_real,
    compute_dtype,
)
from .conv import check_method

# ---------------------------------------------------------------------------
# period
# ---------------------------------------------------------------------------


def series_batch(x, axis, name="x"):
    """(B, n) float64 C-contiguous series from ``x`` with time along ``axis``.

    Returns ``(y, batch_shape, axis)``.
    """
    arr = as_numeric_array(x, name, allow_complex=False, masked="missing")  # masked values are missing samples
    check_nonempty(arr, name)
    axis = check_axis(axis, arr.ndim, f"a {arr.ndim}-D {name}")
    moved = np.moveaxis(arr, axis, -1)
    batch = moved.shape[:-1]
    y = as_kernel_array(moved.reshape(-1, moved.shape[-1]) if moved.ndim > 1 else moved[None, :],
                        compute_dtype(arr.dtype, family="series"))
    return y, batch, axis


def acf_options(max_lag, n, method, demean, normalize, adjusted):
    """autocorrelation's options for series of length ``n``: ``(max_lag, method)``."""
    max_lag = check_max_lag(max_lag, n)
    method = check_method(method)
    for flag, name in ((demean, "demean"), (normalize, "normalize"), (adjusted, "adjusted")):
        check_flag(flag, name)
    return max_lag, method


def period_range(n, min_period, max_period, fs):
    """detect_period's search range for series of ``n`` samples, in samples:
    ``(pmin, pmax, fs)``.  Two cycles must fit in the series; the shortest
    period searched is never below 2 samples."""
    fs = check_positive(fs, "fs")
    min_period = check_positive(min_period, "min_period")
    pmin = max(min_period * fs, 2.0)
    if n < 2 * pmin:
        raise ValueError(
            f"the series has {n} samples, too short to hold two cycles of min_period "
            f"({min_period} at fs={fs:g} = {pmin:g} samples)"
        )
    if max_period is None:
        pmax = n / 2.0
    else:
        max_period = check_real(max_period, "max_period")
        if max_period < min_period:
            raise ValueError(f"min_period ({min_period}) must be <= max_period ({max_period})")
        pmax = max_period * fs
        if pmax < 2.0:
            raise ValueError(
                f"min_period and max_period: the range must reach 2 samples, the shortest detectable period "
                f"(max_period >= {2.0 / fs:g} at fs={fs:g}), got min_period={min_period}, max_period={max_period}"
            )
        if pmax > n / 2.0:
            raise ValueError(
                f"max_period must allow two cycles in the series: at most {n / 2.0 / fs:g}, got {max_period}"
            )
    return pmin, pmax, fs


def check_max_periods(max_periods, pmin, pmax):
    """detect_periods' ``max_periods`` (>= 1), clamped to the most cycles a
    search over the lags pmin..pmax (samples) can report: one per integer lag."""
    k = check_int(max_periods, "max_periods", minimum=1)
    return min(k, max(1, int(pmax) - int(np.ceil(pmin)) + 1))


# ---------------------------------------------------------------------------
# delay (crosscorrelation, estimate_delay)
# ---------------------------------------------------------------------------


def pair_batch(x, y, axis):
    """Two real series batches with time along ``axis`` -> ``(X, Y, batch)``.

    ``X`` and ``Y`` are (B, n) float64 C-contiguous, their batch axes
    broadcast together; both must have the same length n along ``axis``.
    """
    a = as_numeric_array(x, "x", allow_complex=False, masked="missing")
    b = as_numeric_array(y, "y", allow_complex=False, masked="missing")
    check_nonempty(a, "x")
    check_nonempty(b, "y")
    nd = max(a.ndim, b.ndim)  # numpy broadcasting: missing leading axes are 1
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    axis = check_axis(axis, a.ndim, f"{a.ndim}-D x and y")
    a = np.moveaxis(a, axis, -1)
    b = np.moveaxis(b, axis, -1)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"x and y must have the same length along axis {axis}, got {a.shape[-1]} and {b.shape[-1]}")
    try:
        batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise ValueError(
            f"x and y batch shapes {a.shape[:-1]} and {b.shape[:-1]} do not broadcast (axis {axis} is the time axis)"
        ) from None
    n = a.shape[-1]

    def rows(arr):  # broadcast only where needed (a broadcast view is read-only: a copy)
        if arr.shape[:-1] != batch:
            arr = np.broadcast_to(arr, batch + (n,))
        return as_kernel_array(arr.reshape(-1, n), compute_dtype(arr.dtype, family="series"))

    return rows(a), rows(b), batch, axis


def check_max_lag(max_lag, n):
    """max_lag in [0, n - 1]; None means n - 1."""
    if max_lag is None:
        return n - 1
    max_lag = check_int(max_lag, "max_lag", minimum=0)
    if max_lag > n - 1:
        raise ValueError(f"max_lag must be < the series length {n}, got {max_lag}")
    return max_lag
