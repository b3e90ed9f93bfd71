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


def period_range(n, min_period, max_period, fs, unit=None):
    """detect_period's search range for series of ``n`` samples, in samples:
    ``(pmin, pmax, fs)``.  Two cycles must fit in the series; the shortest
    period searched is never below 2 samples.  ``unit``: what the samples
    are called in the messages (irregular times: lag steps, fs = 1 / lag_step)."""
    fs = check_positive(fs, "fs")
    min_period = 2.0 if min_period is None else check_positive(min_period, "min_period")
    pmin = max(min_period * fs, 2.0)
    if n < 2 * pmin:
        if unit is not None:
            raise ValueError(
                f"times: the series span {n} {unit}, too short to hold two cycles of min_period "
                f"({min_period:g} = {pmin:g} lag steps of {1 / fs:g})"
            )
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
    if is_pandas(x) or is_pandas(y):  # time along the index: a one-column DataFrame is its Series (statsmodels' ccf)
        x, y, axis = pandas_rows(x, axis, "x"), pandas_rows(y, axis, "y"), -1
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


# ---------------------------------------------------------------------------
# irregular samples (times=)
# ---------------------------------------------------------------------------

KERNELS = ("gaussian", "slotted")


def irregular_batch(x, times, axis, name="x"):
    """Series ``x`` sampled at ``times`` -> ``(t, v, m, batch)``: (B, n)
    float64 rows of each series' present samples (finite value and time)
    first, sorted by time (values moved with their times; ties kept in
    order), then padding (t = +inf, v = 0); m (B,) int64 their number.

    ``times`` has ``x``'s shape, or is 1-D (one set of times for every
    series); numpy datetime64 / timedelta64 times are read in seconds from
    the earliest (NaT as NaN).  The rule for non-finite times: NaN is padding, allowed only as
    a row's trailing run (a ragged batch, NaN-padded) where the value is NaN
    too; any other NaN time, and every infinite one, is refused."""
    y, batch, axis = series_batch(x, axis, name)
    raw = np.asarray(times) if not isinstance(times, (str, bytes)) else times
    if getattr(raw, "dtype", None) is not None and raw.dtype.kind in "mM":
        # numpy datetime64 / timedelta64: seconds (from the earliest); NaT is padding as NaN
        ticks = raw.astype("datetime64[ns]" if raw.dtype.kind == "M" else "timedelta64[ns]")
        nat = np.isnat(ticks)
        ns = ticks.view(np.int64)
        base = ns[~nat].min() if (~nat).any() else 0
        times = np.where(nat, np.nan, (ns - base) / 1e9)
    arr = as_numeric_array(times, "times", allow_complex=False)
    if arr.dtype.kind == "b":
        raise TypeError(f"times must be real numbers, got dtype {arr.dtype}")
    t = np.asarray(arr, dtype=np.float64)
    if t.ndim == 1:
        if t.shape[0] != y.shape[1]:
            raise ValueError(f"times must have one entry per sample of {name}: {y.shape[1]} along axis "
                             f"{axis}, got {t.shape[0]}")
        t = np.broadcast_to(t, y.shape)
    else:
        moved = np.moveaxis(t, axis, -1) if t.ndim == len(batch) + 1 else t
        if moved.shape != batch + (y.shape[1],):
            raise ValueError(f"times must have the shape of {name} ({tuple(np.shape(x))}) or be 1-D with "
                             f"{y.shape[1]} entries, got shape {t.shape}")
        t = moved.reshape(y.shape)
    if np.isinf(t).any():
        raise ValueError("times must be finite: infinite times found")
    nan_t = np.isnan(t)
    if nan_t.any():
        # NaN-padding: a trailing run of NaN times per row, with NaN values
        trailing = np.flip(np.logical_and.accumulate(np.flip(nan_t, axis=1), axis=1), axis=1)
        if (nan_t & ~trailing).any():
            raise ValueError("times must be finite; NaN is allowed only as padding at the end of a row "
                             "(a ragged batch), not between times")
        if np.isfinite(y[nan_t]).any():
            raise ValueError(f"times: a NaN time (padding) must come with a NaN value of {name}")
    keep = np.isfinite(y) & ~nan_t
    tk = np.where(keep, t, np.inf)
    order = np.argsort(tk, axis=1, kind="stable")
    ts = np.ascontiguousarray(np.take_along_axis(tk, order, axis=1))
    vs = np.ascontiguousarray(np.where(keep, y, 0.0)[np.arange(y.shape[0])[:, None], order])
    m = keep.sum(axis=1).astype(np.int64)
    return ts, vs, m, batch


GRID_TOL = 1e-3  # intervals within this fraction of a multiple of the shortest lie on its grid


def check_lag_step(lag_step, t, m):
    """``lag_step``, > 0 and finite; None: the sampling interval, the median
    interval between successive distinct sample times of every series
    pooled, except for times on a grid with gaps (every interval a whole
    multiple of the shortest, within ``GRID_TOL``: a regular series with
    samples left out), whose step is the shortest interval."""
    if lag_step is not None:
        return check_positive(lag_step, "lag_step")
    return sampling_step(t, m)[0]


def sampling_step(t, m):
    """(step, grid): :func:`check_lag_step`'s default, and whether the times
    lie on a grid (with gaps)."""
    gaps = [np.diff(t[b, :m[b]]) for b in range(t.shape[0])]
    gaps = np.concatenate(gaps) if gaps else np.empty(0)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        raise ValueError("times: at least two distinct sample times (with values present) are needed to "
                         "set lag_step, the median sampling interval")
    shortest = gaps.min()
    ratio = gaps / shortest
    if np.all(np.abs(ratio - np.rint(ratio)) <= GRID_TOL * np.maximum(ratio, 1.0)):
        return float(shortest), True
    return float(np.median(gaps)), False


