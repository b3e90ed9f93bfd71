"""Cross-correlation function and time-delay estimation, batched.

``crosscorrelation`` is statsmodels' ``ccf`` (demeaned, normalized, optionally
adjusted) for any number of pairs at once and for negative lags too, its lag
sums from ``correlate(..., lags=)``: only the lags asked for are computed.

``estimate_delay`` finds the lag of the cross-correlation's peak and refines
it to a fraction of a sample by band-limited (windowed sinc) interpolation of
the correlation around the peak; ``weighting="phat"`` whitens the
cross-spectrum first (GCC-PHAT, Knapp & Carter 1976), which keeps the peak
sharp under coloured noise and echoes.

Sign convention (statsmodels', kept): the value at lag k correlates
``x[t + k]`` with ``y[t]``, so a positive lag (and a positive delay) means
``x`` is a delayed copy of ``y``: ``x(t) = y(t - d)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _costs, _lagsums, _validate
from ._runtime import serialized_if_needed

__all__ = ["crosscorrelation", "estimate_delay", "DelayResult"]

_HALF = 8  # samples each side of the peak in the interpolating kernel
_STEPS = 32  # interpolant evaluations per sample around the peak
_GAP_LEVEL = 2.5  # standard errors a lag with fewer pairs than typical is shrunk by (as detect_period's)




@serialized_if_needed
def crosscorrelation(x, y, max_lag=None, *, demean=True, normalize=True, adjusted=False, two_sided=True, axis=-1):
    """Cross-correlation function of one or many pairs of series.

    Parameters
    ----------
    x, y : array_like, real, or pandas Series / DataFrame
        Series along ``axis``, of the same length n there; the other axes
        are batches of pairs and broadcast together.  pandas objects are
        read as :func:`sigcorr.autocorrelation` reads them: time along the
        index, a one-column DataFrame its Series, columns a batch.
    max_lag : int, optional
        Last lag, in [0, n - 1]; default n - 1.
    demean : bool
        Subtract each series' mean first.
    normalize : bool
        Divide by ``sqrt(sum x**2 * sum y**2)`` (after demeaning), so that
        the result is statsmodels' ``ccf`` (a correlation coefficient); a
        pair with a constant series gives 0.  Without it: the raw lag sums,
        ``scipy.signal.correlate(x, y)`` at those lags.
    adjusted : bool
        Scale the lag-k sum by n / (n - |k|), the number of products in it
        (statsmodels' ``adjusted=True``, its default; sigcorr's default is
        ``False``, as ``autocorrelation``'s).
    two_sided : bool
        Lags -max_lag..max_lag (default) or 0..max_lag.
    axis : int
        The time axis.

    Returns
    -------
    ndarray, float64
        The lags along ``axis`` (length 2 * max_lag + 1, or max_lag + 1).

    Notes
    -----
    Sign convention, the same as statsmodels': the value at lag k correlates
    ``x[t + k]`` with ``y[t]``, so ``crosscorrelation(x, y)`` at lags 0..L
    equals ``statsmodels.tsa.stattools.ccf(x, y, adjusted=adjusted,
    nlags=L + 1)``, and at lags 0, -1, ..., -L it equals ``ccf(y, x, ...)``.
    A peak at a positive lag d means ``x`` follows ``y`` by d samples
    (``x[t] ~ y[t - d]``).  It is also ``scipy.signal.correlate(x, y)``'s
    convention (see :func:`correlation_lags`).

    NaN samples are missing, as in :func:`autocorrelation` (statsmodels'
    ``missing="conservative"``): means over the present samples, missing
    samples add 0 to every sum, and with ``adjusted=True`` each lag is
    scaled by sqrt(present x * present y) / (pairs present at that lag).
    ``crosscorrelation(x, x)`` equals ``autocorrelation(x)`` at lags >= 0.
    A pair with a series that has no present sample gives NaN at every lag.

    Right on every input: the normalized result does not depend on either
    series' scale (float64 from 1e-300 to 1e300): a series outside a safe
    range is multiplied by a power of two first (exact; ordinary data are
    untouched), and with ``normalize=False`` the sums are scaled back to the
    true sums (inf where those overflow float64).  numpy masked arrays: the
    masked values are missing samples, as NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> y = np.random.default_rng(0).standard_normal(1000)
    >>> x = np.roll(y, 3)                       # x[t] = y[t - 3]
    >>> r = sigcorr.crosscorrelation(x, y, max_lag=5)
    >>> int(np.argmax(r)) - 5                   # the lag of the peak
    3
    >>> sigcorr.crosscorrelation(np.ones((4, 100)), y[:100], 10).shape  # 4 pairs
    (4, 21)
    """
    X, Y, batch, axis = _validate.pair_batch(x, y, axis)
    n = X.shape[1]
    L = _validate.check_max_lag(max_lag, n)
    flags = [_validate.check_flag(v, name) for v, name in
             ((demean, "demean"), (normalize, "normalize"), (adjusted, "adjusted"), (two_sided, "two_sided"))]
    demean, normalize, adjusted, two_sided = flags
    lo = -L if two_sided else 0
    with np.errstate(over="ignore", invalid="ignore"):  # rows that overflow are computed again
        out = _lagsums.xcorr(X, Y, lo, L, demean, normalize, adjusted)  # (normalized: scale-free there)
    if not normalize:
        # sums that overflowed into NaN (inf - inf) again, each series scaled,
        # then scaled back: the true sums, inf where they leave float64
        redo = np.flatnonzero(np.isnan(out).any(axis=1))
        if redo.size:
            (Xs, kx), (Ys, ky) = _validate.rows_scaled(X[redo], True), _validate.rows_scaled(Y[redo], True)
            part = _lagsums.xcorr(Xs, Ys, lo, L, demean, normalize, adjusted)
            out[redo] = _validate.unscale(part, (kx + ky)[:, None], power=1)
    out = out.reshape(batch + (out.shape[1],))
    return np.moveaxis(out, -1, axis) if out.ndim > 1 else out


@dataclasses.dataclass(frozen=True)
class DelayResult:
    """Result of :func:`estimate_delay`.

    Attributes
    ----------
    delay : float or ndarray
        The delay of ``x`` behind ``y`` in units of 1/fs (samples at fs=1),
        to a fraction of a sample: ``x(t) ~ y(t - delay)``.
    peak : float or ndarray
        The (interpolated) correlation at the delay: the normalized
        cross-correlation, in [-1, 1], or the GCC-PHAT value (1 for an exact
        delayed copy).
    confidence : float or ndarray
        The peak divided by the next-highest local maximum of the
        correlation over the lags searched (inf when no other positive peak
        exists): near 1, an ambiguous delay.
    """

    delay: float | np.ndarray
    peak: float | np.ndarray
    confidence: float | np.ndarray


def _kernel_matrix():
    """W[g, j]: the Hann-windowed sinc weight of sample j (offset -HALF..HALF
    from the peak) at the point tau_g in [-1, 1] (STEPS per sample)."""
    tau = np.arange(-_STEPS, _STEPS + 1) / _STEPS
    j = np.arange(-_HALF, _HALF + 1)
    u = tau[:, None] - j[None, :]
    win = np.where(np.abs(u) < _HALF + 1, 0.5 * (1 + np.cos(np.pi * u / (_HALF + 1))), 0.0)
    return tau, np.sinc(u) * win


_TAU, _W = _kernel_matrix()


def _interpolated_peaks(r):
    """Integer peak, sub-sample offset, interpolated peak value and the
    next-highest local maximum of each row of r (B, K)."""
    B, K = r.shape
    rows = np.arange(B)
    p = np.argmax(r, axis=1)
    idx = np.clip(p[:, None] + np.arange(-_HALF, _HALF + 1), 0, K - 1)
    vals = r[rows[:, None], idx]  # edge samples repeated past the lag window
    f = vals @ _W.T  # (B, 2 * STEPS + 1): the interpolant on a grid in [-1, 1]
    # at a window edge the peak may not move outwards
    f[p == 0, :_STEPS] = -np.inf
    f[p == K - 1, _STEPS + 1:] = -np.inf
    g = np.clip(np.argmax(f, axis=1), 1, 2 * _STEPS - 1)
    fm, f0, fp = f[rows, g - 1], f[rows, g], f[rows, g + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        curv = fm - 2 * f0 + fp
        d = np.where(np.isfinite(curv) & (curv < 0), 0.5 * (fm - fp) / curv, 0.0)
    d = np.clip(d, -0.5, 0.5)
    off = np.clip(_TAU[g] + d / _STEPS, -1.0, 1.0)
    off = np.where(K == 1, 0.0, off)
    with np.errstate(invalid="ignore"):
        top = np.maximum(np.where(d != 0, f0 - 0.25 * (fm - fp) * d, f0), r[rows, p])
    # next peak: the highest other local maximum (ends included)
    if K < 3:
        second = np.where(K == 2, r[:, -1 - p], -np.inf) if K == 2 else np.full(B, -np.inf)
        return p, off, top, second
    mid = r[:, 1:-1]
    local = mid >= r[:, :-2]
    local &= mid > r[:, 2:]
    cand = np.where(local, mid, -np.inf)
    inner = (p >= 1) & (p <= K - 2)
    cand[rows[inner], p[inner] - 1] = -np.inf
    second = cand.max(axis=1)
    first = np.where((r[:, 0] > r[:, 1]) & (p != 0), r[:, 0], -np.inf)
    last = np.where((r[:, -1] >= r[:, -2]) & (p != K - 1), r[:, -1], -np.inf)
    second = np.maximum(second, np.maximum(first, last))
    return p, off, top, second


@serialized_if_needed
def estimate_delay(x, y, *, fs=1.0, max_lag=None, weighting=None, axis=-1):
    """Delay of ``x`` behind ``y``, to a fraction of a sample, for one or many pairs.

    Parameters
    ----------
    x, y : array_like, real
        Series along ``axis``, of the same length n; the other axes are
        batches of pairs (all estimated at once).
    fs : float
        Sampling rate: the delay is returned in units of 1/fs.
    max_lag : int, optional
        Search lags -max_lag..max_lag (samples); default n - 1.  With 0 the
        only lag is 0: delay 0.0, its correlation as ``peak``, confidence
        inf (a constant series still gets NaN).
    weighting : {None, 'phat'}
        None: the peak of the normalized cross-correlation
        (:func:`crosscorrelation`); 'phat': GCC-PHAT, the cross-spectrum
        whitened to unit magnitude before the inverse transform, which
        sharpens the peak to a sinc and resists coloured noise and echoes.
        PHAT weights every frequency alike, so it suits broadband signals:
        where the signal has no power (a band-limited signal in white
        noise) it amplifies noise, and the plain peak is the better choice.
    axis : int
        The time axis.

    Returns
    -------
    DelayResult
        ``delay`` (x(t) ~ y(t - delay), positive when x comes later),
        ``peak``, ``confidence``; floats for one pair, arrays of the batch
        shape for many.  A pair with a constant series (its present
        samples all equal), or whose correlation is flat over the lags
        searched, gets a NaN delay and confidence; one with a series that
        has no present sample also a NaN peak.

    Notes
    -----
    The integer peak is refined by evaluating the band-limited (Hann-windowed
    sinc, 8 samples each side) interpolant of the correlation on a grid of
    1/32 sample around it and fitting a parabola to the best three grid
    points.  This is unbiased for band-limited signals, where a parabola
    through three samples of the correlation is biased by up to a tenth of a
    sample.  NaN samples are missing (as in :func:`crosscorrelation`); for
    a pair with missing samples the peak is searched on the
    cross-correlation with each lag normalized by the energies of the pairs
    present at that lag (|r| <= 1; which samples pair up changes from lag to
    lag, and normalized by the whole series the sums scatter with their
    count, pulling the peak by a fraction of a sample), a lag that gaps
    leave fewer pairs than typical shrunk toward 0 by the standard error
    they add; ``peak`` is that correlation's value.  GCC-PHAT demeans each series (over its present samples) as the plain
    cross-correlation does: a DC offset does not pull its peak to lag 0.

    Right on every input: the delay and peak do not depend on the data's
    scale (float64 from 1e-300 to 1e300, see :func:`crosscorrelation`);
    masked values of numpy masked arrays are missing samples.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> rng = np.random.default_rng(0)
    >>> spec = np.fft.rfft(rng.standard_normal(8192))
    >>> f = np.fft.rfftfreq(8192)
    >>> spec[f > 0.35] = 0                                           # band-limited
    >>> y = np.fft.irfft(spec)[:4096]
    >>> x = np.fft.irfft(spec * np.exp(-2j * np.pi * f * 12.3))[:4096]  # y delayed by 12.3 samples
    >>> res = sigcorr.estimate_delay(x, y, max_lag=50)
    >>> round(float(res.delay), 2), round(float(res.peak), 2)
    (12.3, 1.0)
    >>> round(float(sigcorr.estimate_delay(x, y, fs=1000.0, max_lag=50).delay), 5)  # seconds
    0.0123
    """
    X, Y, batch, axis = _validate.pair_batch(x, y, axis)
    n = X.shape[1]
    L = _validate.check_max_lag(max_lag, n)
    fs = _validate.check_positive(fs, "fs")
    if weighting is not None:
        weighting = _validate.check_choice(weighting, "weighting", ("phat",),
                                           f"weighting must be None or 'phat', got {weighting!r}")
    if weighting == "phat":
        X, Y, empty, const = _lagsums.phat_inputs(X, Y)
    B = X.shape[0]
    p, off, top, second = (np.empty(B, np.int64), np.empty(B), np.empty(B), np.empty(B))
    flat = np.empty(B, bool)
    # in chunks of pairs: each chunk's correlation is searched while in cache
    step = max(1, _costs.get().xcorr_chunk_points // (n + 2 * L))
    for i in range(0, B, step):
        j = min(B, i + step)
        if weighting == "phat":
            r = _lagsums.phat(X[i:j], Y[i:j], L)
        else:
            gappy = []
            with np.errstate(over="ignore", invalid="ignore"):  # (rows beyond float64: again, there)
                r = _lagsums.xcorr_chunk(X[i:j], Y[i:j], -L, L, True, True, False, gaps=gappy)
            # pairs with missing samples: each lag normalized by its own pairs
            if gappy:
                gappy = np.array(gappy, dtype=np.int64)
                r[gappy] = _lagsums.pair_xcorr(X[i:j][gappy], Y[i:j][gappy], L, _GAP_LEVEL)
        p[i:j], off[i:j], top[i:j], second[i:j] = _interpolated_peaks(r)
        # (with one lag, only a constant series' exact 0 is flat)
        flat[i:j] = (r.max(axis=1) == r.min(axis=1)) & ((L > 0) | (r[:, 0] == 0))
    delay = (p - L + off) / fs
    if weighting is None:
        top = np.clip(top, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = np.where(second > 0, top / np.where(second > 0, second, 1.0), np.inf)
    # a flat correlation or a constant series has no delay; a series with
    # no present sample no peak either
    if weighting == "phat":
        flat |= const
        top[empty] = np.nan
    else:  # a constant series correlates 0 (flat), one without samples NaN
        flat |= np.isnan(top)
    delay[flat] = np.nan
    conf[flat] = np.nan
    if not batch:
        return DelayResult(float(delay[0]), float(top[0]), float(conf[0]))
    return DelayResult(delay.reshape(batch), top.reshape(batch), conf.reshape(batch))
