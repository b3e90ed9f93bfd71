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
from numba import prange

from ._jit import A1, A2, A3, A4, F8, FLOATS, I8, jit

ROWS = 64  # output rows per task (at least 2 h, so the first sums amortize)


@jit(error_model="numpy")
def _normed(num, t, fallback):
    # num / t where |num| < t; just past +-1 by rounding (OpenCV's rule) -> +-1;
    # beyond that (t == 0: nothing to normalize by) -> fallback.  Selects, no
    # branches, so the loop over a row vectorizes.
    a = abs(num)
    sign = 1.0 if num > 0 else -1.0
    r = num / t
    return r if a < t else (sign if a < t * 1.125 else fallback)


@jit(error_model="numpy")
def _normed32(num, t, fallback):
    a = abs(num)
    sign = np.float32(1.0) if num > 0 else np.float32(-1.0)
    r = num / t
    return r if a < t else (sign if a < t * np.float32(1.125) else fallback)


@jit(parallel=True, error_model="numpy",
     sigs=[(A3(f), I8, I8, A4(f), I8, I8, A2(F8), I8, A1(F8), F8, F8, F8, A2(f)) for f in FLOATS])
def match_scores(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out):
    # method: 0 sqdiff, 1 sqdiff_normed, 2 ccorr, 3 ccorr_normed, 4 ccoeff, 5 ccoeff_normed
    """OpenCV's score for every window of ``img`` (C, H, W), into ``out`` (oh, ow).

    ``img`` may extend past the oh + h - 1 rows and ow + w - 1 columns that
    are read (zero padding for the FFT tiles).  ``cross`` (ny, nx, rows, cols)
    holds in ``cross[i, j, :by, :bx]`` the block of the cross term starting at
    output (i * by, j * bx) (one block (1, 1, oh, ow) from the direct path);
    the cross term is the cross-correlation of the image with the centred
    template T - tmean (summed over channels; the image may be shifted by any
    constant per channel, which does not change it).  The window sums S_c and
    the sum of squares Q come from ``img``: the raw image for the sqdiff and
    ccorr methods, so that sum I T = cross + sum_c tmean[c] S_c; any shifted
    copy for the ccoeff methods, whose numerator is ``cross`` itself and whose
    window energy Q - sum_c S_c^2 / area does not depend on the shift.
    ``tsum2`` = sum T^2; ``tnorm`` = sqrt(sum T^2), or sqrt(sum (T - mean T)^2)
    for ccoeff_normed.  A window energy at or below rounding level (``qeps`` for
    the raw sums; for ccoeff_normed the larger of ``qeps`` and 1e-12 of the
    window's sum of squares: the running sums' rounding grows with the values
    that went through them, so a flat window near the image mean needs the
    absolute floor)
    counts as 0: then ccorr_normed and ccoeff_normed give 0 and sqdiff_normed
    1.  ``bad`` (oh, ow) counts the non-finite samples of each window (NaN
    out), or is (1, 1) when there are none.  The sums are float64; for a
    float32 ``out`` the final square root and division run in float32.
    """
    oh = out.shape[0]
    rb = max(ROWS, 2 * h)
    nb = (oh + rb - 1) // rb
    for b in prange(nb):
        i0 = np.int64(b) * rb  # (prange's index is unsigned)
        _score_rows(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out, i0, min(i0 + rb, oh))
    return out


