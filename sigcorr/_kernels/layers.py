"""Convolution layers (cross-correlation summed over input channels, + bias).

``conv2d_unit``: stride 1, dilation 1.  Each task is one output row of one
(sample, output channel); for every input channel and kernel row it runs the
same vectorized multi-tap passes as the direct correlation kernel, so a whole
filter bank is one parallel loop, with no unfolded (im2col) copy of the input.
``conv2d_general``: any stride and dilation, a plain loop over the window.
"""

import numpy as np
from numba import njit, prange

from .direct import _edge, _pass1, _pass2


@njit(parallel=True, cache=True)
def conv2d_unit(x, w, bias, pt, pl, oh, ow):
    """x (N, Ci, H, W), w (Co, Ci, kh, kw), bias (Co,) -> (N, Co, oh, ow)."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    out = np.empty((N, Co, oh, ow), dtype=x.dtype)
    jlo = min(max(pl, 0), ow)
    jhi = max(min(ow, W + pl - kw + 1), jlo)
    for t in prange(N * Co * oh):
        n = t // (Co * oh)
        rem = t - n * (Co * oh)
        co = rem // oh
        i = rem - co * oh
        row = out[n, co, i]
        for j in range(ow):
            row[j] = bias[co]
        a0 = max(0, pt - i)
        a1 = min(kh, H + pt - i)
        nrow = (a1 - a0) if a1 > a0 else 0
        if jlo < jhi and nrow > 0:
            # the (input channel, kernel row) pairs of this output row, two per pass
            nn = jhi - jlo
            r = row[jlo:jhi]
            off = jlo - pl
            total = Ci * nrow
            m = 0
            while kw < 8 and m + 2 <= total:
                c0 = m // nrow
                a = a0 + m - c0 * nrow
                c1 = (m + 1) // nrow
                b = a0 + m + 1 - c1 * nrow
                _pass2(r, x[n, c0, i + a - pt], x[n, c1, i + b - pt], w[co, c0, a], w[co, c1, b], kw, off, nn)
                m += 2
            while m < total:
                c0 = m // nrow
                a = a0 + m - c0 * nrow
                _pass1(r, x[n, c0, i + a - pt], w[co, c0, a], kw, off, nn)
                m += 1
        for ci in range(Ci):
            img = x[n, ci]
            ker = w[co, ci]
            for a in range(a0, a1):
                src = img[i + a - pt]
                krow = ker[a]
                if jlo < jhi:
                    _edge(row, src, krow, 0, jlo, pl, W, kw)
                    _edge(row, src, krow, jhi, ow, pl, W, kw)
                else:
                    _edge(row, src, krow, 0, ow, pl, W, kw)
    return out


@njit(parallel=True, cache=True)
def conv2d_general(x, w, bias, sh, sw, pt, pl, dh, dw, oh, ow):
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    out = np.empty((N, Co, oh, ow), dtype=x.dtype)
    for t in prange(N * Co * oh):
        n = t // (Co * oh)
        rem = t - n * (Co * oh)
        co = rem // oh
        i = rem - co * oh
        row = out[n, co, i]
        for j in range(ow):
            row[j] = bias[co]
        for ci in range(Ci):
            for a in range(kh):
                r = i * sh - pt + a * dh
                if r < 0 or r >= H:
                    continue
                src = x[n, ci, r]
                for c in range(kw):
                    kv = w[co, ci, a, c]
                    for j in range(ow):
                        q = j * sw - pl + c * dw
                        if 0 <= q < W:
                            row[j] += src[q] * kv
    return out
