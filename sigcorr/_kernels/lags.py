"""Row kernels of 1-D cross-correlation and delay estimation: a window of
lags of one long correlation (``lag_window``, its sum split over the cores
in blocks), rows centred with their sums of squares (``centre_rows``) and
GCC-PHAT's whitened cross-spectra (``phat_whiten``).  The lag window's
passes are ``direct``'s unrolled multiply-add rows.
"""

import numpy as np
from numba import prange

from ._jit import A1, A2, A3, C16, F8, FLOATS, I8, jit
from .direct import add_kernel_row


# ---------------------------------------------------------------------------
# a window of lags of one long 1-D correlation
# ---------------------------------------------------------------------------


@jit(parallel=True, fastmath={"contract"},
     sigs=[(A2(f), A2(f), A3(f), I8) for f in FLOATS])
def lag_window(x, y, part, lo):
    """part[b, p, l] = sum_{n in block p} x[b, n + lo + l] * y[kb, n].

    ``x`` (B, N1), ``y`` (Bk, N2) with Bk in {1, B}, ``part`` (B, P, nl):
    the samples n of ``y`` are split into P blocks of ceil(N2 / P), each
    block's partial sums for the lags lo..lo + nl - 1 in its own row, which
    the caller adds up.  ``x`` is zero outside [0, N1).  The blocks split
    one long sum over the cores: with one series and a few hundred lags
    ``corr_padded`` would have a single task (one output row).
    """
    B = x.shape[0]
    P = part.shape[1]
    for t in prange(B * P):
        _lag_block(x, y, part, lo, np.int64(t))
    return part


@jit(fastmath={"contract"}, inline="always")
def _lag_block(x, y, part, lo, t):
    Bk, N2 = y.shape
    P = part.shape[1]
    nl = part.shape[2]
    b = t // P
    p = t - b * P
    kb = b if Bk > 1 else 0
    bl = (N2 + P - 1) // P
    n0 = min(p * bl, N2)
    n1 = min(N2, n0 + bl)
    r = part[b, p]
    for j in range(nl):
        r[j] = 0
    lag_span(r, x[b], y[kb], n0, n1, lo)


@jit(fastmath={"contract"})
def lag_span(r, xs, ys, n0, n1, lo):
    """r[l] += sum_{n in [n0, n1)} xs[n + lo + l] * ys[n] for the lags l of
    ``r``, ``xs`` zero outside its bounds (``lag_window``'s block, and the
    period tracker's block pairs)."""
    N1 = xs.shape[0]
    nl = r.shape[0]
    # interior samples: every lag's x index n + lo + l lies inside [0, N1),
    # so the taps are one vectorized multiply-add over the lags per pass
    i0 = min(max(n0, -lo), n1)
    i1 = max(min(n1, N1 - lo - nl + 1), i0)
    if i0 < i1:
        _lag_dots(r, xs, ys, i0, i1, lo, nl)
    if n0 < i0:
        _lag_edges(r, xs, ys, n0, i0, lo, nl)
    if i1 < n1:
        _lag_edges(r, xs, ys, i1, n1, lo, nl)


@jit(fastmath={"contract"})
def lag_band(r, xs, ys, lo):
    """r[l] += sum_n xs[n + lo + l] * ys[n] over the n of ``ys`` whose
    ``xs`` index is inside it, for the lags l of ``r``: the correlation of
    two stretches over a band of lags wider than either (the period
    tracker's block pairs), where ``lag_span``'s interior, common to every
    lag of the band, is empty.  Eight lags at a time, over the samples any
    of them has, from a copy of ``xs`` with eight zeros at each end (so a
    group's few samples beyond another lag's reach add zeros: no scalar
    edge loops, whose serial sums would cost more than the rest)."""
    N1 = xs.shape[0]
    N2 = ys.shape[0]
    nl = r.shape[0]
    pad = np.empty(N1 + 16, dtype=r.dtype)
    for t in range(8):  # (loops, not slice assignments: each of those is a numpy implementation to compile)
        pad[t] = 0
        pad[N1 + 8 + t] = 0
    for t in range(N1):
        pad[8 + t] = xs[t]
    for j0 in range(0, nl, 8):
        m = min(8, nl - j0)
        a = min(max(0, -(lo + j0 + m - 1)), N2)
        b = max(min(N2, N1 - lo - j0), a)
        if a < b:
            _lag_dots(r[j0:j0 + m], pad, ys, a, b, lo + j0 + 8, m)


# samples of y per cache block of _lag_dots: 2 x 16 KiB of float64, in L1
LAG_CHUNK = 2048