@jit(error_model="numpy")
def _score_rows(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out, i0, i1):
    # output rows i0..i1 of match_scores (one task)
    C = img.shape[0]
    oh, ow = out.shape
    W = ow + w - 1
    nxb = cross.shape[1]
    area = np.float64(h * w)
    inv_area = 1.0 / area
    check_bad = bad.shape[0] == oh and bad.shape[1] == ow
    lowp = out.itemsize == 4
    fallback = 1.0 if method == 1 else 0.0
    acc = np.zeros((C, W))
    acc2 = np.zeros(W)
    qrow = np.empty(ow)
    mrow = np.empty(ow)
    xrow = np.empty(ow)
    srow = np.empty(ow)
    crow = np.empty(ow)
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
        bi = i // by
        r = i - bi * by
        for bj in range(nxb):
            j0 = bj * bx
            part = cross[bi, bj, r]
            for j in range(j0, min(j0 + bx, ow)):
                crow[j] = part[j - j0]
        orow = out[i]
        if method == 4:
            for j in range(ow):
                orow[j] = crow[j]
            continue
        # horizontal running sums (sequential chains: the sum of squares
        # with channel 0, then each further channel), then vectorizable passes
        for c in range(C):
            a = acc[c]
            s = 0.0
            q = 0.0
            if c == 0:
                for k in range(w):
                    s += a[k]
                    q += acc2[k]
                srow[0] = s
                qrow[0] = q
                for j in range(1, ow):
                    s += a[j + w - 1] - a[j - 1]
                    q += acc2[j + w - 1] - acc2[j - 1]
                    srow[j] = s
                    qrow[j] = q
            else:
                for k in range(w):
                    s += a[k]
                srow[0] = s
                for j in range(1, ow):
                    s += a[j + w - 1] - a[j - 1]
                    srow[j] = s
            if method == 5:
                if c == 0:
                    for j in range(ow):
                        mrow[j] = srow[j] * srow[j] * inv_area
                else:
                    for j in range(ow):
                        mrow[j] += srow[j] * srow[j] * inv_area
            else:
                tc = tmean[c]
                if c == 0:
                    for j in range(ow):
                        xrow[j] = crow[j] + tc * srow[j]  # sum I T
                else:
                    for j in range(ow):
                        xrow[j] += tc * srow[j]
        if method == 2:
            for j in range(ow):
                orow[j] = xrow[j]
        elif method == 0:
            for j in range(ow):
                orow[j] = max(qrow[j] - 2.0 * xrow[j] + tsum2, 0.0)
        elif method == 5 and lowp:
            # ccoeff_normed into float32, in one pass
            tn32 = np.float32(tnorm)
            zero32 = np.float32(0.0)
            for j in range(ow):
                q = qrow[j]
                e = q - mrow[j]
                e = e if e > max(1e-12 * q, qeps) else 0.0
                orow[j] = _normed32(np.float32(crow[j]), np.sqrt(np.float32(e)) * tn32, zero32)
        else:
            # numerator into xrow, window energy (0 at rounding level) into qrow
            for j in range(ow):
                if method == 5:
                    xrow[j] = crow[j]
                    e = qrow[j] - mrow[j]
                    eps = max(1e-12 * qrow[j], qeps)
                else:
                    e = qrow[j]
                    eps = qeps
                    if method == 1:
                        xrow[j] = max(qrow[j] - 2.0 * xrow[j] + tsum2, 0.0)
                qrow[j] = e if e > eps else 0.0
            if lowp:
                tn32 = np.float32(tnorm)
                fb32 = np.float32(fallback)
                for j in range(ow):
                    orow[j] = _normed32(np.float32(xrow[j]), np.sqrt(np.float32(qrow[j])) * tn32, fb32)
            else:
                for j in range(ow):
                    orow[j] = _normed(xrow[j], np.sqrt(qrow[j]) * tnorm, fallback)
    if check_bad:
        for i in range(i0, i1):
            brow = bad[i]
            orow = out[i]
            for j in range(ow):
                if brow[j] > 0.5:
                    orow[j] = np.nan
    return out


@jit(parallel=True, sigs=[(A2(F8), I8, I8)])
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


@jit(parallel=True, sigs=[(A3(f), I8) for f in FLOATS])
def block_mean(img, f):
    """Means of the f x f blocks of ``img`` (C, H, W) -> (C, H // f, W // f), float64 sums."""
    C, H, W = img.shape
    Hf = H // f
    Wf = W // f
    out = np.empty((C, Hf, Wf), dtype=img.dtype)
    scale = 1.0 / (f * f)
    for t in prange(C * Hf):
        c = t // Hf
        i = t - c * Hf
        acc = np.zeros(Wf * f)
        for r in range(f):
            src = img[c, i * f + r]
            for j in range(Wf * f):
                acc[j] += src[j]
        orow = out[c, i]
        for j in range(Wf):
            s = 0.0
            for k in range(f):
                s += acc[j * f + k]
            orow[j] = s * scale
    return out


