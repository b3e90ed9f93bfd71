"""Network matched filtering: per-channel normalized scores, weighted and
stacked over the channels, straight into the (T, N_out) network score.

``window_norms`` computes each channel's window statistics once, for every
template (``invn``: the inverse window norm, 0 for a flat window, NaN for a
window holding a missing sample); the caller computes the cross terms
(correlations of the centred channels with the centred, unit-norm
templates, block by block: direct or overlap-save FFT); ``network_stack``
turns a block of cross terms into ccoeff_normed scores (the degenerate-window
rule of ``windows``: a ratio just past 1 is rounding and gives +-1, a larger
one a degenerate window, 0), weights them, drops the channels whose window
is missing (renormalizing the weights) and writes the stacked score of every
``step``-th output.  No per-channel score array is stored: each task keeps
one block's weighted sums (float64) in a buffer of the block's length.
"""

import numpy as np
from numba import prange

from ._jit import A1, A2, A4, F8, FLOATS, I8, jit
from .windows import ENERGY_REL, NORMED_SLACK

NORM_BLOCK = 16384  # windows per task of window_norms (its running sums restart there)


@jit(parallel=True, error_model="numpy",
     sigs=[(A4(f), I8, I8, A2(I8), A2(I8), A2(F8), A2(F8), A2(f), I8, I8, A2(f)) for f in FLOATS])
def network_stack(cross, i0, S, shift, mv, wts, itn, invn, n, step, out):
    """Stacked scores of G templates over the outputs ``i0 .. i0 + nb * S``
    (clipped to ``n``, the undecimated output count) into ``out`` (G, n_dec):
    output i (kept where i % step == 0, at ``out[g, i // step]``) is

        sum_c w[g, c] r_gc(i) / sum_c w[g, c]   over the channels whose
        ``invn[c, i + mv[g, c]]`` is not NaN (NaN when none is),

    with r_gc(i) = clamp(cross[g, c, b, r + shift[g, c]] * invn[c, i + mv[g, c]]
    * itn[g, c]) for i = i0 + b * S + r, 0 <= r < S.  ``cross`` (G, C, nb, R);
    ``wts`` the weights and ``itn`` the inverse centred-template norms (0 for
    a flat template), both (G, C); ``invn`` (C, Nw) per channel and window
    start.  Tasks: (template, block) pairs."""
    G, C, nb, R = cross.shape
    for task in prange(G * nb):
        k = np.int64(task)
        g = k // nb
        b = k - g * nb
        _stack_block(cross, g, b, i0, S, shift, mv, wts, itn, invn, n, step, out)
    return out


@jit(error_model="numpy")
def _stack_block(cross, g, b, i0, S, shift, mv, wts, itn, invn, n, step, out):
    # one (template, block) task of network_stack
    C = cross.shape[1]
    lo = i0 + b * S
    cnt = min(S, n - lo)
    if cnt <= 0:
        return
    num = np.zeros(cnt)
    den = np.zeros(cnt)
    slack = NORMED_SLACK
    for c in range(C):
        w = wts[g, c]
        if w == 0.0:
            continue
        k = itn[g, c]
        # slices first: indices from 0 up need no negative-index fix-up, so the loop vectorizes
        sh = shift[g, c]
        row = cross[g, c, b, sh:sh + cnt]
        jv = lo + mv[g, c]
        nrow = invn[c, jv:jv + cnt]
        for r in range(cnt):
            v = np.float64(nrow[r])
            x = np.float64(row[r]) * (v * k)
            a = abs(x)
            s = x if a < 1.0 else ((1.0 if x > 0 else -1.0) if a < slack else 0.0)
            ok = v == v
            num[r] += w * s if ok else 0.0
            den[r] += w if ok else 0.0
    first = (step - lo % step) % step
    k0 = (lo + first) // step  # (one integer division per block, not per output)
    kept = (cnt - first + step - 1) // step if cnt > first else 0
    orow = out[g, k0:k0 + kept]
    for q in range(kept):
        d = den[first + q * step]
        orow[q] = num[first + q * step] / d if d > 0.0 else np.nan


@jit(parallel=True, error_model="numpy", sigs=[(A2(f), I8, A1(F8), A1(F8), A2(f)) for f in FLOATS])
def window_norms(x, m, means, qeps, out):
    """Each channel's window statistics, once for every template: ``out``
    (C, n - m + 1) = 1 / sqrt(sum (x - mean)^2) over the m-sample window
    starting at each sample, the window's own mean removed (float64 running
    sums of the samples less ``means[c]``); 0 where that energy is at
    rounding level (at most ENERGY_REL of the sum of squares or ``qeps[c]``:
    the degenerate-window rule of ``windows``), NaN where the window holds a
    non-finite (missing) sample.  Tasks: (channel, NORM_BLOCK windows)."""
    C, nw = out.shape
    nblk = (nw + NORM_BLOCK - 1) // NORM_BLOCK
    for task in prange(C * nblk):
        k = np.int64(task)
        c = k // nblk
        j0 = (k - c * nblk) * NORM_BLOCK
        _norms_block(x[c], m, means[c], qeps[c], out[c], j0, min(j0 + NORM_BLOCK, nw))
    return out


@jit(error_model="numpy")
def _norms_block(row, m, mean, qeps, orow, j0, j1):
    # windows j0..j1 of one channel (one task of window_norms)
    s = 0.0
    q = 0.0
    bad = 0
    inv_m = 1.0 / m
    for k in range(j0, j0 + m):
        v = np.float64(row[k]) - mean
        if v - v == 0.0:  # finite
            s += v
            q += v * v
        else:
            bad += 1
    for j in range(j0, j1):
        if j > j0:
            v = np.float64(row[j + m - 1]) - mean
            if v - v == 0.0:
                s += v
                q += v * v
            else:
                bad += 1
            u = np.float64(row[j - 1]) - mean
            if u - u == 0.0:
                s -= u
                q -= u * u
            else:
                bad -= 1
        e = q - s * s * inv_m
        if bad > 0:
            orow[j] = np.nan
        elif e <= max(ENERGY_REL * q, qeps):
            orow[j] = 0.0
        else:
            orow[j] = 1.0 / np.sqrt(e)
