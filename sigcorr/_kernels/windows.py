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

from ._jit import A1, A2, A3, A4, A5, F8, FLOATS, I8, jit
from .codes import CCOEFF, CCOEFF_NORMED, CCORR, CCORR_NORMED, SQDIFF, SQDIFF_NORMED

ROWS = 64  # output rows per task (at least 2 h, so the first sums amortize)

# The degenerate-window rule, shared by every path that normalizes a score:
# this module's kernels, and through ``_twins.normed_score`` (the twin of
# ``normed_score``) match_template's ``mask=`` path and its ``nan_policy="omit"``
# path with a template mask.  A flat window scores 0 for ccoeff_normed (an
# all-zero one for ccorr_normed; 1 for sqdiff_normed), and the normalized
# scores stay inside [-1, 1] ([0, 1]), as sigcorr's design fixes:
#
# 1. A window energy computed as a difference of sums (sum I^2 - (sum I)^2 / n)
#    is known only to the rounding of those sums.  At or below that level it
#    counts as 0: ENERGY_REL of the window's own sum of squares (float64
#    rounding, 2.2e-16, times the few thousand terms such sums hold), and an
#    absolute floor the caller computes as ENERGY_ABS times the window's area
#    times the largest squared sample (the running sums carry every value of
#    a column through, each rounded at that scale).
# 2. ``normed_score``: num / den while |num| < den; by Cauchy-Schwarz
#    |num| <= den exactly, so a ratio just past 1 (below NORMED_SLACK) is
#    rounding and gives +-1; a larger one means den is itself rounding noise
#    (or 0): the window is degenerate and gets the method's fallback, 0 (1 for
#    sqdiff_normed, whose ratio may legitimately exceed 1 and is clamped to 1
#    either way).  This is OpenCV's rule.  Clipping instead would turn a flat
#    window with a little rounding left into a perfect match (+-1), and the
#    paths would disagree wherever their rounding differs.
# 3. An energy made of FFT correlations (the missing-pixel path's sums) is
#    known only to the transforms' rounding, of the order of FFT_ENERGY_F32
#    (float32) or FFT_ENERGY_F64 (float64) times the whole energy transformed:
#    at or below that it counts as 0.
ENERGY_REL = 1e-12
ENERGY_ABS = 1e-13
FFT_ENERGY_F32 = 1e-5
FFT_ENERGY_F64 = 1e-11
NORMED_SLACK = 1.125


@jit(error_model="numpy")
def normed_score(num, den, fallback):
    """num / den under the degenerate-window rule (see above); float32 in,
    float32 out (the constants are float32, exact, and widen for float64).
    Selects, no branches, so the loop over a row vectorizes."""
    a = abs(num)
    sign = np.float32(1.0) if num > 0 else np.float32(-1.0)
    r = num / den
    return r if a < den else (sign if a < den * np.float32(NORMED_SLACK) else fallback)


@jit(parallel=True, error_model="numpy",
     sigs=[(A3(f), I8, I8, A5(f), I8, I8, A2(F8), I8, A2(F8), A1(F8), A1(F8), F8, A3(f)) for f in FLOATS])
def match_scores(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out):
    """OpenCV's score for every window of ``img`` (C, H, W) and each of T
    templates of one size, into ``out`` (T, oh, ow).

    The window sums depend on the image only: each row's are computed once
    and scored against every template (a template stack shares them).
    ``cross`` (T, ny, nx, rows, cols), ``tmean`` (T, C), ``tsum2`` and
    ``tnorm`` (T,) hold per template what is described below for one.

    ``method`` is one of ``codes.SQDIFF`` .. ``codes.CCOEFF_NORMED``.
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
    for ccoeff_normed.  Window energies follow the degenerate-window rule at
    the top of this module, ``qeps`` being its absolute floor: ccorr_normed
    and ccoeff_normed give 0 where the energy counts as 0, sqdiff_normed 1.
    ``bad`` (oh, ow) counts the non-finite samples of each window (NaN
    out), or is (1, 1) when there are none.  The sums are float64; for a
    float32 ``out`` the final square root and division run in float32.
    """
    oh = out.shape[1]
    rb = max(ROWS, 2 * h)
    nblocks = (oh + rb - 1) // rb
    for b in prange(nblocks):
        i0 = np.int64(b) * rb  # (prange's index is unsigned)
        _score_rows(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out, i0, min(i0 + rb, oh))
    return out


