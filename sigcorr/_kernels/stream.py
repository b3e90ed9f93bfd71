"""Streams' kernels: one push of a short chunk, done in one serial call.

A stream's push of a short chunk (an audio block, a sensor packet) is a few
microseconds of work; a parallel kernel's launch and the Python steps around
it (a history copy, a work array, the history's update) would cost as much
again.  ``corr_push`` does the whole push in one serial call, reusing
``direct``'s row passes (``add_kernel_row``: compiled once, shared with
``corr_padded``).
"""

import numpy as np

from ._jit import A2, FLOATS, jit
from .direct import add_kernel_row


@jit(fastmath={"contract"}, sigs=[(A2(f), A2(f), A2(f), A2(f), A2(f)) for f in FLOATS])
def corr_push(hist, x, work, ker, out):
    """One push of a streamed valid correlation, for each of B channels.

    ``hist`` (B, m - 1): the stream's last m - 1 samples, updated in place to
    the last m - 1 of ``hist`` followed by ``x`` (B, n); ``work`` (B, >= m -
    1 + n): scratch; ``ker`` (1, m): the correlation kernel; ``out`` (B, n):
    out[b, j] = sum_c p[b, j + c] ker[0, c], p = hist[b] then x[b].
    """
    B = x.shape[0]
    n = x.shape[1]
    m1 = hist.shape[1]
    m = ker.shape[1]
    zero = np.int64(0)  # (a literal 0 would compile add_kernel_row for it)
    for b in range(B):
        w = work[b]
        h = hist[b]
        xb = x[b]
        r = out[b]
        for j in range(m1):
            w[j] = h[j]
        for j in range(n):
            w[m1 + j] = xb[j]
        for j in range(n):
            r[j] = 0
        add_kernel_row(r, w, ker[0], m, zero, n)
        for j in range(m1):
            h[j] = w[n + j]
    return out
