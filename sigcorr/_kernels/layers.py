"""Convolution layers (cross-correlation summed over input channels, + bias).

``conv2d_unit``: stride 1, dilation 1, on an input the caller has already
zero-padded (so every tap lands inside it: no edge cases).  Each task is one
output row of a block of four output channels of one sample: every input row
it reads is loaded once for the four channels' kernel rows (up to five taps
per pass), so a filter bank costs a quarter of the loads of one-channel
passes, with no unfolded (im2col) copy of the input.  Output channels beyond
a multiple of four take the direct kernel's one-channel passes.
``conv2d_general``: any stride and dilation, a plain loop over the window.
"""

import numpy as np
from numba import prange

from ._jit import A1, A4, FLOATS, I8, jit
from .direct import add_kernel_row


@jit(inline="always")
def _fma5_4ch(r0, r1, r2, r3, s, k0, k1, k2, k3, c, n):
    # r_q[j] += sum_{t<5} s[j + t] k_q[c + t], four output channels q
    a0 = k0[c]
    a1 = k0[c + 1]
    a2 = k0[c + 2]
    a3 = k0[c + 3]
    a4 = k0[c + 4]
    b0 = k1[c]
    b1 = k1[c + 1]
    b2 = k1[c + 2]
    b3 = k1[c + 3]
    b4 = k1[c + 4]
    d0 = k2[c]
    d1 = k2[c + 1]
    d2 = k2[c + 2]
    d3 = k2[c + 3]
    d4 = k2[c + 4]
    e0 = k3[c]
    e1 = k3[c + 1]
    e2 = k3[c + 2]
    e3 = k3[c + 3]
    e4 = k3[c + 4]
    for j in range(n):
        v0 = s[j]
        v1 = s[j + 1]
        v2 = s[j + 2]
        v3 = s[j + 3]
        v4 = s[j + 4]
        r0[j] += ((v0 * a0 + v1 * a1) + (v2 * a2 + v3 * a3)) + v4 * a4
        r1[j] += ((v0 * b0 + v1 * b1) + (v2 * b2 + v3 * b3)) + v4 * b4
        r2[j] += ((v0 * d0 + v1 * d1) + (v2 * d2 + v3 * d3)) + v4 * d4
        r3[j] += ((v0 * e0 + v1 * e1) + (v2 * e2 + v3 * e3)) + v4 * e4


@jit(inline="always")
def _fma3_4ch(r0, r1, r2, r3, s, k0, k1, k2, k3, c, n):
    a0 = k0[c]
    a1 = k0[c + 1]
    a2 = k0[c + 2]
    b0 = k1[c]
    b1 = k1[c + 1]
    b2 = k1[c + 2]
    d0 = k2[c]
    d1 = k2[c + 1]
    d2 = k2[c + 2]
    e0 = k3[c]
    e1 = k3[c + 1]
    e2 = k3[c + 2]
    for j in range(n):
        v0 = s[j]
        v1 = s[j + 1]
        v2 = s[j + 2]
        r0[j] += (v0 * a0 + v1 * a1) + v2 * a2
        r1[j] += (v0 * b0 + v1 * b1) + v2 * b2
        r2[j] += (v0 * d0 + v1 * d1) + v2 * d2
        r3[j] += (v0 * e0 + v1 * e1) + v2 * e2


@jit(inline="always")
def _fma1_4ch(r0, r1, r2, r3, s, k0, k1, k2, k3, c, n):
    a0 = k0[c]
    b0 = k1[c]
    d0 = k2[c]
    e0 = k3[c]
    for j in range(n):
        v0 = s[j]
        r0[j] += v0 * a0
        r1[j] += v0 * b0
        r2[j] += v0 * d0
        r3[j] += v0 * e0