@jit(error_model="numpy")
def _start_columns(img, i0, h, acc, acc2):
    # column sums of rows i0..i0 + h - 1: acc[c] per channel, acc2 of the squares
    for c in range(img.shape[0]):
        a = acc[c]
        for r in range(h):
            src = img[c, i0 + r]
            for j in range(a.shape[0]):
                v = np.float64(src[j])
                a[j] += v
                acc2[j] += v * v


@jit(error_model="numpy")
def _slide_columns(img, i, h, acc, acc2):
    # move the column sums down one row: row i + h - 1 enters, row i - 1 leaves
    for c in range(img.shape[0]):
        add = img[c, i + h - 1]
        sub = img[c, i - 1]
        a = acc[c]
        for j in range(a.shape[0]):
            x = np.float64(add[j])
            y = np.float64(sub[j])
            a[j] += x - y
            acc2[j] += x * x - y * y


@jit(error_model="numpy")
def _window_row(a, w, out, n):
    # out[j] = sum(a[j:j + w]), j < n, by running sums: one running sum is a
    # chain of dependent adds (one add's latency per output), so the row is
    # cut into four quarters whose running sums advance together, each from
    # its own first window's sum
    L = n // 4
    if L < 2:
        L = np.int64(0)
    s0 = s1 = s2 = s3 = 0.0
    if L > 0:
        b1, b2, b3 = L, 2 * L, 3 * L
        for k in range(w):
            s0 += a[k]
            s1 += a[b1 + k]
            s2 += a[b2 + k]
            s3 += a[b3 + k]
        out[0] = s0
        out[b1] = s1
        out[b2] = s2
        out[b3] = s3
        for j in range(1, L):
            s0 += a[j + w - 1] - a[j - 1]
            out[j] = s0
            s1 += a[b1 + j + w - 1] - a[b1 + j - 1]
            out[b1 + j] = s1
            s2 += a[b2 + j + w - 1] - a[b2 + j - 1]
            out[b2 + j] = s2
            s3 += a[b3 + j + w - 1] - a[b3 + j - 1]
            out[b3 + j] = s3
    else:  # a short row: one running sum
        for k in range(w):
            s3 += a[k]
        out[0] = s3
    for j in range(max(4 * L, 1), n):
        s3 += a[j + w - 1] - a[j - 1]
        out[j] = s3


@jit(error_model="numpy")
def _mark_bad(bad, i0, i1, out):
    # NaN where a window of rows i0..i1 holds a non-finite sample
    for i in range(i0, i1):
        brow = bad[i]
        orow = out[i]
        for j in range(orow.shape[0]):
            if brow[j] > 0.5:
                orow[j] = np.nan


