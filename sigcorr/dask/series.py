"""``autocorrelation``, ``crosscorrelation``, ``detect_period`` and
``detect_periods`` on Dask arrays.

The series axes are blocks.  ``autocorrelation`` may also chunk the time
axis: every block adds its lag sums over its own samples against the next
``max_lag`` ones, and the blocks' sums are added, with the missing-data rule
of :mod:`sigcorr._lagsums` (NaN is missing, as in memory).  The others keep
the time axis in one chunk.
"""

from __future__ import annotations

import dask.array as da
import numpy as np

import sigcorr

from .. import _lagsums, _validate
from . import _blocks

__all__ = ["autocorrelation", "crosscorrelation", "detect_period", "detect_periods"]


def autocorrelation(x, max_lag=None, *, demean=True, normalize=True, adjusted=False, axis=-1, method="auto",
                    chunks=None):
    """:func:`sigcorr.autocorrelation` of chunked series; the time axis may
    be chunked too (each block's lag sums against the next ``max_lag``
    samples, added over the blocks).  NaN samples are missing.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(4).standard_normal(100_000)
    >>> r = sigcorr.dask.autocorrelation(x, 50, chunks=10_000)
    >>> bool(np.allclose(r.compute(), sigcorr.autocorrelation(x, 50)))
    True
    """
    xd = _blocks.as_dask(x, chunks, "x")
    _validate.check_nonempty(xd, "x")
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd.astype(np.float64), axis, -1)
    n = y.shape[-1]
    L, method = _validate.acf_options(max_lag, n, method, demean, normalize, adjusted)
    if len(y.chunks[-1]) == 1:  # whole series per block: the in-memory function, exactly
        out = y.map_blocks(_blocks.per_task(lambda b: sigcorr.autocorrelation(b, L, demean=demean, normalize=normalize,
                                                                              adjusted=adjusted, method=method)),
                           chunks=y.chunks[:-1] + ((L + 1,),), dtype=np.float64)
        return da.moveaxis(out, -1, axis)
    # the in-memory missing-data rule, on lazy arrays: present samples
    # demeaned, missing ones 0, pairs counted for ``adjusted``, 0 / 0 -> 0,
    # NaN for a series with none present
    z, ok, count = _lagsums.present(y, demean)
    S, K = _partial_lag_sums(z, L)  # (the scale-free rule: S times 4**K is the sums' value)
    if adjusted:
        pairs = _lagsums.pair_counts(_times4(*_partial_lag_sums(ok.astype(np.float64), L)))
        plain = n / (n - np.arange(L + 1.0))
        # (whether any sample is missing is known only on compute: both, chosen lazily)
        S = da.where(~ok.all(), S * (pairs[..., :1] / pairs), S * plain)
    if normalize:
        S = _lagsums.normalized(S, S[..., :1])
    else:
        S = _times4(S, K)
    S = _lagsums.no_samples(S, count)  # a series without a present sample: NaN
    return da.moveaxis(S, -1, axis)


def _partial_lag_sums(z, L):
    """sum_t z[..., t] z[..., t + k], k = 0..L, block by block along time:
    every block sums its own samples against themselves and the next L (its
    halo; L zeros past the end), and the blocks' sums are added.

    Scale-free in one pass: each block's rows are scaled by a power of two,
    2**-k, that brings their largest finite magnitude into [0.5, 1) before
    their products are formed (no overflow, no subnormal squares), and the
    blocks' sums are added at the largest k of the row, K.  Returns ``(S,
    K)``: the sums are ``S * 4**K`` (:func:`_times4`); a normalized result is
    S over its lag 0.  Powers of two are exact: ordinary data give the
    unscaled sums' bits."""
    lead = z.ndim - 1
    z = _blocks.fit(_blocks.pad(z, [(0, 0)] * lead + [(0, L)]), {lead: L})

    def block(b):
        own = b.shape[-1] - L  # every block carries exactly L samples after its own
        flat = b.reshape(-1, b.shape[-1])
        out = np.zeros((flat.shape[0], L + 2))
        if own > 0 and flat.shape[0] > 0:
            scaled, k = _validate.rows_scaled(flat, True)
            out[:, :L + 1] = sigcorr.correlate(scaled, np.ascontiguousarray(scaled[:, :own]), "valid", axes=-1)
            out[:, L + 1] = k
        return out.reshape(b.shape[:-1] + (1, L + 2))

    depth = {ax: 0 for ax in range(lead)}
    depth[lead] = (0, L)
    nb = len(z.chunks[-1])
    parts = da.map_overlap(_blocks.per_task(block), z, depth=depth, boundary="none", trim=False, new_axis=lead + 1,
                           chunks=z.chunks[:-1] + ((1,) * nb, (L + 2,)), dtype=np.float64,
                           meta=np.empty((0,) * (lead + 2)))
    k = parts[..., L + 1:]
    K = k.max(axis=lead)  # (..., 1)
    S = da.map_blocks(_at_common_scale, parts[..., :L + 1], k, K[..., None, :], dtype=np.float64).sum(axis=lead)
    return S, K


