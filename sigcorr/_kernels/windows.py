"""Window statistics and OpenCV's template-matching scores, fused.

For every placement of an (h, w) window the normalized scores need the sum of
the samples of each channel and the sum of their squares.  ``match_scores``
computes them by running sums in float64 and turns them, with the cross term,
into the score right away, so no window-sum image is ever stored: each task
(a block of output rows) keeps one running vertical sum per channel (a vector
along the row, updated by adding the row entering the window and subtracting
the row leaving it, vectorized), and a running horizontal sum over it.

Callers zero non-finite samples first and count them per window with
``window_sums`` on the indicator, so NaN reaches only the windows that hold it.
"""

import numpy as np
from numba import njit, prange

ROWS = 64  # output rows per task (at least 2 h, so the first sums amortize)


@njit(cache=True, inline="always")
def _score(num, wnd2, mean2, method, tsum2, tnorm):
    # method: 0 sqdiff, 1 sqdiff_normed, 2 ccorr, 3 ccorr_normed, 4 ccoeff, 5 ccoeff_normed
    if method == 2 or method == 4:
        return num
    if method <= 1:
        num = max(wnd2 - 2.0 * num + tsum2, 0.0)
        if method == 0:
            return num
    t = np.sqrt(max(wnd2 - mean2, 0.0)) * tnorm
    if abs(num) < t:
        return num / t
    if abs(num) < t * 1.125:  # rounding just past +-1 (OpenCV's rule)
        return 1.0 if num > 0 else -1.0
    return 1.0 if method == 1 else 0.0


@njit(parallel=True, cache=True)
def match_scores(img, h, w, cross, bad, method, tsum2, tnorm, out):
    """OpenCV's score for every window of ``img`` (C, H, W), into ``out`` (oh, ow).

    ``cross`` (oh, ow): sum over the window (and channels) of image x template;
    for the ccoeff methods image and template are already centred, so it is the
    numerator itself.  ``tsum2`` = sum T^2; ``tnorm`` = sqrt(sum T^2), or
    sqrt(sum (T - mean T)^2) for ccoeff_normed.  ``bad`` (oh, ow) counts the
    non-finite samples of each window (NaN out), or is (1, 1) when there are none.
    Where the normalizing denominator is 0, ccorr_normed and ccoeff_normed
    give 0 and sqdiff_normed 1.
    """
    C, H, W = img.shape
    oh = H - h + 1
    ow = W - w + 1
    inv_area = 1.0 / (h * w)
    need_sq = method != 2 and method != 4
    check_bad = bad.shape[0] == oh and bad.shape[1] == ow
    rb = max(ROWS, 2 * h)
    nb = (oh + rb - 1) // rb
    for b in prange(nb):
        i0 = b * rb
        i1 = min(i0 + rb, oh)
        acc = np.zeros((C, W))
        acc2 = np.zeros(W)
        hs = np.empty(C)
        for c in range(C):
            for r in range(h):
                src = img[c, i0 + r]
                a = acc[c]
                for j in range(W):
                    v = np.float64(src[j])
                    a[j] += v
                    acc2[j] += v * v
        for i in range(i0, i1):
            if i > i0:
                for c in range(C):
                    add = img[c, i + h - 1]
                    sub = img[c, i - 1]
                    a = acc[c]
                    for j in range(W):
                        x = np.float64(add[j])
                        y = np.float64(sub[j])
                        a[j] += x - y
                        acc2[j] += x * x - y * y
            crow = cross[i]
            orow = out[i]
            if not need_sq:
                for j in range(ow):
                    orow[j] = crow[j]
            else:
                q = 0.0
                for c in range(C):
                    hs[c] = 0.0
                for k in range(w):
                    q += acc2[k]
                    for c in range(C):
                        hs[c] += acc[c, k]
                for j in range(ow):
                    if j > 0:
                        q += acc2[j + w - 1] - acc2[j - 1]
                        for c in range(C):
                            hs[c] += acc[c, j + w - 1] - acc[c, j - 1]
                    mean2 = 0.0
                    if method == 5:
                        for c in range(C):
                            mean2 += hs[c] * hs[c]
                        mean2 *= inv_area
                    orow[j] = _score(np.float64(crow[j]), q, mean2, method, tsum2, tnorm)
            if check_bad:
                brow = bad[i]
                for j in range(ow):
                    if brow[j] > 0.5:
                        orow[j] = np.nan
    return out


@njit(parallel=True, cache=True)
def window_sums(x, h, w):
    """Sum of every h x w window of the 2-D float64 array ``x``."""
    H, W = x.shape
    oh = H - h + 1
    ow = W - w + 1
    out = np.empty((oh, ow))
    rb = max(ROWS, 2 * h)
    nb = (oh + rb - 1) // rb
    for b in prange(nb):
        i0 = b * rb
        i1 = min(i0 + rb, oh)
        acc = np.zeros(W)
        for r in range(h):
            for j in range(W):
                acc[j] += x[i0 + r, j]
        for i in range(i0, i1):
            if i > i0:
                for j in range(W):
                    acc[j] += x[i + h - 1, j] - x[i - 1, j]
            s = 0.0
            for k in range(w):
                s += acc[k]
            out[i, 0] = s
            for j in range(1, ow):
                s += acc[j + w - 1] - acc[j - 1]
                out[i, j] = s
    return out