@jit(error_model="numpy")
def _score_rows(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out, i0, i1):
    # output rows i0..i1 of match_scores (one task): column sums of the
    # window rows, kept running down the rows, then each row's window sums
    # (once) and every template's scores.  (The row steps stay in this body:
    # split into separate functions, they ran slower.)
    C = img.shape[0]
    T, oh, ow = out.shape
    W = ow + w - 1
    zero = np.int64(0)
    inv_area = 1.0 / np.float64(h * w)
    lowp = out.itemsize == 4
    fallback = 1.0 if method == SQDIFF_NORMED else 0.0
    acc = np.zeros((C, W))
    acc2 = np.zeros(W)
    qrow = np.empty(ow)
    mrow = np.empty(ow)
    erow = np.empty(ow)
    xrow = np.empty(ow)
    srows = np.empty((C, ow))
    crow = np.empty(ow)
    _start_columns(img, i0, h, acc, acc2)
    for i in range(i0, i1):
        if i > i0:
            _slide_columns(img, i, h, acc, acc2)
        if method != CCOEFF:
            # horizontal running sums (sequential chains: the sum of squares
            # with channel 0, then each further channel)
            for c in range(C):
                _window_row(acc[c], w, srows[c], ow)
            _window_row(acc2, w, qrow, ow)
            # the window energy (0 at rounding level), for the normed methods
            if method == CCOEFF_NORMED:
                for j in range(ow):
                    mrow[j] = srows[0, j] * srows[0, j] * inv_area
                for c in range(1, C):
                    for j in range(ow):
                        mrow[j] += srows[c, j] * srows[c, j] * inv_area
                for j in range(ow):
                    q = qrow[j]
                    e = q - mrow[j]
                    erow[j] = e if e > max(ENERGY_REL * q, qeps) else 0.0
            elif method == CCORR_NORMED or method == SQDIFF_NORMED:
                for j in range(ow):
                    erow[j] = qrow[j] if qrow[j] > qeps else 0.0
        for t in range(T):
            _unblock(cross[t], zero, by, bx, i, crow)
            orow = out[t, i]
            if method == CCOEFF:
                for j in range(ow):
                    orow[j] = crow[j]
                continue
            num = crow  # ccoeff_normed's numerator is the cross term itself
            if method != CCOEFF_NORMED:
                # sum I T = cross + sum_c tmean[c] S_c
                tc = tmean[t, 0]
                for j in range(ow):
                    xrow[j] = crow[j] + tc * srows[0, j]
                for c in range(1, C):
                    tc = tmean[t, c]
                    for j in range(ow):
                        xrow[j] += tc * srows[c, j]
                ts2 = tsum2[t]
                if method == CCORR:
                    for j in range(ow):
                        orow[j] = xrow[j]
                    continue
                if method == SQDIFF or method == SQDIFF_NORMED:
                    for j in range(ow):
                        xrow[j] = max(qrow[j] - 2.0 * xrow[j] + ts2, 0.0)
                if method == SQDIFF:
                    for j in range(ow):
                        orow[j] = xrow[j]
                    continue
                num = xrow
            # the normed methods: num / (sqrt(energy) tnorm), the degenerate-window rule
            if lowp:
                tn32 = np.float32(tnorm[t])
                fb32 = np.float32(fallback)
                for j in range(ow):
                    orow[j] = normed_score(np.float32(num[j]), np.sqrt(np.float32(erow[j])) * tn32, fb32)
            else:
                tn = tnorm[t]
                for j in range(ow):
                    orow[j] = normed_score(num[j], np.sqrt(erow[j]) * tn, fallback)
    if bad.shape[0] == oh and bad.shape[1] == ow:
        for t in range(T):
            _mark_bad(bad, i0, i1, out[t])
    return out


@jit(parallel=True, sigs=[(A2(F8), I8, I8)])
def window_sums(x, h, w):
    """Sum of every h x w window of the 2-D float64 array ``x``."""
    H, W = x.shape
    oh = H - h + 1
    ow = W - w + 1
    out = np.empty((oh, ow))
    rb = max(ROWS, 2 * h)
    nblocks = (oh + rb - 1) // rb
    for b in prange(nblocks):
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
def centre_padded(img, means, out):
    """out[c, :H, :W] = img[c] - means[c], zeros in the rest of ``out`` (C, Hp, Wp)."""
    C, H, W = img.shape
    _, Hp, Wp = out.shape
    for t in prange(C * Hp):
        c = t // Hp
        i = t - c * Hp
        orow = out[c, i]
        if i < H:
            row = img[c, i]
            mc = means[c]
            for j in range(W):
                orow[j] = row[j] - mc
            for j in range(W, Wp):
                orow[j] = 0
        else:
            for j in range(Wp):
                orow[j] = 0
    return out


