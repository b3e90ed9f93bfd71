"""Autocorrelation and period detection, batched over any number of series.

``autocorrelation`` equals statsmodels' ``acf`` (both ``adjusted`` settings,
NaN as ``missing="conservative"``), and with ``demean=False,
normalize=False`` the lags 0..max_lag of ``scipy.signal.correlate(x, x)``.
Large batches run through sigcorr's own FFT kernel, vectorized across
series (``_kernels.acf_fft``: 32 series per task, demeaning, transforms and
normalization in one pass); smaller ones as zero-padded real FFTs
(scipy.fft, all cores), one long series with few lags as block FFTs, and
few lags as a parallel direct sum, whichever a cost model says is cheaper.

``detect_period`` works on the autocorrelation of a cleaned series: a
straight-line trend is removed and sparse spikes (beyond 6 residual RMS) are
treated as missing samples; the period is the shortest autocorrelation peak,
among the lags the series repeats at, whose multiples support it about as
well as the best one's do, refined to a
fraction of a sample by parabolas through the peaks at its multiples (an
integer lag whose multiples peak exactly at integer multiples stays exact).
A series left without a period whose residual is smooth (a bending trend)
is searched again on its first differences; one missing samples that is
still without, once more with its gaps bridged by straight lines (periods
seen at least four times).  ``detect_periods`` goes on
down the same ranking and keeps the peaks that are cycles of their own,
not multiples or harmonics of the cycles kept.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import _costs, _lagsums, _twins, _validate
from ._kernels import detect as _kdetect
from ._runtime import serialized_if_needed, run

__all__ = ["autocorrelation", "detect_period", "detect_periods", "PeriodResult", "Periods"]

# a peak must exceed LEVEL / sqrt(n) (and 0.1) to be a period: 2.5 standard
# errors of white noise's autocorrelation (1 / sqrt(n)); the humps of trends
# and random walks that pass it are rejected by the repeat test (_kernels.detect._repeats)
_LEVEL = 2.5
_CANDIDATES = 5  # cycles a single series reports in PeriodResult.candidates (a batch: the period alone)
_SMOOTH = 0.5  # lag-1 autocorrelation of the residual above which a series without period is tried differenced



@serialized_if_needed
def autocorrelation(x, max_lag=None, *, demean=True, normalize=True, adjusted=False, axis=-1, method="auto",
                    times=None, lag_step=None, kernel="gaussian"):
    """Autocorrelation of one or many series, for lags 0..max_lag.

    Parameters
    ----------
    x : array_like, pandas Series or DataFrame
        Series along ``axis``; every other axis is a batch of series.  A
        pandas Series, or a one-column DataFrame, is one series along its
        index, as statsmodels' ``acf`` reads it (1-D result); a DataFrame's
        columns are a batch of series, (columns, max_lag + 1); an irregular
        DatetimeIndex gives the sample times (``times=``, in seconds).
        ``axis`` may only name the index (0).
    max_lag : int, optional
        Last lag, in [0, n - 1]; default n - 1 (every lag; statsmodels'
        default is about 10 log10(n), pass it explicitly to compare).
    demean : bool
        Subtract each series' mean first.
    normalize : bool
        Divide by the lag-0 value, so lag 0 is 1 (a series that is all zero
        after demeaning gives 0 at every lag).
    adjusted : bool
        Divide the sum at lag k by the number of products in it, n - k,
        instead of n (statsmodels' ``adjusted=True``); without ``normalize``
        the sums are scaled by n / (n - k).
    axis : int
        The time axis.
    method : {'auto', 'direct', 'fft'}
        'fft': zero-padded FFTs (sigcorr's series-vectorized kernel for
        large batches, scipy.fft otherwise, blocks for a single long
        series); 'direct': the lag sums in a parallel Numba kernel; 'auto':
        the cheaper by a cost model.
    times : array_like, optional
        Irregular sample times: ``x``'s shape, or 1-D (the same times for
        every series); numpy datetime64 times are read in seconds from the
        earliest (lags and periods then in seconds).  The autocorrelation is then a kernel estimator at
        lags ``k * lag_step``, k = 0..max_lag (``max_lag`` in lag steps;
        default: every lag step the longest series spans).  Unsorted times
        are sorted together with their values; a NaN value is a missing
        sample; a NaN time is padding, allowed only at the end of a row (a
        ragged batch, NaN-padded) and with a NaN value.  ``adjusted`` does
        not apply (each lag is normalized by its own pairs) and
        ``normalize=False`` is refused.
    lag_step : float, optional
        With ``times``: the lag spacing, in the units of ``times``; default
        the median interval between successive sample times.
    kernel : {'gaussian', 'slotted'}
        With ``times``: how pairs count at a lag.  'gaussian' (Rehfeld et
        al. 2011): a pair whose time difference is d weighs
        exp(-(d - k lag_step)^2 / (2 h^2)) at lag k, h = lag_step / 4;
        'slotted' (Edelson & Krolik 1988): a pair counts (weight 1) at the
        lag nearest to d.  Each lag is divided by the weighted energies of
        its pairs' two samples, so |r| <= 1.  O(n * pairs within the lag
        range): times are sorted and each sample meets only those within
        ``max_lag * lag_step`` after it.

    Returns
    -------
    ndarray, float64
        Lags 0..max_lag along ``axis``.  With the defaults it equals
        ``statsmodels.tsa.stattools.acf(x, nlags=max_lag, adjusted=adjusted)``;
        with ``demean=False, normalize=False`` it equals
        ``scipy.signal.correlate(x, x)[n - 1:n + max_lag]``.

    Notes
    -----
    NaN samples are missing data, as statsmodels' ``missing="conservative"``:
    the mean is taken over the present samples, missing ones contribute 0 to
    every sum, and with ``adjusted=True`` each lag is divided by the number of
    pairs present at that lag.  The result is finite, except for a series
    with no present sample at all, which gives NaN at every lag.

    Right on every input: the result does not depend on the data's scale
    (float64 from 1e-300 to 1e300): series whose largest magnitude lies
    outside a safe range are multiplied by a power of two first (exact;
    ordinary data are untouched), and with ``normalize=False`` the sums are
    scaled back, so they are the true sums (inf where those overflow
    float64).  numpy masked arrays: the masked values are missing samples,
    as NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> t = np.arange(200)
    >>> r = sigcorr.autocorrelation(np.sin(2 * np.pi * t / 20), max_lag=40)
    >>> int(np.argmax(r[5:])) + 5
    20
    >>> sigcorr.autocorrelation(np.ones((3, 50)), 4).shape  # three series
    (3, 5)
    >>> import pandas as pd
    >>> df = pd.DataFrame({"load": np.sin(2 * np.pi * t / 20)})
    >>> sigcorr.autocorrelation(df, 3).round(3)  # time along the rows, as statsmodels' acf(df)
    array([1.   , 0.951, 0.81 , 0.591])

    Irregular samples (``times=``): a cycle of 20 time units seen at 300
    random times; the lags are multiples of the median interval

    >>> rng = np.random.default_rng(0)
    >>> tt = np.sort(rng.uniform(0, 200, 300))
    >>> r = sigcorr.autocorrelation(np.sin(2 * np.pi * tt / 20), 60, times=tt, lag_step=0.5)
    >>> int(np.argmax(r[10:])) + 10  # lag 40 * 0.5 = 20
    40
    >>> bool(np.abs(r).max() <= 1.0)
    True
    """
    if _validate.is_pandas(x):
        return _pandas_acf(x, max_lag, demean, normalize, adjusted, axis, method, times, lag_step, kernel)
    if times is not None:
        return _irregular_acf(x, max_lag, times, lag_step, kernel, demean, normalize, axis)
    y, batch, axis = _validate.series_batch(x, axis)
    max_lag, method = _validate.acf_options(max_lag, y.shape[1], method, demean, normalize, adjusted)
    energy = np.empty(y.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):  # rows that overflow are computed again below
        out = _lagsums.acf(y, max_lag, demean, normalize, adjusted, method, energy)
    # the scale-free rule, read off the lag sums' own lag 0: the rows whose
    # energy lies outside float64's comfortable range (0, NaN or inf beyond
    # float64, subnormal squares) again, each scaled by its own power of two;
    # unnormalized sums scaled back (inf where the true value leaves float64)
    redo = np.flatnonzero(_validate.unsafe_energy(energy))
    if redo.size:
        ys, k = _validate.rows_scaled(y[redo], True)
        part = _lagsums.acf(ys, max_lag, demean, normalize, adjusted, method)
        out[redo] = part if normalize else _validate.unscale(part, k[:, None])
    out = out.reshape(batch + (max_lag + 1,))
    return np.moveaxis(out, -1, axis) if out.ndim > 1 else out


def _pandas_acf(x, max_lag, demean, normalize, adjusted, axis, method, times, lag_step, kernel):
    """autocorrelation of a pandas Series or DataFrame: time along the index
    (a one-column DataFrame is its Series, as statsmodels' acf reads it; a
    DataFrame's columns are a batch, (columns, max_lag + 1)); an irregular
    DatetimeIndex is its sample times in seconds."""
    _validate.pandas_time_axis(x, axis)
    values, seconds, _ = _validate.from_pandas(x, times)
    gaps = np.diff(seconds) if seconds is not None else None
    if gaps is None or lag_step is None and gaps.size and np.all(gaps == gaps[0]) and gaps[0] > 0:
        out = autocorrelation(values, max_lag, demean=demean, normalize=normalize, adjusted=adjusted, method=method)
    else:
        out = autocorrelation(values, max_lag, demean=demean, normalize=normalize, times=seconds, lag_step=lag_step,
                              kernel=kernel)
    return out


def _irregular_acf(x, max_lag, times, lag_step, kernel, demean, normalize, axis):
    """autocorrelation(..., times=): the kernel estimator, batch shape kept."""
    t, v, m, batch = _validate.irregular_batch(x, times, axis)
    step = _validate.check_lag_step(lag_step, t, m)
    kernel = _validate.check_kernel(kernel)
    _validate.check_flag(demean, "demean")
    if not _validate.check_flag(normalize, "normalize"):
        raise ValueError("normalize=False does not apply with times=: the kernel autocorrelation is normalized")
    last = t[np.arange(t.shape[0]), np.maximum(m - 1, 0)]
    span = float(np.where(m > 1, last - t[:, 0], 0.0).max())
    every = int(np.floor(span / step + 1e-9))
    max_lag = every if max_lag is None else _validate.check_int(max_lag, "max_lag", minimum=0)
    r, _ = _lagsums.kernel_acf(t, v, m, step, max_lag, kernel, demean)
    out = r.reshape(batch + (max_lag + 1,))
    return np.moveaxis(out, -1, axis) if out.ndim > 1 else out


@dataclasses.dataclass(frozen=True)
class PeriodResult:
    """Result of :func:`detect_period`.

    Attributes
    ----------
    period : float or ndarray
        The period in units of 1/fs (samples when fs=1); NaN where the series
        shows no periodicity.
    strength : float or ndarray
        The normalized autocorrelation at that period, in [-1, 1] (NaN where
        there is no period).
    candidates : ndarray (k, 2) or None
        For a single series: (period, strength) of the distinct cycles found
        (up to 5), the chosen period first, then the others by their score:
        the mean autocorrelation at a peak's first (up to 4) multiples, the
        score that chose the period.  Multiples and harmonics of a listed
        cycle are not listed (see :func:`detect_periods`).
    support : float or ndarray
        The pairs of samples behind the period: how many products
        x[t] x[t + k] the autocorrelation at its lag k (rounded, in
        samples) was read from, n - k for a complete series, fewer where
        samples are missing (NaN where there is no period).
    period_seconds : float or ndarray or None
        For a pandas Series or DataFrame with a DatetimeIndex: the period in
        seconds (``period`` is then in samples of the sampling step, the
        median interval); None otherwise.
    timedelta : pandas.Timedelta or ndarray of numpy.timedelta64 or None
        The same period as a time span (NaT where there is no period).
    """

    period: float | np.ndarray
    strength: float | np.ndarray
    candidates: np.ndarray | None = None
    support: float | np.ndarray | None = None
    period_seconds: float | np.ndarray | None = None
    timedelta: object = None


@dataclasses.dataclass(frozen=True)
class Periods:
    """Result of :func:`detect_periods`.

    Attributes
    ----------
    periods : ndarray (..., max_periods)
        The cycles of each series in units of 1/fs, strongest first (the
        first is :func:`detect_period`'s period), NaN-padded.
    strengths : ndarray (..., max_periods)
        The normalized autocorrelation at each of them (NaN where padded).
    periods_seconds : ndarray (..., max_periods) or None
        For a pandas Series or DataFrame with a DatetimeIndex: the cycles in
        seconds (``periods`` then in samples of the sampling step).
    """

    periods: np.ndarray
    strengths: np.ndarray
    periods_seconds: np.ndarray | None = None


def _detect_irregular(x, times, lag_step, kernel, max_periods, min_period, max_period, fs, axis):
    """:func:`_detect` of irregular samples: periods in the units of ``times``."""
    t, v, m, batch = _validate.irregular_batch(x, times, axis)
    step = _validate.check_lag_step(lag_step, t, m) if lag_step is not None else _validate.detector_lag_step(t, m)
    kernel = _validate.check_kernel(kernel)
    if _validate.check_positive(fs, "fs") != 1.0:
        raise ValueError(f"fs does not apply with times= (periods come in the units of times), got fs={fs}")
    last = t[np.arange(t.shape[0]), np.maximum(m - 1, 0)]
    span = float(np.where(m > 1, last - t[:, 0], 0.0).max())
    n = int(np.floor(span / step + 1e-9)) + 1  # the lag steps the longest series spans
    pmin, pmax, _ = _validate.period_range(n, 2.0 * step if min_period is None else min_period, max_period,
                                           1.0 / step, "lag steps (times / lag_step)")
    n_cycles = _validate.check_max_periods(max_periods, pmin, pmax)
    K = int(min(n - 2, math.ceil(pmax) + 2))
    S, nvalid, npairs, W = _lagsums.irregular_detect_sums(t, v, m, step, K, kernel, _LEVEL)
    periods, strengths = _detect_spans(S, nvalid, npairs, pmin, pmax, n_cycles)
    support = _lagsums.support_at(W, periods[:, 0])
    # no period, and a residual that is smooth from step to step (a bending
    # trend): searched again on the differences of successive samples a
    # lag step apart, at their midpoints, as the regular detector does
    smooth = np.flatnonzero(np.isnan(periods[:, 0]) & (S[:, 1] > _SMOOTH * S[:, 0]) & (m > 3))
    if smooth.size:
        td, vd, md = _lagsums.successive_differences(t[smooth], v[smooth], m[smooth], step)
        S2, nv2, np2, W2 = _lagsums.irregular_detect_sums(td, vd, md, step, K, kernel, _LEVEL)
        p2, s2 = _detect_spans(S2, nv2, np2, pmin, pmax, n_cycles)
        periods[smooth], strengths[smooth] = p2, s2
        support[smooth] = _lagsums.support_at(W2, p2[:, 0])
    # still no period: the samples bridged by straight lines, read on the
    # lag-step grid, and searched as a complete series (as the regular
    # detector's last search of a row missing samples)
    left = np.flatnonzero(np.isnan(periods[:, 0]) & (m >= _lagsums.BRIDGE_MIN))
    spans = np.floor((last - t[:, 0]) / step + 1e-9).astype(np.int64) + 1
    for nb in np.unique(spans[left]):
        rows = left[spans[left] == nb]
        hi = min(pmax, nb / _lagsums.BRIDGE_CYCLES)
        if hi < pmin:
            continue
        grid = t[rows, :1] + step * np.arange(nb)[None, :]
        p3, s3 = np.empty((rows.size, n_cycles)), np.empty((rows.size, n_cycles))
        _lagsums.detect_rows(_lagsums.bridged(v[rows], t[rows], grid), int(min(nb - 2, math.ceil(hi) + 2)), pmin, hi,
                             _LEVEL, _SMOOTH, p3, s3, np.empty(rows.size))
        periods[rows], strengths[rows] = p3, s3
        support[rows] = _lagsums.support_at(W[rows], p3[:, 0])
    return periods * step, strengths, support, batch


def _detect_spans(S, nvalid, npairs, pmin, pmax, n_cycles):
    """detect over rows of irregular lag sums, each series searched over its
    own range, as alone (a ragged batch's rows span different lengths):
    the rows of one span at a time; a row too short for two cycles: NaN."""
    B = S.shape[0]
    periods = np.full((B, n_cycles), np.nan)
    strengths = np.full((B, n_cycles), np.nan)
    for nb in np.unique(nvalid):
        rows = np.flatnonzero(nvalid == nb)
        hi = min(pmax, nb / 2.0)
        if hi < pmin:
            continue
        Kb = int(min(nb - 2, math.ceil(hi) + 2, S.shape[1] - 1))
        p, s = np.empty((rows.size, n_cycles)), np.empty((rows.size, n_cycles))
        run(_kdetect.detect, _twins.detect, np.ascontiguousarray(S[rows, :Kb + 1]), float(pmin), float(hi),
            nvalid[rows], npairs[rows], _LEVEL, p, s)
        periods[rows], strengths[rows] = p, s
    return periods, strengths


def _detect(x, max_periods, min_period, max_period, fs, axis, times=None, lag_step=None, kernel="gaussian"):
    """(periods, strengths) (B, n_cycles) in 1/fs units, the support (B,)
    of the first period (pairs at its lag), and the batch shape; n_cycles
    is ``max_periods`` clamped to the most the range can hold."""
    if times is not None:
        return _detect_irregular(x, times, lag_step, kernel, max_periods, min_period, max_period, fs, axis)
    if min_period is None:
        min_period = 2.0
    y, batch, axis = _validate.series_batch(x, axis)
    B, n = y.shape
    pmin, pmax, fs = _validate.period_range(n, min_period, max_period, fs)
    n_cycles = _validate.check_max_periods(max_periods, pmin, pmax)
    L = int(min(n - 2, math.ceil(pmax) + 2))
    periods = np.empty((B, n_cycles))
    strengths = np.empty((B, n_cycles))
    support = np.empty(B)
    # in chunks of series, so the residuals and lag sums stay cache- and
    # heap-sized (large fresh arrays are page-faulted in on every call)
    step = max(1, _costs.get().acf_chunk_points // n)
    for i in range(0, B, step):
        j = min(B, i + step)
        _lagsums.detect_rows(y[i:j], L, pmin, pmax, _LEVEL, _SMOOTH, periods[i:j], strengths[i:j], support[i:j])
    periods /= fs
    return periods, strengths, support, batch


def _on_pandas(func, x, times, min_period, max_period, fs, lag_step, kernel, **kw):
    """``func`` (detect_period or detect_periods) of a pandas Series /
    DataFrame: on its timestamps when it has a DatetimeIndex (as a regular
    series when they are evenly spaced), periods in samples of the sampling
    step; returns (result, step in seconds or None)."""
    values, seconds, _ = _validate.from_pandas(x, times)
    if seconds is None:
        return func(values, min_period=min_period, max_period=max_period, fs=fs, lag_step=lag_step, kernel=kernel,
                    **kw), None
    if fs != 1.0:
        raise ValueError(f"fs does not apply to a pandas series with a DatetimeIndex (its times set the step), got {fs}")
    t, _, m, _ = _validate.irregular_batch(values, seconds, -1)
    step = _validate.check_lag_step(lag_step, t, m)
    gaps = np.diff(seconds)
    regular = lag_step is None and gaps.size > 0 and np.all(gaps == gaps[0]) and gaps[0] > 0
    rng = {"min_period": None if min_period is None else min_period / step,
           "max_period": None if max_period is None else max_period / step}
    if regular:  # evenly spaced timestamps: the regular-grid detector, NaN values missing
        return func(values, **rng, **kw), step
    return func(values, times=seconds / step, lag_step=1.0, kernel=kernel, **rng, **kw), step


def _spans(seconds):
    """Seconds as numpy timedelta64[ns] (NaT where NaN)."""
    sec = np.asarray(seconds, dtype=np.float64)
    ns = np.where(np.isfinite(sec), np.rint(np.nan_to_num(sec) * 1e9), 0).astype(np.int64).view("timedelta64[ns]")
    return np.where(np.isfinite(sec), ns, np.timedelta64("NaT", "ns"))


def _detect_pandas(x, times, min_period, max_period, fs, lag_step, kernel):
    """detect_period of a pandas object: the period also in seconds and as a span."""
    res, step = _on_pandas(detect_period, x, times, min_period, max_period, fs, lag_step, kernel)
    if step is None:
        return res
    sec = np.asarray(res.period) * step
    if np.ndim(sec) == 0:
        import pandas as pd  # (x is a pandas object: pandas is there)

        return dataclasses.replace(res, period_seconds=float(sec), timedelta=pd.Timedelta(_spans(sec)[()]))
    return dataclasses.replace(res, period_seconds=sec, timedelta=_spans(sec))


@serialized_if_needed
def detect_period(x, *, min_period=None, max_period=None, fs=1.0, axis=-1, times=None, lag_step=None,
                  kernel="gaussian"):
    """The dominant period of each series, from its autocorrelation.

    Parameters
    ----------
    x : array_like
        Series along ``axis``; every other axis is a batch (all series in
        parallel; a batched call gives exactly what one-at-a-time calls give).
    min_period, max_period : float
        The range searched, in units of 1/fs (like the result): default from
        ``min_period=2`` (2 samples at fs=1, 2 * fs samples in general; the
        search never goes below 2 samples) to half the series length, since
        two cycles must fit.  With ``times``: in the units of ``times``,
        from 2 lag steps by default.
    fs : float
        Sampling rate: periods are returned in units of 1/fs.
    axis : int
        The time axis.
    times, lag_step, kernel
        Irregular sample times, the lag spacing (default: the sampling
        step, the step of the clock the times keep to (the spans over the
        intervals counted in median intervals: the grid's step for times
        jittered about one, near the median interval for times at random),
        widened where the samples are too sparse for a
        lag to hold 30 pairs on average: a few bursts over a long span; a
        grid's step for times on a grid with gaps) and the kernel
        ('gaussian' or 'slotted'), as for
        :func:`autocorrelation`: the period is read from the kernel
        autocorrelation of the series' residual (straight-line trend in time
        and spikes removed) at lags ``k * lag_step``, by the same rules, and
        comes back in the units of ``times`` (``fs`` must stay 1).

    Returns
    -------
    PeriodResult
        ``period`` (NaN where no periodicity is found, e.g. white noise),
        ``strength``, and for a single series ``candidates``.

    Notes
    -----
    What real series have is handled: a linear trend is removed first;
    samples beyond 6 RMS of the residual (sparse spikes) and NaN samples are
    treated as missing; a fundamental weaker than its 2nd harmonic still wins
    over the half period, because a half period is not supported by the
    autocorrelation at its odd multiples; the period is refined to a
    fraction of a sample from the peaks at its multiples, except an integer
    lag whose multiples peak exactly at integer multiples (quarterly 4,
    monthly 12), which stays exact.  A period must repeat: the mean square
    difference x[t + p] - x[t] (from the autocorrelation) must be at most
    half its largest value over the lags p/2..p (a quarter below 6 cycles),
    which the long-lag humps of a detrended random walk or AR(1) do not
    meet; a curved trend's hump cannot hide the season behind it.  An exact
    integer season beats an exact divisor of it (3 or 6 months in 12) that
    the series repeats at less well.  Where no period is found and the
    residual is smooth from sample to sample (lag-1 autocorrelation above
    0.5: a trend that bends, quadratic or exponential), the series' first
    differences are searched instead, and ``strength`` is then their
    autocorrelation at the period (a random walk's differences are white
    noise: still no period).  A series missing samples (NaN, or irregular
    ``times``) that is still without a period is searched a last time with
    its gaps bridged by straight lines between the present samples (read
    on the lag-step grid with ``times``): half the samples missing at
    random leave too few neighbours for first differences, and a line
    across a gap carries the trend while the season's peaks stay at their
    lags.  That search considers periods seen at least four times (two or
    three bridged humps of a random walk repeat as well as a cycle would);
    ``strength`` is then the bridged series' autocorrelation at the period,
    ``support`` still the pairs of present samples.  ``candidates`` are the
    distinct cycles of :func:`detect_periods`.

    Short series: below 25 samples the significance level (2.5 / sqrt(n))
    is out of reach of the autocorrelation's peaks, so a period is also
    accepted where the series repeats at it cleanly (mean square difference
    at most a tenth of its largest over the half period before): six cycles
    of period 2, ``np.tile([1., 2.], 6)``, give 2.  A range that does not
    reach 2 samples (``max_period * fs < 2``) raises ValueError.

    Right on every input: periods and strengths do not depend on the data's
    scale (float64 from 1e-300 to 1e300; see :func:`autocorrelation`); a
    series with no present sample gives NaN; masked values of a numpy
    masked array are missing samples.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> t = np.arange(1000)
    >>> x = np.sin(2 * np.pi * t / 37.5) + 0.01 * t
    >>> res = sigcorr.detect_period(x)
    >>> round(float(res.period), 1)
    37.5
    >>> float(sigcorr.detect_period(np.random.default_rng(0).standard_normal(1000)).period)
    nan

    Irregular times: a 12-hour cycle seen at 600 random instants over 20 days
    (times in hours)

    >>> rng = np.random.default_rng(1)
    >>> hours = np.sort(rng.uniform(0, 480, 600))
    >>> y = np.sin(2 * np.pi * hours / 12) + 0.3 * rng.standard_normal(600)
    >>> round(float(sigcorr.detect_period(y, times=hours).period))
    12

    A pandas Series with a DatetimeIndex (regular or not) is detected on its
    timestamps (a DataFrame: each column; pandas is imported only then)

    >>> import pandas as pd
    >>> idx = pd.Timestamp("2024-01-01") + pd.to_timedelta(hours, unit="h")
    >>> res = sigcorr.detect_period(pd.Series(y, index=idx))
    >>> round(res.period_seconds / 3600), res.timedelta.round("h")
    (12, Timedelta('0 days 12:00:00'))
    """
    # candidates only for a single series: a batch asks for the period alone
    # (the search for further cycles stops at once)
    if _validate.is_pandas(x):
        return _detect_pandas(x, times, min_period, max_period, fs, lag_step, kernel)
    y_ndim = np.ndim(x)
    periods, strengths, support, batch = _detect(x, _CANDIDATES if y_ndim <= 1 else 1, min_period, max_period, fs,
                                                 axis, times, lag_step, kernel)
    if not batch:
        ok = np.isfinite(periods[0])
        cand = np.stack([periods[0][ok], strengths[0][ok]], axis=1)
        return PeriodResult(float(periods[0, 0]), float(strengths[0, 0]), cand, float(support[0]))
    return PeriodResult(periods[:, 0].reshape(batch), strengths[:, 0].reshape(batch), None, support.reshape(batch))


@serialized_if_needed
def detect_periods(x, *, max_periods=3, min_period=None, max_period=None, fs=1.0, axis=-1, times=None,
                   lag_step=None, kernel="gaussian"):
    """Every cycle of each series: a daily and a weekly one, say.

    Parameters
    ----------
    x : array_like
        Series along ``axis``; every other axis is a batch (all series in
        parallel; a batched call gives exactly what one-at-a-time calls give).
    max_periods : int
        How many cycles to report at most (>= 1); clamped to the most the
        search range can hold, one per integer lag from min_period to
        max_period (in samples), so a huge value costs nothing.
    min_period, max_period, fs, axis, times, lag_step, kernel
        As for :func:`detect_period`.

    Returns
    -------
    Periods
        ``periods`` and ``strengths`` of shape ``batch + (max_periods,)``
        (``max_periods`` as clamped),
        strongest first, NaN-padded.  The first is ``detect_period(x)``'s
        period and strength.

    Notes
    -----
    The autocorrelation peaks are ranked by the score that chooses
    :func:`detect_period`'s period (the mean autocorrelation at a peak's
    first, up to 4, multiples), the chosen period first.  Down that ranking a
    peak is a cycle of its own unless it is a multiple m P of a cycle P
    already kept (or of a shorter peak) that does not stand out of P's
    multiples (it must rise above the mean of the peaks at (m - 1) P and
    (m + 1) P by the significance level,
    2.5 / sqrt(n) and at least 0.1), or a divisor P / m of a kept cycle with
    m = 2 (a harmonic of the waveform) or with more than one in five of the
    peaks j P / m (j < m) not rising by that level above the autocorrelation
    half a cycle either side of them.  So daily plus weekly load sampled half-hourly gives 48 and
    336; a pure daily cycle gives 48 alone, never 96 or 144.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> t = np.arange(48 * 7 * 6)                      # six weeks, half-hourly
    >>> day = np.sin(2 * np.pi * t / 48)
    >>> week = (t % 336 < 96).astype(float)            # two busier days a week
    >>> res = sigcorr.detect_periods(day + week)
    >>> sorted(np.round(res.periods[:2]).tolist())
    [48.0, 336.0]
    >>> sigcorr.detect_periods(day).periods            # one cycle: the rest is NaN
    array([48., nan, nan])
    """
    if _validate.is_pandas(x):
        res, step = _on_pandas(detect_periods, x, times, min_period, max_period, fs, lag_step, kernel,
                               max_periods=max_periods)
        return res if step is None else dataclasses.replace(res, periods_seconds=res.periods * step)
    periods, strengths, _, batch = _detect(x, max_periods, min_period, max_period, fs, axis, times, lag_step, kernel)
    return Periods(periods.reshape(batch + periods.shape[-1:]), strengths.reshape(batch + periods.shape[-1:]))