@jit(parallel=True, fastmath={"reassoc"}, sigs=[(A3(f),) for f in FLOATS])
def row_sums(img):
    """float64 sum of every row of ``img`` (C, H, W) -> (C, H); a non-finite
    sample makes its row's sum non-finite (the sums are reassociated so they
    vectorize)."""
    C, H, W = img.shape
    out = np.empty((C, H))
    for t in prange(C * H):
        c = t // H
        i = t - c * H
        row = img[c, i]
        s = 0.0
        for j in range(W):
            s += np.float64(row[j])
        out[c, i] = s
    return out


@jit(parallel=True, sigs=[(A3(f), A1(f), A3(f)) for f in FLOATS])
def centre_padded(img, g, out):
    """out[c, :H, :W] = img[c] - g[c], zeros in the rest of ``out`` (C, Hp, Wp)."""
    C, H, W = img.shape
    _, Hp, Wp = out.shape
    for t in prange(C * Hp):
        c = t // Hp
        i = t - c * Hp
        orow = out[c, i]
        if i < H:
            row = img[c, i]
            gc = g[c]
            for j in range(W):
                orow[j] = row[j] - gc
            for j in range(W, Wp):
                orow[j] = 0
        else:
            for j in range(Wp):
                orow[j] = 0
    return out


@jit(parallel=True, error_model="numpy",
     sigs=[(A3(f), A2(f), A4(f), A4(f), A4(f), I8, I8, I8, I8, I8, F8, F8, F8, A2(f)) for f in FLOATS])
def omit_scores(img, pres, cross, st, qt, by, bx, h, w, method, qtol, ttol, need, out):
    # method: 0 sqdiff, 1 sqdiff_normed, 2 ccorr, 3 ccorr_normed, 4 ccoeff, 5 ccoeff_normed
    """Scores over the present pixels of each window (match_template's
    ``nan_policy="omit"`` without a template mask), into ``out`` (oh, ow).

    ``img`` (C, H, W) is the image with missing samples zeroed (centred first
    for the ccoeff methods), ``pres`` (H, W) 1 where a pixel is present, 0
    where it is missing; both may extend past the rows and columns read.  The
    overlap count N, the window sums S_c of each channel and the sum of
    squares Q are running sums in float64, as in ``match_scores``.  The
    template side comes in as valid cross-correlations in ``match_scores``'s
    block layout ((ny, nx, rows, cols), block (i, j) at output (i * by, j *
    bx)): ``cross`` = img * T, ``qt`` = pres * sum_c T_c^2 and ``st`` (C * ny,
    nx, rows, cols), channel c's blocks first, = pres * T_c (T zero where the
    template is missing; ``st`` is read only by the ccoeff methods).  Energies
    at or below ``qtol`` * Q (image) or ``ttol`` (template) count as 0; a
    window with N < 0.5 or N < ``need`` - 0.5 scores NaN.
    """
    oh = out.shape[0]
    rb = max(ROWS, 2 * h)
    nb = (oh + rb - 1) // rb
    for b in prange(nb):
        i0 = np.int64(b) * rb
        _omit_rows(img, pres, cross, st, qt, by, bx, h, w, method, qtol, ttol, need, out, i0, min(i0 + rb, oh))
    return out


@jit(error_model="numpy")
def _hsum(a, w, out):
    # running sums of every w consecutive values of a, into out
    s = 0.0
    for k in range(w):
        s += a[k]
    out[0] = s
    for j in range(1, out.shape[0]):
        s += a[j + w - 1] - a[j - 1]
        out[j] = s