@jit(parallel=True, error_model="numpy",
     sigs=[(A3(f), A2(f), A4(f), A4(f), A4(f), I8, I8, I8, I8, I8, F8, F8, F8, A2(f)) for f in FLOATS])
def omit_scores(img, pres, cross, st, qt, by, bx, h, w, method, qtol, ttol, need, out):
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
    follow the degenerate-window rule at the top of this module: the image's
    count as 0 at or below ``qtol`` (the absolute floor) or ENERGY_REL of Q,
    the template's at or below ``ttol``; a window with N < 0.5 or N <
    ``need`` - 0.5 scores NaN.  ``method`` is one of ``codes.SQDIFF`` ..
    ``codes.CCOEFF_NORMED``.
    """
    oh = out.shape[0]
    rb = max(ROWS, 2 * h)
    nblocks = (oh + rb - 1) // rb
    for b in prange(nblocks):
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
    fallback = 1.0 if method == SQDIFF_NORMED else 0.0
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
    _start_columns(img, i0, h, acc, acc2)
    for i in range(i0, i1):
        if i > i0:
            padd = pres[i + h - 1]
            psub = pres[i - 1]
            for j in range(W):
                accn[j] += np.float64(padd[j]) - np.float64(psub[j])
            _slide_columns(img, i, h, acc, acc2)
        _hsum(accn, w, nrow)
        _hsum(acc2, w, qrow)
        _unblock(cross, zero, by, bx, i, xrow)
        _unblock(qt, zero, by, bx, i, trow)
        for j in range(ow):
            trow[j] = trow[j] if trow[j] > ttol else 0.0
            qrow[j] = max(qrow[j], 0.0)
        orow = out[i]
        if method == CCORR:
            for j in range(ow):
                orow[j] = xrow[j]
        elif method == SQDIFF:
            for j in range(ow):
                orow[j] = max(qrow[j] - 2.0 * xrow[j] + trow[j], 0.0)
        elif method == SQDIFF_NORMED or method == CCORR_NORMED:
            for j in range(ow):
                num = max(qrow[j] - 2.0 * xrow[j] + trow[j], 0.0) if method == SQDIFF_NORMED else xrow[j]
                qi = qrow[j] if qrow[j] > qtol else 0.0
                orow[j] = normed_score(num, np.sqrt(qi * trow[j]), fallback)
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
            if method == CCOEFF:
                for j in range(ow):
                    orow[j] = xrow[j]
            else:
                for j in range(ow):
                    ei = eirow[j] if eirow[j] > max(ENERGY_REL * qrow[j], qtol) else 0.0
                    et = etrow[j] if etrow[j] > ttol else 0.0
                    orow[j] = normed_score(xrow[j], np.sqrt(ei * et), fallback)
        # too little overlap: NaN (N is an integer count, summed exactly)
        lim = max(need - 0.5, 0.5)
        for j in range(ow):
            if nrow[j] < lim:
                orow[j] = np.nan
    return out


@jit(parallel=True, error_model="numpy",
     sigs=[(A3(f), I8, I8, I8, A4(f), I8, A1(F8), A1(F8), A1(F8), F8, I8, A4(f)) for f in FLOATS])
def volume_scores(img, d, h, w, cross, method, tmean, tsum2, tnorm, qeps, zb, out):
    """``match_scores`` for volumes: OpenCV's six scores of T templates of
    shape (d, h, w) over the volume ``img`` (D, H, W), from the cross terms
    ``cross`` (T, od, oh, ow) (the correlation with each centred template),
    into ``out`` (T, od, oh, ow).  The window sums and sums of squares are
    running sums in float64, never stored as volumes: each task (``zb``
    output slices) keeps a running depth sum of the d slices under its
    window (a plane, updated by the slice entering and the one leaving),
    box-sums each of its rows horizontally, then runs down the rows; the
    degenerate-window rule and the templates' statistics (``tmean``,
    ``tsum2``, ``tnorm``, ``qeps``) are match_scores' (the scores are
    normalized in float64, then stored in ``out``'s dtype).  ``ccoeff``'s
    scores are the cross terms themselves: the caller does not call this."""
    od = out.shape[1]
    ntasks = (od + zb - 1) // zb
    for t in prange(ntasks):
        z0 = np.int64(t) * zb
        _volume_task(img, d, h, w, cross, method, tmean, tsum2, tnorm, qeps, out, z0, min(z0 + zb, od))
    return out


@jit(error_model="numpy")
def _volume_task(img, d, h, w, cross, method, tmean, tsum2, tnorm, qeps, out, z0, z1):
    # output slices z0..z1 of volume_scores
    _, H, W = img.shape
    T, _, oh, ow = out.shape
    inv_vol = 1.0 / np.float64(d * h * w)
    fallback = 1.0 if method == SQDIFF_NORMED else 0.0
    acc = np.zeros((H, W))
    acc2 = np.zeros((H, W))
    hs = np.empty((H, ow))
    hs2 = np.empty((H, ow))
    vs = np.empty(ow)
    vs2 = np.empty(ow)
    num = np.empty(ow)
    den = np.empty(ow)
    for e in range(d):
        _add_slice(acc, acc2, img[z0 + e], 1.0)
    for z in range(z0, z1):
        if z > z0:
            _add_slice(acc, acc2, img[z + d - 1], 1.0)
            _add_slice(acc, acc2, img[z - 1], -1.0)
        for y in range(H):
            _row_box(acc[y], acc2[y], w, hs[y], hs2[y])
        for i in range(oh):
            if i == 0:
                for j in range(ow):
                    vs[j] = 0.0
                    vs2[j] = 0.0
                for a in range(h):
                    for j in range(ow):
                        vs[j] += hs[a, j]
                        vs2[j] += hs2[a, j]
            else:
                for j in range(ow):
                    vs[j] += hs[i + h - 1, j] - hs[i - 1, j]
                    vs2[j] += hs2[i + h - 1, j] - hs2[i - 1, j]
            for t in range(T):
                orow = out[t, z, i]
                crow = cross[t, z, i]
                if method == CCOEFF_NORMED:
                    for j in range(ow):
                        q = vs2[j]
                        en = q - vs[j] * vs[j] * inv_vol
                        den[j] = en if en > max(ENERGY_REL * q, qeps) else 0.0
                        num[j] = crow[j]
                else:
                    tm = tmean[t]
                    ts2 = tsum2[t]
                    for j in range(ow):
                        x = crow[j] + tm * vs[j]
                        q = vs2[j]
                        if method == SQDIFF or method == SQDIFF_NORMED:
                            x = max(q - 2.0 * x + ts2, 0.0)
                        num[j] = x
                        den[j] = q if q > qeps else 0.0
                    if method == CCORR or method == SQDIFF:
                        for j in range(ow):
                            orow[j] = num[j]
                        continue
                tn = tnorm[t]
                for j in range(ow):
                    orow[j] = normed_score(num[j], np.sqrt(den[j]) * tn, fallback)


@jit(inline="always")
def _add_slice(acc, acc2, plane, sign):
    # acc += sign * plane, acc2 += sign * plane ** 2, in float64
    H, W = plane.shape
    for y in range(H):
        a = acc[y]
        a2 = acc2[y]
        p = plane[y]
        for x in range(W):
            v = np.float64(p[x])
            a[x] += sign * v
            a2[x] += sign * (v * v)


@jit(inline="always")
def _row_box(a, a2, w, out, out2):
    # sums of every w-sample window of the rows a and a2
    s = 0.0
    q = 0.0
    for k in range(w):
        s += a[k]
        q += a2[k]
    out[0] = s
    out2[0] = q
    for j in range(1, out.shape[0]):
        s += a[j + w - 1] - a[j - 1]
        q += a2[j + w - 1] - a2[j - 1]
        out[j] = s
        out2[j] = q