def _at_common_scale(s, k, K):
    """Blocks' sums ``s`` of rows scaled by 2**-k, brought to the scale 2**-K
    (K >= k): times 4**(k - K), exact (sums far below the largest only
    lose what float64 could not have held beside it)."""
    return np.ldexp(s, (2 * (k - K)).astype(np.int64))


def _times4(S, K):
    """Sums S of data scaled by 2**-K back in the data's units (inf where
    they leave float64, as the true value does)."""
    return da.map_blocks(lambda s, k: _validate.unscale(s, k.astype(np.int64)), S, K, dtype=np.float64)


def crosscorrelation(x, y, max_lag=None, *, demean=True, normalize=True, adjusted=False, two_sided=True, axis=-1,
                     chunks=None):
    """:func:`sigcorr.crosscorrelation` of chunked pairs of series (the pairs
    as blocks, the time axis in one chunk); x and y broadcast as in memory.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> rng = np.random.default_rng(14)
    >>> x, y = rng.standard_normal((2, 30, 400))
    >>> r = sigcorr.dask.crosscorrelation(x, y, 20, chunks=(8, 400))
    >>> bool(np.allclose(r.compute(), sigcorr.crosscorrelation(x, y, 20)))
    True
    """
    xd = _blocks.as_dask(x, chunks, "x")
    yd = _blocks.as_dask(y, None, "y")  # chunked like x once both are broadcast
    _validate.check_nonempty(xd, "x")
    _validate.check_nonempty(yd, "y")
    shape, axis = _validate.dask_pair_shapes(xd.shape, yd.shape, axis)
    # broadcast as the in-memory function does, then pair the blocks
    xd = da.broadcast_to(xd, shape).rechunk({axis: -1})
    yd = da.broadcast_to(yd, shape).rechunk(xd.chunks)
    kw = dict(demean=demean, normalize=normalize, adjusted=adjusted, two_sided=two_sided, axis=axis)
    probe = sigcorr.crosscorrelation(np.zeros(xd.shape[axis]), np.arange(xd.shape[axis], dtype=float),
                                    max_lag, **{**kw, "axis": -1})
    out_chunks = tuple((probe.shape[0],) if ax == axis else c for ax, c in enumerate(xd.chunks))
    return da.map_blocks(_blocks.per_task(lambda a, b: sigcorr.crosscorrelation(a, b, max_lag, **kw)), xd, yd,
                         chunks=out_chunks, dtype=np.float64)


def _irregular_plan(y, ndim, axis, times, lag_step, min_period, max_period):
    """detect_period(s)' irregular times over chunked rows ``y`` (time last,
    in one chunk): the checks, the lag step and the search range once, on
    the whole batch (what the in-memory call reads off it), and the times as
    a Dask array chunked like ``y``."""
    tt = times.compute() if hasattr(times, "compute") else np.asarray(times)
    values = np.where(da.isfinite(y).compute(), 0.0, np.nan)  # (which samples are present: the step reads them)
    moved = np.moveaxis(tt, axis, -1) if tt.ndim == ndim else tt
    t, _, m, _ = _validate.irregular_batch(values, moved, -1)  # (checks times against x)
    step = _validate.check_lag_step(lag_step, t, m) if lag_step is not None else _validate.detector_lag_step(t, m)
    last = t[np.arange(t.shape[0]), np.maximum(m - 1, 0)]
    span = float(np.where(m > 1, last - t[:, 0], 0.0).max())
    _validate.period_range(int(np.floor(span / step + 1e-9)) + 1, min_period, max_period, 1.0 / step,
                           "lag steps (times / lag_step)")  # errors now, not on compute
    return step, da.from_array(np.ascontiguousarray(np.broadcast_to(moved, y.shape)), chunks=y.chunks)