@jit(error_model="numpy")
def _unblock(blocks, b0, by, bx, i, row):
    # output row i of a block-layout map (blocks b0.. of its first axis) into row
    bi = i // by
    r = i - bi * by
    ow = row.shape[0]
    for bj in range(blocks.shape[1]):
        j0 = bj * bx
        part = blocks[b0 + bi, bj, r]
        for j in range(j0, min(j0 + bx, ow)):
            row[j] = part[j - j0]


@jit(error_model="numpy")
def _omit_rows(img, pres, cross, st, qt, by, bx, h, w, method, qtol, ttol, need, out, i0, i1):
    # output rows i0..i1 of omit_scores (one task)
    C = img.shape[0]
    oh, ow = out.shape
    W = ow + w - 1
    ny = cross.shape[0]
    zero = np.int64(0)
    fallback = 1.0 if method == 1 else 0.0
    accn = np.zeros(W)
    acc = np.zeros((C, W))
    acc2 = np.zeros(W)
    nrow = np.empty(ow)
    qrow = np.empty(ow)
    srow = np.empty(ow)
    xrow = np.empty(ow)
    trow = np.empty(ow)
    crow = np.empty(ow)
    eirow = np.empty(ow)
    etrow = np.empty(ow)
    invn = np.empty(ow)
    for r in range(h):
        prow = pres[i0 + r]
        for j in range(W):
            accn[j] += np.float64(prow[j])
        for c in range(C):
            src = img[c, i0 + r]
            a = acc[c]
            for j in range(W):
                v = np.float64(src[j])
                a[j] += v
                acc2[j] += v * v
    for i in range(i0, i1):
        if i > i0:
            padd = pres[i + h - 1]
            psub = pres[i - 1]
            for j in range(W):
                accn[j] += np.float64(padd[j]) - np.float64(psub[j])
            for c in range(C):
                add = img[c, i + h - 1]
                sub = img[c, i - 1]
                a = acc[c]
                for j in range(W):
                    x = np.float64(add[j])
                    y = np.float64(sub[j])
                    a[j] += x - y
                    acc2[j] += x * x - y * y
        _hsum(accn, w, nrow)
        _hsum(acc2, w, qrow)
        _unblock(cross, zero, by, bx, i, xrow)
        _unblock(qt, zero, by, bx, i, trow)
        for j in range(ow):
            trow[j] = trow[j] if trow[j] > ttol else 0.0
            qrow[j] = max(qrow[j], 0.0)
        orow = out[i]
        if method == 2:
            for j in range(ow):
                orow[j] = xrow[j]
        elif method == 0:
            for j in range(ow):
                orow[j] = max(qrow[j] - 2.0 * xrow[j] + trow[j], 0.0)
        elif method == 1 or method == 3:
            for j in range(ow):
                num = max(qrow[j] - 2.0 * xrow[j] + trow[j], 0.0) if method == 1 else xrow[j]
                orow[j] = _normed(num, np.sqrt(qrow[j] * trow[j]), fallback)
        else:
            # numerator and energies minus each channel's mean terms
            for j in range(ow):
                eirow[j] = qrow[j]
                etrow[j] = trow[j]
                invn[j] = 1.0 / max(nrow[j], 0.5)  # (N is an integer count)
            for c in range(C):
                _hsum(acc[c], w, srow)
                _unblock(st, c * ny, by, bx, i, crow)
                for j in range(ow):
                    s = srow[j]
                    t = crow[j]
                    inv = invn[j]
                    xrow[j] -= s * t * inv
                    eirow[j] -= s * s * inv
                    etrow[j] -= t * t * inv
            if method == 4:
                for j in range(ow):
                    orow[j] = xrow[j]
            else:
                for j in range(ow):
                    ei = eirow[j] if eirow[j] > qtol else 0.0
                    et = etrow[j] if etrow[j] > ttol else 0.0
                    orow[j] = _normed(xrow[j], np.sqrt(ei * et), fallback)
        # too little overlap: NaN (N is an integer count, summed exactly)
        lim = max(need - 0.5, 0.5)
        for j in range(ow):
            if nrow[j] < lim:
                orow[j] = np.nan
    return out
