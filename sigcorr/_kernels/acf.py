"""Autocorrelation kernels (prange over series): the direct lag sums
(``acf_direct``) and the trend-free, spike-free residuals that periods are
read from (``robust_residuals``).  The period detector is ``detect``."""

import numpy as np
from numba import prange

from ._jit import A2, F8, I8, jit


@jit(fastmath={"reassoc", "contract"})
def _dot(a, b):
    # sum_t a[t] b[t], reassociated: vectorized, several partial sums
    s = 0.0
    for t in range(a.shape[0]):
        s += a[t] * b[t]
    return s


BLOCK = 2048  # samples per block of acf_direct (a block and its lag margin stay in L2)


@jit(parallel=True, sigs=[(A2(F8), I8, A2(F8))])
def acf_direct(y, L, out):
    """S[b, k] = sum_t y[b, t] y[b, t + k] for k in [0, L] into ``out``; y (B, n) float64.

    Series of up to BLOCK samples: one task per (series, lag).  Longer ones
    are cut in blocks of BLOCK products: one task per (series, block) sums
    every lag over its block (the block and the L samples after it stay in
    cache for all the lags, instead of each lag's pass reading the whole
    series from memory), then the blocks' sums are added in order."""
    B, n = y.shape
    if n <= BLOCK:
        for t in prange(B * (L + 1)):
            b = t // (L + 1)
            k = t - b * (L + 1)
            row = y[b]
            out[b, k] = _dot(row[:n - k], row[k:])
        return out
    nb = (n + BLOCK - 1) // BLOCK
    part = np.empty((B, nb, L + 1))
    for t in prange(B * nb):
        b = t // nb
        j = t - b * nb
        row = y[b]
        t0 = j * BLOCK
        for k in range(L + 1):
            t1 = min(t0 + BLOCK, n - k)  # products t, t + k with t + k < n
            part[b, j, k] = _dot(row[t0:t1], row[t0 + k:t1 + k]) if t1 > t0 else 0.0
    for t in prange(B):
        for k in range(L + 1):
            s = 0.0
            for j in range(nb):
                s += part[t, j, k]
            out[t, k] = s
    return out


@jit()
def _line(s0, s1, s2, sx, stx):
    # the weighted least-squares line a + c t from its sums (weights m):
    # s0 = sum m, s1 = sum m t, s2 = sum m t^2, sx = sum m z, stx = sum m t z
    if s0 == 0.0:
        return 0.0, 0.0
    den = s0 * s2 - s1 * s1
    if den <= 0.0:
        return sx / s0, 0.0
    c = (s0 * stx - s1 * sx) / den
    return (sx - c * s1) / s0, c


@jit(fastmath={"reassoc"})
def _first_fit(row, z, m, n):
    # z = the finite samples of ``row`` (0 elsewhere), m = 1 where finite (0
    # elsewhere), and in the same pass the line fitted to them: returns it.
    # Branch-free, reassociated sums: vectorized
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    sx = 0.0
    stx = 0.0
    for t in range(n):
        tt = np.float64(t)
        v = row[t]
        fin = abs(v) < np.inf  # isfinite, as a compare that vectorizes
        mt = 1.0 if fin else 0.0
        zt = v if fin else 0.0
        z[t] = zt
        m[t] = mt
        mz = mt * zt
        s0 += mt
        s1 += mt * tt
        s2 += mt * tt * tt
        sx += mz
        stx += tt * mz
    return _line(s0, s1, s2, sx, stx)


@jit(fastmath={"reassoc"})
def _flag_fit(z, m, n, a, c, lim):
    # flag (m = 0) the samples whose residual from a + c t exceeds lim and, in
    # the same pass, fit the line to the samples kept: returns it and their
    # number.  Branch-free, reassociated sums: vectorized
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    sx = 0.0
    stx = 0.0
    for t in range(n):
        tt = np.float64(t)
        zt = z[t]
        mt = 0.0 if abs(zt - a - c * tt) > lim else m[t]
        m[t] = mt
        mz = mt * zt
        s0 += mt
        s1 += mt * tt
        s2 += mt * tt * tt
        sx += mz
        stx += tt * mz
    a, c = _line(s0, s1, s2, sx, stx)
    return a, c, s0


@jit(fastmath={"reassoc"})
def _residual_ms(z, m, n, a, c):
    # sum of the squared residuals of the kept samples, and their count
    ss = 0.0
    cnt = 0.0
    for t in range(n):
        r = z[t] - a - c * np.float64(t)
        ss += m[t] * r * r
        cnt += m[t]
    return ss, cnt


@jit(fastmath={"reassoc"})
def _residual(z, m, n, a, c):
    # z = the residual from a + c t where kept (m = 1), 0 elsewhere; returns
    # the number kept (a reassociated sum: a serial chain of adds waits on
    # each add's latency, partial sums in vector lanes do not)
    cnt = 0.0
    for t in range(n):
        z[t] = m[t] * (z[t] - a - c * np.float64(t))
        cnt += m[t]
    return cnt


@jit(parallel=True, sigs=[(A2(F8), F8)])
def robust_residuals(x, spike):
    """Detrended, despiked copy of each series of ``x`` (B, n).

    Per series: fit a straight line to the finite samples, flag samples whose
    residual exceeds ``spike`` times the residual RMS as missing, refit, flag
    again and refit (unless the first flagging flagged nothing).  Returns
    (y, nvalid): y the residual with missing samples set to 0, nvalid the
    number of samples kept.  Every pass is branch-free over the series (a 0/1
    weight per sample), so it vectorizes; each flagging pass also sums the
    next fit.
    """
    B, n = x.shape
    y = np.empty((B, n))
    nvalid = np.zeros(B)
    for b in prange(B):
        nvalid[b] = clean_one(x[b], y[b], n, spike)[0]
    return y, nvalid


@jit()
def clean_one(row, z, n, spike):
    """One series of robust_residuals: z (the finite samples, 0 elsewhere,
    then the residual); returns the number of samples kept and the line a +
    c t (t = 0..n - 1) taken out."""
    m = np.empty(n)
    a, c = _first_fit(row, z, m, n)
    for _ in range(2):
        ss, cnt = _residual_ms(z, m, n, a, c)
        if cnt == 0.0:
            break
        a, c, kept = _flag_fit(z, m, n, a, c, spike * np.sqrt(ss / cnt))
        if kept == cnt:  # nothing flagged: the same line, a second pass would flag nothing
            break
    return _residual(z, m, n, a, c), a, c