def detect_period(x, *, min_period=None, max_period=None, fs=1.0, axis=-1, chunks=None, times=None, lag_step=None,
                  kernel="gaussian"):
    """:func:`sigcorr.detect_period` of chunked series (the series axes as
    blocks, the time axis in one chunk).  Returns a :class:`sigcorr.PeriodResult`
    of lazy Dask arrays (``candidates`` None); a single series is computed
    right away.

    ``times`` (irregular samples, as in memory): 1-D, the same times for
    every series, or the shape of ``x`` (a Dask array chunked like it, or
    NumPy), NaN-padded for ragged series; ``lag_step`` defaults to the
    in-memory detector's (the sampling step of every series' times, widened
    where they are sparse), computed once up front, so the blocks agree
    with the in-memory call.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> t = np.arange(500)
    >>> X = np.sin(2 * np.pi * t / 25.0) + 0.2 * np.random.default_rng(5).standard_normal((40, 500))
    >>> res = sigcorr.dask.detect_period(X, chunks=(10, 500))
    >>> bool(np.allclose(res.period.compute(), sigcorr.detect_period(X).period))
    True

    Irregular times, rows chunked along the batch

    >>> T = np.sort(np.random.default_rng(6).uniform(0, 500, (40, 400)), axis=1)
    >>> Y = np.sin(2 * np.pi * T / 25.0)
    >>> res = sigcorr.dask.detect_period(Y, times=T, chunks=(10, 400))
    >>> bool(np.allclose(res.period.compute(), sigcorr.detect_period(Y, times=T).period))
    True
    """
    xd = _blocks.as_dask(x, chunks, "x")
    kw = {"min_period": min_period, "max_period": max_period, "fs": fs}
    if times is not None:
        kw.update(kernel=_validate.check_kernel(kernel))
    if xd.ndim == 1:
        return sigcorr.detect_period(xd.compute(), times=None if times is None else np.asarray(times),
                                     lag_step=lag_step, **kw)
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd, axis, -1).rechunk({xd.ndim - 1: -1})
    if times is None:
        _validate.period_range(y.shape[-1], min_period, max_period, fs)  # errors now, not on compute

        def block(b):
            r = sigcorr.detect_period(b, **kw)
            return np.stack([np.asarray(r.period, dtype=np.float64), np.asarray(r.strength, dtype=np.float64),
                             np.asarray(r.support, dtype=np.float64)], axis=-1)

        three = y.map_blocks(_blocks.per_task(block), chunks=y.chunks[:-1] + ((3,),), dtype=np.float64)
        return sigcorr.PeriodResult(three[..., 0], three[..., 1], None, three[..., 2])
    step, td = _irregular_plan(y, xd.ndim, axis, times, lag_step, min_period, max_period)

    def block(b, tb):
        try:
            r = sigcorr.detect_period(b, times=tb, lag_step=step, **kw)
        except ValueError:  # every series of this block too short for two cycles (the batch is not): no period
            return np.full(b.shape[:-1] + (3,), np.nan)
        return np.stack([np.asarray(r.period, dtype=np.float64), np.asarray(r.strength, dtype=np.float64),
                         np.asarray(r.support, dtype=np.float64)], axis=-1)

    three = da.map_blocks(_blocks.per_task(block), y, td, chunks=y.chunks[:-1] + ((3,),), dtype=np.float64)
    return sigcorr.PeriodResult(three[..., 0], three[..., 1], None, three[..., 2])


def detect_periods(x, *, max_periods=3, min_period=None, max_period=None, fs=1.0, axis=-1, chunks=None, times=None,
                   lag_step=None, kernel="gaussian"):
    """:func:`sigcorr.detect_periods` of chunked series (the series axes as
    blocks, the time axis in one chunk).  Returns a :class:`sigcorr.Periods`
    of lazy Dask arrays of shape ``batch + (max_periods,)``; a single series
    is computed right away.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> t = np.arange(1000)
    >>> X = np.sin(2 * np.pi * t / 25.0) + 0.2 * np.random.default_rng(5).standard_normal((40, 1000))
    >>> res = sigcorr.dask.detect_periods(X, chunks=(10, 1000))
    >>> bool(np.array_equal(res.periods.compute(), sigcorr.detect_periods(X).periods, equal_nan=True))
    True

    ``times``, ``lag_step``, ``kernel``: irregular samples, as for
    :func:`detect_period`.
    """
    xd = _blocks.as_dask(x, chunks, "x")
    K = _validate.check_int(max_periods, "max_periods", minimum=1)
    kw = {"max_periods": K, "min_period": min_period, "max_period": max_period, "fs": fs}
    if times is not None:
        kw.update(kernel=_validate.check_kernel(kernel))
    if xd.ndim == 1:
        return sigcorr.detect_periods(xd.compute(), times=None if times is None else np.asarray(times),
                                      lag_step=lag_step, **kw)
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd, axis, -1).rechunk({xd.ndim - 1: -1})
    if times is None:
        _validate.period_range(y.shape[-1], min_period, max_period, fs)  # errors now, not on compute

        def block(b):
            r = sigcorr.detect_periods(b, **kw)
            return np.stack([r.periods, r.strengths], axis=-1)

        both = y.map_blocks(_blocks.per_task(block), chunks=y.chunks[:-1] + ((K,), (2,)), new_axis=y.ndim,
                            dtype=np.float64)
        return sigcorr.Periods(both[..., 0], both[..., 1])
    step, td = _irregular_plan(y, xd.ndim, axis, times, lag_step, min_period, max_period)

    def block_t(b, tb):
        out = np.full(b.shape[:-1] + (K, 2), np.nan)
        try:
            r = sigcorr.detect_periods(b, times=tb, lag_step=step, **kw)
        except ValueError:  # every series of this block too short for two cycles (the batch is not): no period
            return out
        k = r.periods.shape[-1]  # (max_periods clamped to the range, in memory)
        out[..., :k, 0], out[..., :k, 1] = r.periods, r.strengths
        return out

    both = da.map_blocks(_blocks.per_task(block_t), y, td, chunks=y.chunks[:-1] + ((K,), (2,)), new_axis=y.ndim,
                         dtype=np.float64)
    return sigcorr.Periods(both[..., 0], both[..., 1])