@jit()
def _row_x4(r0, r1, r2, r3, s, k0, k1, k2, k3, kw, n):
    """One kernel row of four output channels: taps in passes of 5, 3 and 1."""
    c = np.int64(0)  # (a literal 0 would compile the first pass a second time)
    while c + 5 <= kw:
        _fma5_4ch(r0, r1, r2, r3, s[c:], k0, k1, k2, k3, c, n)
        c += 5
    while c + 3 <= kw:
        _fma3_4ch(r0, r1, r2, r3, s[c:], k0, k1, k2, k3, c, n)
        c += 3
    while c < kw:
        _fma1_4ch(r0, r1, r2, r3, s[c:], k0, k1, k2, k3, c, n)
        c += 1


@jit(parallel=True, sigs=[(A4(f), A4(f), A1(f), A4(f)) for f in FLOATS])
def conv2d_unit(xp, w, bias, out):
    """xp (N, Ci, Hp, Wp) padded, w (Co, Ci, kh, kw), bias (Co,) -> ``out``
    (N, Co, Hp - kh + 1, Wp - kw + 1): valid correlation, stride 1.  (Output
    arrays come from the caller: numpy backs large ones with huge pages.)"""
    N = xp.shape[0]
    Co = w.shape[0]
    oh = out.shape[2]
    nq = Co // 4
    ng = nq + (Co - 4 * nq)  # blocks of four channels, then single channels
    for t in prange(N * ng * oh):
        _unit_row(xp, w, bias, out, np.int64(t), ng)
    return out


@jit(inline="always")
def _unit_row(xp, w, bias, out, t, ng):
    # task t of conv2d_unit: one output row of four channels (or of one)
    N, Ci, Hp, Wp = xp.shape
    Co, _, kh, kw = w.shape
    oh = out.shape[2]
    ow = out.shape[3]
    nq = Co // 4
    n = t // (ng * oh)
    rem = t - n * (ng * oh)
    blk = rem // oh  # the block of output channels: blocks of four, then single ones
    i = rem - blk * oh
    if blk < nq:
        co = 4 * blk
        r0 = out[n, co, i]
        r1 = out[n, co + 1, i]
        r2 = out[n, co + 2, i]
        r3 = out[n, co + 3, i]
        for j in range(ow):
            r0[j] = bias[co]
            r1[j] = bias[co + 1]
            r2[j] = bias[co + 2]
            r3[j] = bias[co + 3]
        for ci in range(Ci):
            for a in range(kh):
                _row_x4(r0, r1, r2, r3, xp[n, ci, i + a], w[co, ci, a], w[co + 1, ci, a],
                        w[co + 2, ci, a], w[co + 3, ci, a], kw, ow)
    else:
        co = 4 * nq + (blk - nq)
        r0 = out[n, co, i]
        for j in range(ow):
            r0[j] = bias[co]
        for ci in range(Ci):
            for a in range(kh):
                add_kernel_row(r0, xp[n, ci, i + a], w[co, ci, a], kw, np.int64(0), ow)


@jit(parallel=True, sigs=[(A4(f), A4(f), A1(f), I8, I8, I8, I8, I8, I8, A4(f)) for f in FLOATS])
def conv2d_general(x, w, bias, sh, sw, pad_top, pad_left, dh, dw, out):
    """Valid correlation of ``x`` (N, Ci, H, W), implicitly zero-padded by
    ``pad_top`` rows and ``pad_left`` columns (and as many below and right as
    ``out`` needs), with ``w`` (Co, Ci, kh, kw) at strides (sh, sw) and
    dilations (dh, dw), plus ``bias``, into ``out`` (N, Co, oh, ow)."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    oh, ow = out.shape[2], out.shape[3]
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
                r = i * sh - pad_top + a * dh
                if r < 0 or r >= H:
                    continue
                src = x[n, ci, r]
                for c in range(kw):
                    kv = w[co, ci, a, c]
                    for j in range(ow):
                        q = j * sw - pad_left + c * dw
                        if 0 <= q < W:
                            row[j] += src[q] * kv
    return out