MIN_PAIRS = 30  # the pairs a lag should hold on average, at the least, for the detector's default lag step


def clock_step(t, m):
    """The sampling step of irregular rows (``t`` sorted, present first,
    ``m`` of them): a grid's step for times on a grid (with gaps);
    otherwise the step of the clock the times keep to, the spans over the
    number of clock steps they hold (each interval counted as its multiple
    of the median interval, at least one).  For times jittered about a
    grid this is the grid's step to within the jitter / m, where the median
    interval itself errs by about jitter / sqrt(m) (3% for 80 samples
    jittered by 0.3 step): an integer season (4 quarters, 12 months), read
    off the lags k * step, would come back off by that much; for times at
    random it stays near the median interval (a tenth finer)."""
    step, grid = sampling_step(t, m)
    if grid:
        return step
    total = count = 0.0
    for b in range(t.shape[0]):
        gaps = np.diff(t[b, :m[b]])
        gaps = gaps[gaps > 0]
        total += float(gaps.sum())
        count += float(np.maximum(1.0, np.rint(gaps / step)).sum())
    return total / count


def detector_lag_step(t, m):
    """The period detector's default lag step for irregular rows: the
    sampling step (:func:`clock_step`), widened where the series are too
    sparse for it, so that a lag holds ``MIN_PAIRS`` pairs on average (of
    the m^2 3/8 pairs within half the span, over the lags there): a few
    clusters of samples spread over a long span (bursty sampling) would
    leave most lags a handful of pairs, each lag's r noise.  Times on a
    grid keep the grid's step.  One rule for the whole batch (in memory and
    in ``sigcorr.dask``, which reads it off every series up front)."""
    step = clock_step(t, m)
    if sampling_step(t, m)[1]:
        return step
    last = t[np.arange(t.shape[0]), np.maximum(m - 1, 0)]
    span = np.where(m > 1, last - t[:, 0], 0.0)
    ok = m > 1
    if not ok.any():
        return step
    per_lag = (0.375 * m[ok].astype(np.float64) ** 2) / np.maximum(span[ok] / (2.0 * step), 1.0)
    return step * max(1.0, MIN_PAIRS / float(np.median(per_lag)))


def check_kernel(kernel):
    """``kernel``: 'gaussian' or 'slotted'."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be 'gaussian' or 'slotted', got {kernel!r}")
    return kernel


# ---------------------------------------------------------------------------
# pandas input (no pandas import: only objects the caller built with it)
# ---------------------------------------------------------------------------


def is_pandas(x):
    """Whether ``x`` is a pandas Series or DataFrame (read off its type's
    module: sigcorr never imports pandas itself)."""
    return type(x).__module__.startswith("pandas") and type(x).__name__ in ("Series", "DataFrame")


def pandas_time_axis(x, axis) -> None:
    """A pandas object's time runs along its index (a DataFrame's rows, each
    column a series, as statsmodels' acf reads a one-column DataFrame):
    ``axis`` may be left at -1 or name that axis, 0."""
    if check_int(axis, "axis") not in (-1, 0):
        raise ValueError(f"axis: a pandas {type(x).__name__}'s time axis is its index (axis 0, each column a series), "
                         f"got axis={axis}")


def pandas_rows(x, axis, name):
    """A pandas Series (or one-column DataFrame) as its 1-D values, a
    DataFrame as (columns, rows): time last, as :func:`from_pandas` reads
    them; anything else as given."""
    if not is_pandas(x):
        return x
    pandas_time_axis(x, axis)
    return from_pandas(x, None, name)[0]


def from_pandas(x, times, name="x"):
    """``(values, seconds, step)`` of a pandas Series (one series) or
    DataFrame (a batch of its columns; one column: its Series): the values
    as float64 (rows = series), and for a DatetimeIndex the sample times in
    seconds from the first and the sampling step in seconds (the median
    interval, or a grid's step: :func:`check_lag_step`); ``seconds`` and
    ``step`` None for another index.  A timezone mix is refused."""
    if times is not None:
        raise ValueError(f"times: a pandas {type(x).__name__} brings its own times (its index); pass its values "
                         f"to give times")
    if type(x).__name__ == "DataFrame":
        values = np.asarray(x.to_numpy(dtype=np.float64, na_value=np.nan)).T
        if values.shape[0] == 1:
            values = values[0]
    else:
        values = np.asarray(x.to_numpy(dtype=np.float64, na_value=np.nan))
    idx = x.index
    if type(idx).__name__ != "DatetimeIndex":
        if idx.dtype == object and len(idx) and all(hasattr(v, "tzinfo") for v in idx[:1000]):
            zones = {str(getattr(v, "tzinfo", None)) for v in idx}
            if len(zones) > 1:
                raise ValueError(f"{name}: its index mixes time zones ({', '.join(sorted(zones))}); convert it to one "
                                 f"(e.g. .tz_convert('UTC')) first")
        return values, None, None
    if len(idx) == 0:
        return values, None, None
    if bool(np.asarray(idx.isna()).any()):
        raise ValueError(f"{name}: its DatetimeIndex has missing times (NaT)")
    ticks = np.asarray(idx.asi8, dtype=np.int64)  # (UTC for a zone-aware index), in the index's unit
    per_second = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[getattr(idx, "unit", "ns")]
    seconds = (ticks - ticks.min()).astype(np.float64) / per_second
    return values, seconds, None
