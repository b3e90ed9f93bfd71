"""Lag sums, the one home of their rules: sums of products of a series
with itself (autocorrelation) or with another (cross-correlation) at a range
of lags, and the missing-data rule they share with ``sigcorr.dask``.

Missing data (NaN or inf samples, as statsmodels' ``missing="conservative"``):
each series is demeaned over its present samples (:func:`present`), missing
samples contribute 0 to every sum, ``adjusted`` divides each lag by the
number of pairs present there (:func:`pair_counts`), a zero norm
normalizes to 0, never to NaN (:func:`normalized`), and a series with no
present sample at all (all NaN, or all masked) gives NaN at every lag, not
0: nothing was measured (:func:`no_samples`).  These helpers use only
NumPy functions that Dask arrays dispatch, so ``sigcorr.dask`` applies the
same rule to chunked series.

Also here: GCC-PHAT's whitened correlation and the trend-free residual that
``detect_period`` reads periods from (``residual_acf``, for plots).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft

from . import _conv, _costs, _fft, _twins, _validate, _workspace
from ._kernels import acf as _kacf
from ._kernels import acf_fft as _kacf_fft
from ._kernels import detect as _kdetect
from ._kernels import irregular as _kirr
from ._kernels import lags as _klags
from ._runtime import output_array, run, threads

SPIKE = 6.0  # residual RMS beyond which a sample counts as a spike
PHAT_EPS = 1e-12  # spectrum magnitudes below this fraction of the largest are not amplified


def present(Z, demean):
    """(z, ok, count): rows of Z (..., n) with the missing (non-finite)
    samples 0 and, if ``demean``, the present ones minus their mean; the mask
    of present samples; their number per row, shape (..., 1).  NumPy or Dask."""
    ok = np.isfinite(Z)
    count = ok.sum(axis=-1, keepdims=True)
    if demean:
        Z = Z - np.where(ok, Z, 0.0).sum(axis=-1, keepdims=True) / np.maximum(count, 1)
    return np.where(ok, Z, 0.0), ok, count


def pair_counts(sums):
    """Lag sums of the present-sample masks: the number of pairs at each lag
    (rounded; at least 1, so an empty lag divides by 1)."""
    return np.maximum(np.rint(sums), 1.0)


def normalized(S, den):
    """S / den, with 0 where den is 0 (a series all zero after demeaning
    correlates 0 with everything, not NaN).  NumPy or Dask."""
    zero = den == 0
    return np.where(zero, 0.0, S / np.where(zero, 1.0, den))


def no_samples(S, *counts):
    """S (..., lags) with NaN on the rows where any of ``counts`` (..., 1),
    the present samples of the series summed, is 0.  NumPy or Dask."""
    empty = counts[0] == 0
    for c in counts[1:]:
        empty = empty | (c == 0)
    return np.where(empty, np.nan, S)


def degenerate_rows(X):
    """(empty, constant) flags of validated (B, n) rows: no present sample;
    present samples all equal (a constant series; empty ones too)."""
    hi, lo = X.max(axis=1), X.min(axis=1)
    if np.isfinite(hi).all() and np.isfinite(lo).all():
        return np.zeros(X.shape[0], bool), hi == lo
    ok = np.isfinite(X)
    hi = np.where(ok, X, -np.inf).max(axis=1)
    lo = np.where(ok, X, np.inf).min(axis=1)
    return ~ok.any(axis=1), ~(hi > lo)


def _lanes_fft(B, n, L):
    """Whether the batch suits the lane-vectorized FFT kernel: enough series
    to give every thread full tasks, and a work buffer that stays cache-sized."""
    c = _costs.get()
    return B >= c.acf_lanes_tasks_per_thread * _kacf_fft.LANES * threads() and n + L <= c.acf_lanes_max_n


def _lanes_plan(n, L):
    """acf_fft.plan with this machine's price of a tail multiply-add."""
    return _kacf_fft.plan(n, L, _costs.get().tail_mac)


def _use_blocks(B, n, L):
    """One long series and few lags: by blocks (:func:`_block_sums`)."""
    return B == 1 and n > _costs.get().acf_block_taps * (L + 1)


def plan(B, n, L, method):
    """How to compute the lag sums: 'direct', 'block' (one long series, few
    lags), 'lanes' (the lane-vectorized FFT kernel) or 'fft' (scipy.fft)."""
    N = sfft.next_fast_len(n + L, True)
    lanes = _lanes_fft(B, n, L)
    if method == "auto":
        c = _costs.get()
        direct = B * n * (L + 1) * c.acf_direct_ns / threads()
        if _use_blocks(B, n, L):
            M = _block_len(L)
            fft = 2 * (n / M + 1) * (M + L) * math.log2(M + L) * c.acf_fft_ns / threads()
        elif lanes:
            fft = (B / 2) * _lanes_plan(n, L)[3] * c.acf_lanes_ns / threads()
        else:
            fft = 2 * B * N * math.log2(N) * c.acf_fft_ns / (threads() if B > 1 else 1)
        method = "direct" if direct <= fft else "fft"
    if method == "direct":
        return "direct"
    if _use_blocks(B, n, L):
        return "block"
    return "lanes" if lanes else "fft"


