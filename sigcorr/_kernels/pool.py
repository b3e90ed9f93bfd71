"""Max and average pooling over the last two axes of (P, H, W) planes (and,
with indices, the last three of (P, D, H, W) volumes).

Volumes without indices pool in two passes of these kernels: the planes
first (a (P * D, H, W) batch), then the depth axis, read as the rows of
(P, D, oh * ow) planes with a one-column window (the row pass of
``max_pool_separable`` is an elementwise max of whole slices; ``avg_pool``'s
divisor is a product of per-axis counts, so the two passes' divisors
multiply to torch's).

One pass over the input, ``prange`` over (plane, output row).  General
windows (kernel, stride, padding, dilation, torch's ceil_mode rule) take the
loop over the window; 2 x 2 windows with stride 2 and no padding take a
specialised path that reduces the two input rows first (a contiguous,
vectorized pass) and then the column pairs.

NaN follows torch: a window holding NaN gives NaN, and its index is the last
NaN of the window in row-major order; otherwise the index is the first
maximum.  Indices are flat positions within the input plane (h * W + w).
"""

import numpy as np
from numba import prange

from ._jit import A3, A4, B1, FLOATS, I8, jit


@jit(parallel=True, sigs=[(A4(f), I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, B1, A4(f), A4(I8))
                          for f in FLOATS])
def max_pool(x, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, want_idx, out, idx):
    """Max pooling of (P, D, H, W) volumes with indices (1-D and 2-D pooling
    pass D = 1 and a depth window of one tap): the loop over each window,
    ``prange`` over (volume, output slice, output row).  Indices are flat
    within the volume ((z * H + r) * W + q)."""
    P, D, H, W = x.shape
    od, oh, ow = out.shape[1], out.shape[2], out.shape[3]
    for t in prange(P * od * oh):
        p = t // (od * oh)
        rem = t - p * (od * oh)
        z = rem // oh
        i = rem - z * oh
        vol = x[p]
        g0 = z * sd - pd
        z0 = g0
        while z0 < 0:
            z0 += dd
        h0 = i * sh - ph
        r0 = h0
        while r0 < 0:
            r0 += dh
        for j in range(ow):
            w0 = j * sw - pw
            c0 = w0
            while c0 < 0:
                c0 += dw
            best = -np.inf
            # torch's index when nothing beats -inf: the first tap at or past 0
            bi = (z0 * H + r0) * W + c0
            for e in range(kd):
                g = g0 + e * dd
                if g < 0 or g >= D:
                    continue
                plane = vol[g]
                for a in range(kh):
                    r = h0 + a * dh
                    if r < 0 or r >= H:
                        continue
                    row = plane[r]
                    for c in range(kw):
                        q = w0 + c * dw
                        if q < 0 or q >= W:
                            continue
                        v = row[q]
                        if v > best or v != v:
                            best = v
                            bi = (g * H + r) * W + q
            out[p, z, i, j] = best
            if want_idx:
                idx[p, z, i, j] = bi
    return out, idx


@jit(parallel=True, sigs=[(A3(f), I8, I8, I8, A3(f)) for f in FLOATS])
def max_pool_2x2(x, kd, D, od, out):
    """2 x 2 windows, stride 2, no padding (values only), over ``kd``
    planes: output plane q is the maximum over the planes (q // od) D + (q
    % od) kd + e, e < kd, of ``x`` (P D, H, W) (a volume's whole, disjoint
    depth windows of kd planes, od = D // kd of them per volume: one pass
    over the volume; kd = D = od = 1 for images).  NaN propagates, as in
    torch."""
    Q, oh, ow = out.shape
    for t in prange(Q * oh):
        q = t // oh
        i = t - q * oh
        base = (q // od) * D + (q % od) * kd
        o = out[q, i]
        r0 = x[base, 2 * i]
        r1 = x[base, 2 * i + 1]
        for j in range(ow):
            o[j] = _max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1])
        for e in range(1, kd):
            r0 = x[base + e, 2 * i]
            r1 = x[base + e, 2 * i + 1]
            for j in range(ow):
                o[j] = _nanmax(o[j], _max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]))
    return out


@jit()
def _max4(a, b, c, d):
    return _nanmax(_nanmax(a, b), _nanmax(c, d))


@jit()
def window_count(o, k, s, p, n, include_pad):
    """torch's average-pool window along one axis, the one home of its divisor
    (``sigcorr.dask`` calls ``window_count.py_func``): output ``o`` of a
    window of ``k`` samples at stride ``s`` over ``n`` samples padded by ``p``
    each side.  Returns (first, end) of the input samples it covers and the
    count it divides by: the window clipped to the padded input, padding
    included with ``include_pad`` (torch's ``count_include_pad``)."""
    lo = o * s - p
    hi = min(lo + k, n + p)
    first = max(lo, 0)
    end = min(hi, n)
    return first, end, (hi - lo) if include_pad else max(end - first, 0)


@jit(parallel=True, sigs=[(A3(f), I8, I8, I8, I8, I8, I8, B1, A3(f)) for f in FLOATS])
def avg_pool(x, kh, kw, sh, sw, ph, pw, include_pad, out):
    P, H, W = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for t in prange(P * oh):
        p = t // oh
        i = t - p * oh
        plane = x[p]
        rs, re, ch = window_count(i, kh, sh, ph, H, include_pad)
        for j in range(ow):
            cs, ce, cw = window_count(j, kw, sw, pw, W, include_pad)
            s = 0.0
            for r in range(rs, re):
                row = plane[r]
                for q in range(cs, ce):
                    s += row[q]
            cnt = ch * cw
            out[p, i, j] = s / cnt if cnt > 0 else np.nan
    return out


@jit(parallel=True, sigs=[(A3(f), A3(f)) for f in FLOATS])
def avg_pool_2x2(x, out):
    """2 x 2 windows, stride 2, no padding."""
    P, H, W = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for t in prange(P * oh):
        p = t // oh
        i = t - p * oh
        r0 = x[p, 2 * i]
        r1 = x[p, 2 * i + 1]
        o = out[p, i]
        for j in range(ow):
            o[j] = ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1])) * 0.25
    return out


@jit()
def _nanmax(a, b):
    # max that propagates NaN (either operand)
    if a != a:
        return a
    if b != b or b > a:
        return b
    return a


@jit(parallel=True, sigs=[(A3(f), I8, I8, I8, I8, I8, I8, I8, I8, A3(f)) for f in FLOATS])
def max_pool_separable(x, kh, kw, sh, sw, ph, pw, dh, dw, out):
    """Values-only max pooling as a max over rows (contiguous, vectorized)
    followed by a max over columns; the same values as ``max_pool``."""
    P, H, W = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for t in prange(P * oh):
        p = t // oh
        i = t - p * oh
        plane = x[p]
        h0 = i * sh - ph
        col = np.empty(W, dtype=x.dtype)
        first = True
        for a in range(kh):
            r = h0 + a * dh
            if r < 0 or r >= H:
                continue
            row = plane[r]
            if first:
                for q in range(W):
                    col[q] = row[q]
                first = False
            else:
                for q in range(W):
                    col[q] = _nanmax(col[q], row[q])
        if first:  # every row of the window is padding
            for q in range(W):
                col[q] = -np.inf
        o = out[p, i]
        for j in range(ow):
            w0 = j * sw - pw
            best = -np.inf
            seen = False
            for c in range(kw):
                q = w0 + c * dw
                if 0 <= q < W:
                    best = col[q] if not seen else _nanmax(best, col[q])
                    seen = True
            o[j] = best
    return out
