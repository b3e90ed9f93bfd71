"""Kernel-estimator lag sums of irregularly sampled series (prange over
series): for every pair of samples i < j whose time difference lies within
the lag range, the products weighted by how close t_j - t_i lies to each
lag k * step, Gaussian (Rehfeld et al. 2011) or slotted (Edelson & Krolik
1988).  O(n * pairs within the lag range): times are sorted, and the inner
loop stops at the first sample beyond the last lag."""

import numpy as np
from numba import prange

from ._jit import A1, A2, A3, F8, I8, B1, jit

GAUSS_REACH = 5.0  # a Gaussian weight is cut off beyond this many widths (exp(-12.5): 4e-6)


@jit(parallel=True, sigs=[(A2(F8), A2(F8), A1(I8), F8, F8, B1, A3(F8))])
def kernel_lag_sums(t, x, m, step, width, gaussian, out):
    """out[b, :, k] = (sum w x_i x_j, sum w x_i^2, sum w x_j^2, sum w) over
    the pairs i < j of row b's first m[b] samples (times ``t`` sorted
    ascending, values ``x``), w the weight of t_j - t_i at lag k * step:
    exp(-(t_j - t_i - k step)^2 / (2 width^2)) (``gaussian``, cut off
    beyond GAUSS_REACH widths) or 1 where |t_j - t_i - k step| < step / 2
    (rounded to the nearer lag: slotted).  Lags 1..K (out's last axis is
    K + 1 long); lag 0 is left 0."""
    for b in prange(t.shape[0]):
        _kernel_one(t[b], x[b], m[b], step, width, gaussian, out[b])


@jit()
def _kernel_one(t, x, m, step, width, gaussian, out):
    # one row of kernel_lag_sums
    K = out.shape[1] - 1
    out[:, :] = 0.0
    if gaussian:
        cut = GAUSS_REACH * width
    else:
        cut = 0.5 * step
    reach = K * step + cut
    inv2 = 0.5 / (width * width)
    for i in range(m):
        ti = t[i]
        xi = x[i]
        for j in range(i + 1, m):
            d = t[j] - ti
            if d > reach:
                break
            xj = x[j]
            if gaussian:
                lo = max(1, np.int64(np.ceil((d - cut) / step)))
                hi = min(K, np.int64(np.floor((d + cut) / step)))
                for k in range(lo, hi + 1):
                    u = d - k * step
                    w = np.exp(-u * u * inv2)
                    out[0, k] += w * xi * xj
                    out[1, k] += w * xi * xi
                    out[2, k] += w * xj * xj
                    out[3, k] += w
            else:
                k = np.int64(np.floor(d / step + 0.5))
                if 1 <= k <= K:
                    out[0, k] += xi * xj
                    out[1, k] += xi * xi
                    out[2, k] += xj * xj
                    out[3, k] += 1.0