def auto_sums(y, L, method, demean=False):
    """S[b, k] = sum_t z[b, t] z[b, t + k], k = 0..L, for y (B, n) float64,
    z = y minus its row means if ``demean`` else y."""
    B, n = y.shape
    N = sfft.next_fast_len(n + L, True)
    how = plan(B, n, L, method)
    if how == "lanes":
        out = output_array((B, L + 1))
        run(_kacf_fft.lag_sums_fft, _twins.lag_sums_fft, np.ascontiguousarray(y), L, bool(demean), False, False,
            out, np.empty(B), *_lanes_plan(n, L)[:3])
        return out
    if how in ("direct", "block"):
        if demean:
            y = y - y.mean(axis=1, keepdims=True)
        if how == "direct":
            return run(_kacf.acf_direct, _twins.acf_direct, np.ascontiguousarray(y), L, output_array((B, L + 1)))
        return _block_sums(y[0], L)[None, :]
    # batched, in chunks that stay in cache (and spare large temporaries)
    out = np.empty((B, L + 1))
    step = max(1, _costs.get().acf_chunk_points // N)
    for i in range(0, B, step):
        part = y[i:i + step]
        if demean:
            part = part - part.mean(axis=1, keepdims=True)
        spec = sfft.rfft(part, N, axis=-1, workers=threads())
        np.multiply(spec, spec.conj(), out=spec)
        out[i:i + step] = sfft.irfft(spec, N, axis=-1, workers=threads())[:, :L + 1]
    return out


def _block_len(L):
    c = _costs.get()
    return sfft.next_fast_len(max(c.acf_block_taps * (L + 1), c.acf_min_block), True) - L


def _block_sums(y, L):
    """Lag sums of one long series by blocks: sum over blocks of x_block * y_window."""
    n = y.size
    M = _block_len(L)
    N = sfft.next_fast_len(M + L, True)
    nb = -(-n // M)
    padded = np.zeros(nb * M + L)
    padded[:n] = y
    heads = padded[:nb * M].reshape(nb, M)
    spans = np.lib.stride_tricks.sliding_window_view(padded, M + L)[::M][:nb]
    fa = sfft.rfft(heads, N, axis=-1, workers=threads())
    fb = sfft.rfft(spans, N, axis=-1, workers=threads())
    total = (np.conj(fa) * fb).sum(axis=0)
    return sfft.irfft(total, N)[:L + 1]


def acf(y, L, demean, normalize, adjusted, method, energy=None):
    """Autocorrelation of validated (B, n) float64 series (NaN = missing);
    ``energy``, a (B,) array if given, receives each row's lag-0 sum before
    adjustment and normalization (the scale-free rule reads it)."""
    B, n = y.shape
    energy = np.empty(B) if energy is None else energy
    if plan(B, n, L, method) == "lanes":
        # one kernel: demean, lag sums, adjustment and normalization; it
        # counts the series with non-finite samples (then: the general path)
        out = output_array((B, L + 1))
        nbad = run(_kacf_fft.lag_sums_fft, _twins.lag_sums_fft, y, L, bool(demean), bool(adjusted),
                   bool(normalize), out, energy, *_lanes_plan(n, L)[:3])
        if nbad == 0:
            return out
    missing = not np.isfinite(y).all()
    if missing:
        z, ok, count = present(y, demean)
        S = auto_sums(np.ascontiguousarray(z), L, method)
    else:
        S = auto_sums(y, L, method, demean=demean)
    energy[:] = S[:, 0]
    if adjusted:
        if missing:
            pairs = pair_counts(auto_sums(np.ascontiguousarray(ok.astype(np.float64)), L, method))
            S = S * (pairs[:, :1] / pairs)
        else:
            S = S * (n / (n - np.arange(L + 1.0)))
    if normalize:
        S = normalized(S, S[:, :1])
    return no_samples(S, count) if missing else S


def cross_sums(X, Y, lo, hi):
    """S[b, k] = sum_t X[b, t + k] Y[b, t] for k = lo..hi (zero outside)."""
    return _conv.correlate_lags(np.ascontiguousarray(X), np.ascontiguousarray(Y), lo, hi)


def xcorr(X, Y, lo, hi, demean, normalize, adjusted):
    """Cross-correlation of validated (B, n) float64 pairs at lags lo..hi,
    in chunks of pairs (the demeaned copies of a large batch would otherwise
    be page-faulted in afresh on every call)."""
    B, n = X.shape
    step = max(1, _costs.get().xcorr_chunk_points // n)
    if B <= step:
        return xcorr_chunk(X, Y, lo, hi, demean, normalize, adjusted)
    out = output_array((B, hi - lo + 1))
    for i in range(0, B, step):
        out[i:i + step] = xcorr_chunk(X[i:i + step], Y[i:i + step], lo, hi, demean, normalize, adjusted)
    return out


def _centred(X, tag):
    """X's rows demeaned (in a work buffer), their means and sums of squares."""
    X = np.ascontiguousarray(X)
    B = X.shape[0]
    out, means, sumsq = _workspace.empty(tag, X.shape, np.float64), np.empty(B), np.empty(B)
    run(_klags.centre_rows, _twins.centre_rows, X, out, means, sumsq)
    return out, means, sumsq


def xcorr_chunk(X, Y, lo, hi, demean, normalize, adjusted, rescue=True, gaps=None):
    """:func:`xcorr` of one chunk of pairs.  Normalized, the pairs whose
    energies lie outside float64's comfortable range (the scale-free rule,
    :mod:`sigcorr._validate.scale`) are computed again with each series
    scaled by a power of two (``rescue``); a series whose demeaned energy is
    only the rounding of its mean is constant: it correlates 0.  ``gaps``:
    a list, which receives the indices of the pairs with a missing sample
    (read off the means the centring makes: no pass of its own)."""
    B, n = X.shape
    X0, Y0 = X, Y
    # a NaN or inf sample makes its row's mean non-finite: the means say
    # whether the missing-data path is needed
    norms = None
    if demean:
        Xc, mx, qx = _centred(X, "xcorr:x")
        Yc, my, qy = _centred(Y, "xcorr:y")
    else:
        mx, my = X.mean(axis=1), Y.mean(axis=1)
    missing = not (np.isfinite(mx).all() and np.isfinite(my).all())
    if gaps is not None and missing:
        # (a non-finite mean is a missing sample, or finite ones summing past float64)
        odd = np.flatnonzero(~(np.isfinite(mx) & np.isfinite(my)))
        gaps.extend(odd[~(np.isfinite(X[odd]).all(axis=1) & np.isfinite(Y[odd]).all(axis=1))].tolist())
    if missing:
        X, okx, cx = present(X, demean)
        Y, oky, cy = present(Y, demean)
    elif demean:
        X, Y, norms = Xc, Yc, qx * qy
    S = cross_sums(X, Y, lo, hi)
    lags = np.arange(lo, hi + 1)
    if adjusted:
        if missing:
            pairs = pair_counts(cross_sums(okx.astype(np.float64), oky.astype(np.float64), lo, hi))
            S = S * (np.sqrt(cx * cy.astype(np.float64)) / pairs)
        else:
            S = S * (n / (n - np.abs(lags)))
    if normalize:
        if norms is None:
            qx, qy = np.einsum("ij,ij->i", X, X), np.einsum("ij,ij->i", Y, Y)
        elif demean:
            qx = np.where(constant(qx, mx, n), 0.0, qx)
            qy = np.where(constant(qy, my, n), 0.0, qy)
        S = normalized(S, np.sqrt(qx * qy)[:, None])
        redo = np.flatnonzero(_validate.unsafe_energy(qx) | _validate.unsafe_energy(qy)) if rescue else ()
        if len(redo):
            S[redo] = xcorr_chunk(_validate.rows_scaled(X0[redo]), _validate.rows_scaled(Y0[redo]), lo, hi, demean,
                                  normalize, adjusted, rescue=False)
    return no_samples(S, cx, cy) if missing else S


def pair_xcorr(X, Y, L, level):
    """The cross-correlation at lags -L..L of validated (B, n) pairs with
    missing samples, each lag normalized by its own pairs (estimate_delay's
    peak search): r(k) = sum x[t + k] y[t] / sqrt(sum x[t + k]^2 sum y[t]^2)
    over the pairs present at k (each series demeaned over its present
    samples; |r| <= 1), a lag left fewer pairs than the typical count
    there, share_x share_y (n - |k|), shrunk toward 0 by ``level`` times the
    standard error the missing pairs add (as the period detector's lags,
    :func:`for_detector`).  Which samples pair up changes from lag to lag:
    normalized by the whole series' energies instead, the sums scatter with
    the pairs' count and pull the interpolated peak by a fraction of a
    sample (0.4 at 60% missing at random; 0.08 so).  Rows scaled by a power
    of two first (scale-free).  NaN for a pair with a series empty."""
    B, n = X.shape
    X = _validate.rows_scaled(X)
    Y = _validate.rows_scaled(Y)
    Xz, okx, cx = present(X, True)
    Yz, oky, cy = present(Y, True)
    mx, my = okx.astype(np.float64), oky.astype(np.float64)
    S = cross_sums(Xz, Yz, -L, L)
    e1 = np.maximum(cross_sums(Xz * Xz, my, -L, L), 0.0)
    e2 = np.maximum(cross_sums(mx, Yz * Yz, -L, L), 0.0)
    P = np.maximum(np.rint(cross_sums(mx, my, -L, L)), 0.0)
    den = np.sqrt(e1 * e2)
    ok = (P > 0) & (den > 0)
    r = np.clip(np.where(ok, S / np.where(ok, den, 1.0), 0.0), -1.0, 1.0)
    k = np.abs(np.arange(-L, L + 1.0))
    typical = np.maximum((cx / n) * (cy / n) * (n - k), 1.0)
    excess = level * np.maximum(0.0, 1.0 / np.sqrt(np.maximum(P, 1e-12)) - 1.0 / np.sqrt(typical))
    r = np.sign(r) * np.maximum(np.abs(r) - excess, 0.0)
    return no_samples(r, cx, cy)


def phat(X, Y, L):
    """GCC-PHAT at lags -L..L: the inverse transform of the cross-spectrum
    divided by its magnitude (zero-padded, so the lags are linear, not
    circular)."""
    n = X.shape[1]
    N = sfft.next_fast_len(n + L + 1, True)
    # the spectra and the magnitudes in sigcorr's work buffers
    G = _fft.rfft_rows(X, N, "phat:x")
    H = _fft.rfft_rows(Y, N, "phat:y")
    run(_klags.phat_whiten, _twins.phat_whiten, G, H, PHAT_EPS)
    r = sfft.irfft(G, N, axis=1, workers=threads())
    return np.concatenate([r[:, N - L:], r[:, :L + 1]], axis=1)


def constant(sumsq, means, n):
    """Which demeaned rows of n samples are constant: their spread (sum of
    squares ``sumsq``) no larger than the rounding of their mean's sum (n
    ulps of the mean), which is no signal."""
    return np.sqrt(sumsq) <= math.sqrt(n) * 2 * n * np.finfo(np.float64).eps * np.abs(means)  # (no square to overflow)


def centred_flagged(X, tag):
    """(centred rows, empty, constant, energy): each row's present samples
    minus their mean, 0 at the missing ones (centre_rows in one read when
    every sample is present, in the work buffer ``tag``); the flags of the
    rows without a present sample and of the constant ones; each centred
    row's sum of squares."""
    Xc, means, sumsq = _centred(X, tag)
    if np.isfinite(means).all():
        return Xc, np.zeros(X.shape[0], bool), constant(sumsq, means, X.shape[1]), sumsq
    empty, const = degenerate_rows(X)  # (missing samples: the rare path)
    z = present(X, True)[0]
    return z, empty, const, np.einsum("ij,ij->i", z, z)


def _phat_rows(X, tag):
    """One side of :func:`phat_inputs`: the centred rows, their empty and
    constant flags.  The scale-free rule, read off the energies: whitening
    squares the spectra's products (a fourth power of the data), so the
    rows beyond the square root of the safe range are centred again, scaled
    first."""
    Z, empty, const, energy = centred_flagged(X, tag)
    redo = np.flatnonzero(_validate.unsafe_energy(energy, power=2) & ~empty)
    if redo.size:
        Z[redo], _, const[redo], _ = centred_flagged(_validate.rows_scaled(X[redo]), "phat:redo")
    return Z, empty, const


def phat_inputs(X, Y):
    """GCC-PHAT's input rows (estimate_delay's and the CLI's plot), demeaned
    as the plain cross-correlation's (a DC offset would otherwise put its
    transform's leakage into every whitened frequency and pull the peak to
    lag 0), and the pairs' flags: ``(X, Y, empty, constant)``, a pair empty
    or constant when either series is."""
    X, empty_x, const_x = _phat_rows(X, "phat:in:x")
    Y, empty_y, const_y = _phat_rows(Y, "phat:in:y")
    return X, Y, empty_x | empty_y, const_x | const_y


def residual_acf(x, max_lag=None):
    """The autocorrelation :func:`detect_period` reads a series' period from
    (for plots: the command line's): that of the series' residual after its
    straight-line trend (:func:`residuals`).  ``x`` 1-D, or series along
    the last axis."""
    y, batch, _ = _validate.series_batch(x, -1)
    res, _ = residuals(_validate.rows_scaled(y))  # (scale-free, as detect_period)
    L, method = _validate.acf_options(max_lag, y.shape[1], "auto", False, True, False)
    # a line fitted with an intercept leaves residuals of mean 0 over the kept
    # samples, and the others are 0: no demeaning, as detect's lag sums
    out = acf(res, L, False, True, False, method)
    return out.reshape(batch + out.shape[-1:])


def gappy_sums(S, z, mask, level):
    """The lag sums ``S`` (B, L + 1) of residual rows ``z`` (B, n; 0 where
    missing) with missing samples made fit for the period detector, in
    place; returns their pair counts (B, L + 1) and the rows' effective
    pairs (B,).

    The sum at lag k holds only the P(k) pairs present there, so S(k) / S(0)
    shrinks with the share of samples missing (0.3 at 70% missing), and
    which samples pair up at a lag changes from lag to lag.  Each lag is
    normalized by the energies of its own pairs' samples,
    r(k) = S(k) / sqrt(sum x[t]^2 sum x[t + k]^2) over the pairs present
    (|r| <= 1, Cauchy-Schwarz; a smooth series stays smooth, whatever
    samples pair up); a lag left fewer pairs than the row's typical count
    there, T(k) = P(0)^2 / n^2 (n - k) (what samples missing at random
    leave), is shrunk toward 0 by ``level`` times the standard error the
    missing pairs add, level (1 / sqrt(P(k)) - 1 / sqrt(T(k))) (white
    noise's r over P pairs scatters by 1 / sqrt(P): a lag with few pairs
    cannot win on noise); r is then given the taper of a complete series,
    (1 - k / n), so that the sums read as those of n samples.  The row's
    effective pairs, P(0)^2 / n (n for a complete row), set the noise the
    detector measures its margins against.  ``mask`` (B, n): the samples
    kept (float 0 / 1)."""
    n = mask.shape[1]
    L = S.shape[1] - 1
    m = np.ascontiguousarray(mask)
    z2 = np.ascontiguousarray(z * z)
    P = np.maximum(np.rint(auto_sums(m, L, "auto")), 0.0)
    # the energies of the pairs' first and second samples at each lag
    e1 = np.maximum(cross_sums(m, z2, 0, L), 0.0)
    e2 = np.maximum(cross_sums(z2, m, 0, L), 0.0)
    share = P[:, :1] / n
    r = pair_normalized(S, e1, e2, P)
    S[:] = for_detector(r, P, share * share, n, level) * S[:, :1]
    return P, np.maximum(P[:, 0] * share[:, 0], 1.0)


def pair_normalized(S, e1, e2, P):
    """S / sqrt(e1 e2): each lag's sum over its pairs divided by the
    energies of the pairs' first and second samples (|r| <= 1, Cauchy-
    Schwarz); 0 where a lag has no pair or no energy, 1 at lag 0."""
    den = np.sqrt(e1 * e2)
    ok = (P > 0) & (den > 0)
    r = np.clip(np.where(ok, S / np.where(ok, den, 1.0), 0.0), -1.0, 1.0)
    r[:, 0] = 1.0
    return r


def for_detector(r, P, rate, n, level):
    """Pair-normalized autocorrelations ``r`` (B, L + 1) read as the lag sums
    of complete series of ``n`` (scalar or (B, 1)) samples, lag 0 = 1: each
    lag left fewer pairs than its typical count rate (n - k) (``rate``
    (B, 1): the pairs per lag and unit of overlap) shrunk toward 0 by
    ``level`` (1 / sqrt(P(k)) - 1 / sqrt(typical)) (white noise's r over P
    pairs scatters by 1 / sqrt(P): a lag with few pairs cannot win on
    noise), then tapered by (1 - k / n)."""
    k = np.arange(r.shape[1], dtype=np.float64)
    typical = np.maximum(rate * (n - k), 1.0)
    excess = level * np.maximum(0.0, 1.0 / np.sqrt(np.maximum(P, 1e-12)) - 1.0 / np.sqrt(typical))
    out = np.sign(r) * np.maximum(np.abs(r) - excess, 0.0) * np.maximum(1.0 - k / n, 0.0)
    out[:, 0] = 1.0
    return out


def detect_sums(y, L, level):
    """(S, nvalid, npairs, pairs) for the period detector from validated
    (B, n) series: the lag sums 0..L of their residuals (:func:`residuals`),
    each row scaled by a power of two where their energy leaves float64's
    safe range, with the rows that miss samples (NaN, or spikes) made
    unbiased and shrunk by their pairs (:func:`gappy_sums`: they then read
    as a complete series, ``nvalid`` = n, whose noise is that of ``npairs``
    pairs); ``pairs``: (the rows missing samples, the pairs behind each of
    their lags), the other rows have n - k at lag k (None when none miss)."""
    B, n = y.shape
    res, nvalid = residuals(y)
    with np.errstate(over="ignore", invalid="ignore"):  # (rows beyond float64: again, below)
        S = auto_sums(res, L, "auto")
    # the scale-free rule, read off the residuals' energy: rows beyond
    # float64's comfortable range again, each scaled by a power of two
    redo = np.flatnonzero(_validate.unsafe_energy(S[:, 0]))
    if redo.size:
        r2, n2 = residuals(_validate.rows_scaled(y[redo]))
        res[redo], nvalid[redo] = r2, n2
        S[redo] = auto_sums(r2, L, "auto")
    npairs = nvalid
    gappy = np.flatnonzero(nvalid < n)
    pairs = None
    if gappy.size:
        npairs, nvalid = nvalid.copy(), nvalid.copy()
        # the kept samples: present, not a spike (a kept sample whose
        # residual is exactly 0 adds nothing to a sum and counts as missing)
        mask = (np.isfinite(y[gappy]) & (res[gappy] != 0.0)).astype(np.float64)
        Sg = S[gappy]
        pairs, npairs[gappy] = gappy_sums(Sg, res[gappy], mask, level)
        S[gappy] = Sg
        nvalid[gappy] = n
    return S, nvalid, npairs, (gappy, pairs)


def residuals(y):
    """(residuals, present-sample counts) of validated (B, n) series: each
    series minus its straight-line trend, with spikes (beyond ``SPIKE``
    residual RMS) and NaN samples missing (0)."""
    return run(_kacf.robust_residuals, _twins.robust_residuals, y, SPIKE)


# ---------------------------------------------------------------------------
# irregular samples (times=): the kernel estimator
# ---------------------------------------------------------------------------

GAUSS_WIDTH = 0.25  # the Gaussian kernel's standard deviation, in lag steps (Rehfeld et al. 2011)


def kernel_acf(t, v, m, step, K, kernel, demean=True):
    """(r, W): the kernel-estimator autocorrelation (B, K + 1) of series
    sampled at times ``t`` (rows of :func:`sigcorr._validate.irregular_batch`:
    present samples first, sorted, ``m`` of them), at lags k * ``step``, and
    the weight of pairs behind each lag (for a regular grid, the pairs).
    Each lag is normalized by the weighted energies of its pairs' samples,
    so |r| <= 1 (pastas' normalization by the whole series' variance is
    not bounded); lag 0 is 1, a row without a present sample NaN, a
    constant row 0."""
    B = t.shape[0]
    present = np.arange(t.shape[1])[None, :] < m[:, None]
    if demean:
        mean = np.where(present, v, 0.0).sum(axis=1, keepdims=True) / np.maximum(m, 1)[:, None]
        v = np.where(present, v - mean, 0.0)
    out = np.empty((B, 4, K + 1))
    run(_kirr.kernel_lag_sums, _twins.kernel_lag_sums, np.ascontiguousarray(t), np.ascontiguousarray(v), m,
        float(step), float(GAUSS_WIDTH * step), kernel == "gaussian", out)
    W = out[:, 3]
    r = pair_normalized(out[:, 0], out[:, 1], out[:, 2], W)
    energy = np.einsum("ij,ij->i", v, v)
    r[energy == 0] = 0.0
    r[m == 0] = np.nan
    return r, W


def irregular_residuals(t, v, m):
    """Rows of :func:`kernel_acf`'s input with their straight-line trend in
    time removed and spikes (beyond ``SPIKE`` residual RMS, found twice)
    dropped: ``(t, v, m)`` anew, present samples first."""
    B, n = t.shape
    keep = np.arange(n)[None, :] < m[:, None]
    tc = np.where(keep, t - np.where(keep, t, 0.0).sum(axis=1, keepdims=True) / np.maximum(m, 1)[:, None], 0.0)
    for _ in range(3):
        w = keep.astype(np.float64)
        s0 = w.sum(axis=1)
        s1, s2 = (w * tc).sum(axis=1), (w * tc * tc).sum(axis=1)
        sx, stx = (w * v).sum(axis=1), (w * tc * v).sum(axis=1)
        den = s0 * s2 - s1 * s1
        c = np.where(den > 0, (s0 * stx - s1 * sx) / np.where(den > 0, den, 1.0), 0.0)
        a = np.where(s0 > 0, (sx - c * s1) / np.maximum(s0, 1.0), 0.0)
        res = np.where(keep, v - a[:, None] - c[:, None] * tc, 0.0)
        rms = np.sqrt((res * res).sum(axis=1) / np.maximum(s0, 1.0))
        spikes = keep & (np.abs(res) > SPIKE * rms[:, None])
        if not spikes.any():
            break
        keep &= ~spikes
    order = np.argsort(~keep, axis=1, kind="stable")  # kept first, in time order
    rows = np.arange(B)[:, None]
    return (np.ascontiguousarray(np.where(keep, t, np.inf)[rows, order]),
            np.ascontiguousarray(res[rows, order]), keep.sum(axis=1).astype(np.int64))


NEAR = 1.5  # successive samples less than this many lag steps apart are differenced (a first difference)


def successive_differences(t, v, m, step):
    """Rows of irregular samples (present first, sorted, ``m`` of them) ->
    the differences of successive samples at their midpoints: ``(t, v, m)``,
    present first (a bending trend's curve gone, a season kept).  Only the
    successive samples less than ``NEAR`` lag steps ``step`` (the
    detector's: about the sampling step) apart are differenced, as the regular detector differences neighbours only
    (a NaN beside a sample leaves no difference): across a longer gap (a
    missing sample, the pause between bursts) the difference spans several
    steps, so it holds a different share of the season and the trend's
    whole change over the gap, and the differences no longer read as one
    series."""
    B, n = t.shape
    w = max(n - 1, 1)
    ok = np.zeros((B, w), bool)
    ok[:, :n - 1] = np.arange(n - 1)[None, :] < np.maximum(m - 1, 0)[:, None]
    mid = np.full((B, w), np.inf)
    dv = np.zeros((B, w))
    if n > 1:
        gap = np.where(ok[:, :n - 1], t[:, 1:] - np.where(ok[:, :n - 1], t[:, :-1], 0.0), np.inf)
        ok[:, :n - 1] &= gap < NEAR * step
        mid[:, :n - 1] = 0.5 * (t[:, 1:] + np.where(ok[:, :n - 1], t[:, :-1], 0.0))
        dv[:, :n - 1] = v[:, 1:] - v[:, :-1]
    order = np.argsort(~ok, axis=1, kind="stable")  # kept first, in time order
    rows = np.arange(B)[:, None]
    td = np.where(ok, mid, np.inf)[rows, order]
    vd = np.where(ok, dv, 0.0)[rows, order]
    return np.ascontiguousarray(td), np.ascontiguousarray(vd), ok.sum(axis=1).astype(np.int64)


def irregular_detect_sums(t, v, m, step, K, kernel, level):
    """(S, nvalid, npairs, W) for the period detector from irregular rows:
    the kernel autocorrelation of their residuals (:func:`irregular_residuals`)
    read as the lag sums of a complete series (:func:`for_detector`) of as
    many lag steps as the row spans (``nvalid``), ``npairs`` the weight
    of pairs a lag typically holds times that length."""
    t, v, m = irregular_residuals(t, v, m)
    r, W = kernel_acf(t, v, m, step, K, kernel, demean=False)
    r = np.nan_to_num(r)
    last = t[np.arange(t.shape[0]), np.maximum(m - 1, 0)]
    span = np.where(m > 1, last - t[:, 0], 0.0)
    n = np.floor(span / step + 1e-9) + 1.0
    k = np.arange(K + 1.0)
    # the pairs per lag and step of overlap, over the lags up to half the
    # row's span (a row's own, whatever the batch's lag range)
    within = (k[1:] <= n[:, None] / 2.0)
    overlap = np.where(within, n[:, None] - k[1:], 0.0)
    rate = (np.where(within, W[:, 1:], 0.0).sum(axis=1) / np.maximum(overlap.sum(axis=1), 1.0))[:, None]
    S = for_detector(r, W, rate, n[:, None], level)
    return np.ascontiguousarray(S), n, np.maximum(rate[:, 0] * n, 1.0), W


def support_at(pairs, periods_samples):
    """The pairs behind each row's first period (its lag rounded; NaN where
    there is no period), read off ``pairs`` (B, L + 1)."""
    p = periods_samples
    ok = np.isfinite(p)
    k = np.where(ok, np.rint(np.where(ok, p, 0.0)), 0).astype(np.int64)
    k = np.minimum(k, pairs.shape[1] - 1)
    return np.where(ok, pairs[np.arange(pairs.shape[0]), k], np.nan)


def regular_support(n, periods_samples, gappy_pairs):
    """:func:`support_at` of regular rows of n samples: n - k, but for the
    rows missing samples (``gappy_pairs`` from :func:`detect_sums`)."""
    out = n - np.rint(periods_samples)  # (NaN stays NaN)
    gappy, pairs = gappy_pairs
    if gappy.size:
        out[gappy] = support_at(pairs, periods_samples[gappy])
    return out


def detect_rows(y, L, pmin, pmax, level, smooth_level, periods, strengths, supports):
    """The regular period detector on validated (B, n) float64 series, lags
    0..L, into ``periods``, ``strengths`` (B, n_cycles) (in samples) and
    ``supports`` (B,): ``detect_period``'s work for one chunk of series, shared
    with ``sigcorr.stream.PeriodTracker`` (which feeds it the windows each
    push completes).  ``level``: the detector's significance level;
    ``smooth_level``: the lag-1 autocorrelation above which a series without
    period is searched again on its first differences."""
    n = y.shape[1]
    n_cycles = periods.shape[1]
    S, nvalid, npairs, pairs = detect_sums(y, L, level)
    run(_kdetect.detect, _twins.detect, np.ascontiguousarray(S), float(pmin), float(pmax), nvalid, npairs,
        level, periods, strengths)
    supports[...] = regular_support(n, periods[:, 0], pairs)
    pairs_now = pairs
    # no period, and a residual that is smooth from sample to sample: a
    # trend that bends (quadratic, exponential) hides the season; its
    # first differences keep a season, and a random walk's are white noise
    smooth = searched_again(S, periods, n, pmin, smooth_level)
    if smooth.size:
        d = np.ascontiguousarray(np.diff(_validate.rows_scaled(y[smooth]), axis=1))  # (scale-free)
        S, nvalid, npairs, pairs = detect_sums(d, min(L, n - 3), level)
        p2 = np.empty((smooth.size, n_cycles))
        s2 = np.empty((smooth.size, n_cycles))
        run(_kdetect.detect, _twins.detect, np.ascontiguousarray(S), float(pmin), float(min(pmax, (n - 1) / 2)),
            nvalid, npairs, level, p2, s2)
        periods[smooth] = p2
        strengths[smooth] = s2
        supports[smooth] = regular_support(n - 1, p2[:, 0], pairs)
    # still no period in a row missing samples: searched once more with its
    # gaps bridged (:func:`bridged`).  Only where the searches of the
    # present samples found nothing, so a series they decide keeps their answer
    missing, gap_pairs = pairs_now
    hi = min(pmax, n / BRIDGE_CYCLES)
    left = missing[np.isnan(periods[missing, 0]) & bridgeable(y[missing])] if missing.size else missing
    if left.size and hi >= pmin:
        p3 = np.empty((left.size, n_cycles))
        s3 = np.empty((left.size, n_cycles))
        detect_rows(bridged(y[left]), min(L, int(math.ceil(hi)) + 2), pmin, hi, level, smooth_level, p3, s3,
                    np.empty(left.size))
        periods[left] = p3
        strengths[left] = s3
        # the support: the pairs of present samples behind the period's lag
        supports[left] = support_at(gap_pairs[np.searchsorted(missing, left)], p3[:, 0])


# a row missing samples is bridged (detect_rows' last search) only when it
# keeps at least this many present samples ...
BRIDGE_MIN = 8
# ... and searched for periods it shows at least this many times: a line
# across a gap smooths a random walk's humps, and two or three of them
# then repeat as well as a cycle would
BRIDGE_CYCLES = 4


def bridgeable(y):
    """Which (B, n) rows hold a NaN and at least ``BRIDGE_MIN`` present samples."""
    present = np.isfinite(y).sum(axis=1)
    return (present < y.shape[1]) & (present >= BRIDGE_MIN)


def bridged(y, t=None, grid=None):
    """Rows with their gaps bridged by straight lines between the present
    samples on either side (constant before the first and after the last):
    (B, n) ``y`` with NaN gaps, or the samples ``y`` at times ``t`` (rows of
    :func:`sigcorr._validate.irregular_batch`, present first, NaN-padded)
    read at the times ``grid`` (B, n).  A series whose season is hidden
    under a bending trend and too many gaps for differences of neighbours
    (half its samples missing at random leave a quarter of them) is then
    searched as a complete one: a line across a gap carries the trend, the
    season's peaks stay at their lags, and a random walk's or white noise's
    lines add no cycle."""
    out = np.empty(y.shape if grid is None else grid.shape)
    for b in range(out.shape[0]):
        if t is None:
            ok = np.isfinite(y[b])
            idx = np.flatnonzero(ok)
            out[b] = np.interp(np.arange(y.shape[1]), idx, y[b, ok])
        else:
            ok = np.isfinite(t[b]) & np.isfinite(y[b])
            out[b] = np.interp(grid[b], t[b, ok], y[b, ok])
    return out


def searched_again(S, periods, n, pmin, smooth_level):
    """The rows of :func:`detect_rows` searched again on their first
    differences: no period, a residual smooth from sample to sample (lag-1
    sum above ``smooth_level`` of lag 0), and room for two cycles of
    ``pmin`` in the n - 1 differences (``stream.PeriodTracker`` sends
    these rows of its slid windows to :func:`detect_rows`)."""
    if n - 1 < 2 * pmin:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.isnan(periods[:, 0]) & (S[:, 1] > smooth_level * S[:, 0]))