@jit(fastmath={"contract", "reassoc"})
def _lag_dots(r, xs, ys, i0, i1, lo, nl):
    # r[g] += sum_{n in [i0, i1)} xs[n + lo + g] * ys[n] (g: the lag): register-blocked,
    # eight lags per pass, each a dot product vectorized along n (reassoc:
    # the lanes hold partial sums), so one load of y serves eight
    # multiply-adds and the accumulators stay in registers; over cache-sized
    # chunks of n, so every pass of a chunk reads x and y from L1.  (Indices
    # from 0 into slices: LLVM then knows them non-negative and vectorizes.)
    for c0 in range(i0, i1, LAG_CHUNK):
        m = min(i1, c0 + LAG_CHUNK) - c0
        yc = ys[c0:c0 + m]
        g = np.int64(0)
        while g + 8 <= nl:
            xc = xs[c0 + lo + g:]
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = r[g] * 0
            for k in range(m):
                v = yc[k]
                a0 += xc[k] * v
                a1 += xc[k + 1] * v
                a2 += xc[k + 2] * v
                a3 += xc[k + 3] * v
                a4 += xc[k + 4] * v
                a5 += xc[k + 5] * v
                a6 += xc[k + 6] * v
                a7 += xc[k + 7] * v
            r[g] += a0
            r[g + 1] += a1
            r[g + 2] += a2
            r[g + 3] += a3
            r[g + 4] += a4
            r[g + 5] += a5
            r[g + 6] += a6
            r[g + 7] += a7
            g += 8
        while g < nl:
            xc = xs[c0 + lo + g:]
            a = r[g] * 0
            for k in range(m):
                a += xc[k] * yc[k]
            r[g] += a
            g += 1


@jit(fastmath={"contract"})
def _lag_edges(r, xs, ys, e0, e1, lo, nl):
    # samples e0..e1 of y, where some lags fall outside x: the same
    # vectorized passes over a zero-extended copy of the stretch of x they
    # need; where y is not finite there, sample by sample (a NaN must not meet
    # the zero extension, as in scipy's 1-D correlate)
    N1 = xs.shape[0]
    finite = True
    for n in range(e0, e1):
        if not np.isfinite(ys[n]):
            finite = False
    if not finite:
        for n in range(e0, e1):
            _lag_edge(r, xs, ys[n], n + lo, N1, nl)
        return
    m = e1 - e0
    buf = np.zeros(m + nl - 1, dtype=r.dtype)
    off = e0 + lo  # buf[q] = xs[off + q]
    for q in range(max(0, -off), min(m + nl - 1, N1 - off)):
        buf[q] = xs[off + q]
    add_kernel_row(r, buf, ys[e0:e1], m, np.int64(0), nl)


@jit(fastmath={"contract"})
def _lag_edge(r, xs, v, off, N1, nl):
    # r[l] += xs[off + l] * v for the lags whose x index is inside [0, N1)
    for j in range(max(0, -off), min(nl, N1 - off)):
        r[j] += xs[off + j] * v


@jit(parallel=True, sigs=[(A2(F8), A2(F8), A1(F8), A1(F8))])
def centre_rows(x, out, means, sumsq):
    """out[b] = x[b] - mean(x[b]), means[b] = that mean, sumsq[b] = sum(out[b]^2).

    The demeaning and the norms a normalized cross-correlation needs, in one
    read of each row (a row of a few thousand samples stays in the core's
    cache for its second pass), instead of numpy's three passes over the
    whole batch.  A NaN or inf in a row makes its mean non-finite: the caller
    checks ``means`` and takes its missing-data path."""
    for b in prange(x.shape[0]):
        _centre_row(x[b], out[b], means, sumsq, np.int64(b))
    return out


@jit()
def _centre_row(row, dst, means, sumsq, b):
    n = row.shape[0]
    s = 0.0
    for t in range(n):
        s += row[t]
    m = s / n if n > 0 else 0.0
    q = 0.0
    for t in range(n):
        v = row[t] - m
        dst[t] = v
        q += v * v
    means[b] = m
    sumsq[b] = q


@jit(parallel=True, sigs=[(A2(C16), A2(C16), F8)])
def phat_whiten(fx, fy, eps):
    """fx[b] = G / max(|G|, eps * max_k |G|) with G = fx[b] * conj(fy[b]): the
    GCC-PHAT cross-spectrum of each pair, whitened in place (one pass for the
    row's largest magnitude, one for the product and the division, the row
    in the core's cache) instead of numpy's five passes over the batch."""
    for b in prange(fx.shape[0]):
        _whiten_row(fx[b], fy[b], eps)
    return fx


@jit()
def _whiten_row(a, c, eps):
    # in real arithmetic: numba's complex division and abs take the careful
    # (branching, overflow-safe) routes, which do not vectorize; spectra of
    # finite float64 series are far from overflowing a square
    n = a.shape[0]
    top2 = 0.0
    for k in range(n):
        ar, ai, cr, ci = a[k].real, a[k].imag, c[k].real, c[k].imag
        gr = ar * cr + ai * ci
        gi = ai * cr - ar * ci
        a[k] = complex(gr, gi)
        top2 = max(top2, gr * gr + gi * gi)
    floor = eps * np.sqrt(top2) if top2 > 0 else 1.0
    for k in range(n):
        gr, gi = a[k].real, a[k].imag
        m = np.sqrt(gr * gr + gi * gi)
        s = 1.0 / (m if m > floor else floor)
        a[k] = complex(gr * s, gi * s)
