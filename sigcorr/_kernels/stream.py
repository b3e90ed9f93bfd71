"""Streams' kernels: one push of a short chunk, done in one serial call.

A stream's push of a short chunk (an audio block, a sensor packet) is a few
microseconds of work; a parallel kernel's launch and the Python steps around
it (a history copy, a work array, the history's update) would cost as much
again.  ``corr_push`` does the whole push in one serial call, reusing
``direct``'s row passes (``add_kernel_row``: compiled once, shared with
``corr_padded``).

The period tracker's push (``track_push``) slides its lag sums: each new
block's pairs are added once to the sums of the blocks the window holds (the
lag window's passes, ``lags.lag_band``; or, for long windows, the inverse
transform of the two blocks' spectra, each block's transformed once when it
arrives, by a small radix-2 FFT of its own: one series, too few points for
the lane-vectorized ``acf_fft``), the window's raw sums are turned into those
of its residual (the detector's own line fit, ``acf.clean_one``) with prefix
sums in O(window + lags).
"""

import numpy as np

from ._jit import A1, A2, A3, F8, FLOATS, I8, jit
from .acf import clean_one
from .direct import add_kernel_row
from .lags import lag_band


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


# ---------------------------------------------------------------------------
# the period tracker's sliding lag sums
# ---------------------------------------------------------------------------


@jit(sigs=[(A2(F8), A2(F8), I8, A1(I8), I8, A3(F8), A3(F8), A2(F8), A1(F8), A1(I8), A1(F8), A2(F8), A2(F8))])
def track_push(y, x, first, ends, g, R, F, tw, ref, nxt, params, S, info):
    """One push of ``stream.PeriodTracker``: the lag sums of the residuals
    of the windows ending at ``ends``, slid block by block (the caller runs
    ``detect`` on them: compiled once, not into this kernel as well).

    ``y`` (B, N): the channels' samples from stream index ``first`` on (at
    least the last window before the push); ``x``: scratch of y's shape
    (the samples referenced: y - ref, missing ones 0).  The stream is cut in
    blocks of ``g`` samples; a window is nb = R.shape[1] blocks.  Per
    channel b, the state: ``R[b]`` (nb, L + 1), a ring of block rows (row i
    % nb of block i: for each lag k, sum x[s] x[s + k] over s in block i and
    s + k in blocks i..the last added, so a window's raw lag sums are the
    sum of the rows once its last block is in); ``ref[b]``, the level taken
    out of the raw sums; ``nxt[b]``, the next block to add (< 0: a new ring,
    whose reference is the first window's level); ``F[b]`` (nb, 2 N), the
    spectra of the blocks, for the block pairs summed by FFT (row i % nb:
    the DFT of block i's samples zero-padded to N, a power of two >= 2 g,
    re then im; N = 0: no pair is), and ``tw`` their transforms' tables
    (``block_twiddles(N)``).  ``params``: (spike, guard, energy_lo,
    energy_hi, by_fft...): ``robust_residuals``' spike factor, the
    expansion's guard (``_residual_sums``), the safe range of a residual's
    energy (``_validate.ENERGY_SAFE``), and for each band d of a block's
    pairs (with the block d before it), 1 if it is summed by FFT, else 0
    (directly).

    Row r = w B + b of ``S`` (the residual's lag sums) and ``info``
    (status, the window's level) is window w of channel b.  Status 0: S is
    the residual's; otherwise the caller detects the window afresh, as
    offline (1: samples dropped, or the trend too steep for the expansion,
    see ``_residual_sums``; 2: the same after the reference was moved to the
    window's level and the window's blocks added again; 3: an energy outside
    the safe range, which offline scales first).  Returns the number of
    rows left to the caller (status > 0).  Serial: a channel's
    windows are sequential, a push of one channel is too little work to pay
    for waking the other cores, and a parallel kernel costs its compile
    time again.
    """
    left = 0
    for b in range(y.shape[0]):
        left += _track_channel(y, x, first, ends, g, R, F, tw, ref, nxt, params, S, info, np.int64(b))
    return left


@jit()
def _track_channel(y, x, first, ends, g, R, F, tw, ref, nxt, params, S, info, b):
    spike, guard, energy_lo, energy_hi = params[0], params[1], params[2], params[3]
    B = y.shape[0]
    nb = R.shape[1]
    W = nb * g
    yb = y[b]
    xb = x[b]
    Rb = R[b]
    left = 0
    if nxt[b] < 0:
        off = ends[0] - W - first
        ref[b] = _level(yb[off:off + W])
        nxt[b] = ends[0] // g - nb
    _reference(yb, ref[b], xb)
    for w in range(ends.shape[0]):
        e = ends[w]
        last = e // g  # the window: blocks last - nb .. last - 1
        off = e - W - first
        r = w * B + b
        for again in range(2):
            for n in range(max(nxt[b], last - nb), last):
                _add_block(xb, first, n, last - nb, g, Rb, F[b], tw, params[4:])
            nxt[b] = last
            status, mean = _residual_sums(yb[off:off + W], xb[off:off + W], ref[b], Rb, spike, guard, S[r])
            if status != 2 or again:
                break
            # the level moved away from the reference: the window's level is
            # the new one, and the window's blocks are added again
            ref[b] = mean
            _reference(yb, ref[b], xb)
            nxt[b] = last - nb
        if status == 0 and not (energy_lo <= S[r, 0] <= energy_hi):
            status = 3.0
        info[r, 0] = status
        info[r, 1] = mean
        if status != 0:
            left += 1
    return left


@jit()
def _level(v):
    # the mean of the finite samples of v (0 if none)
    s = 0.0
    c = 0.0
    for t in range(v.shape[0]):
        if np.isfinite(v[t]):
            s += v[t]
            c += 1.0
    return s / c if c > 0 else 0.0


@jit()
def _reference(y, ref, x):
    # x = y - ref, 0 where y is missing
    for t in range(y.shape[0]):
        v = y[t] - ref
        x[t] = v if np.isfinite(v) else 0.0


def block_twiddles(N):
    """``_fft_dit_inverse``'s tables for transforms of N points (a power of
    two): (3, N), rows 0 and 1 the cosines and sines of its twiddles (the
    stage of butterfly distance h reads entries h + j, j < h, of exp(-i pi j
    / h): contiguous per stage, so its butterflies' loop vectorizes), row 2
    the bit-reversal permutation (its input order).  Made once per tracker,
    in NumPy, to full precision."""
    tw = np.zeros((3, max(N, 1)))
    h = 1
    while h < N:
        ang = -np.pi * np.arange(h) / h
        tw[0, h:2 * h] = np.cos(ang)
        tw[1, h:2 * h] = np.sin(ang)
        tw[2, h:2 * h] = 2 * tw[2, :h] + 1  # (bit reversal of k + h from that of k)
        tw[2, :h] *= 2
        h *= 2
    return tw


@jit(fastmath={"contract"})
def _add_block(x, first, n, lo_block, g, R, F, tw, by_fft):
    # block n into the ring R (nb, L + 1): its row zeroed, then its pairs with
    # the blocks i = n - d >= lo_block before it (and itself), by lag bands
    # (d - 1) g < k < (d + 1) g: directly (lag_band), or where by_fft[d],
    # as the inverse transform of the product of the two blocks' spectra
    # (_band_fft; F: block n's made here, _real_spectrum).  One band per
    # inverse: packing two (as its real and imaginary parts) would tie a
    # band's rounding to which other bands the ring holds, and a ring made
    # again from the window (a pickle, a moved reference) would then differ
    # in the last bit from the one that slid
    nb = R.shape[0]
    L1 = R.shape[1]
    N = F.shape[1] // 2
    row = R[n % nb]
    for k in range(L1):
        row[k] = 0.0
    xn = n * g - first
    fn = F[n % nb]
    z = np.empty(2 * N)
    if N > 0:
        _real_spectrum(x[xn:xn + g], fn, z, tw)
    for d in range(min(nb, (L1 - 1) // g + 2)):
        i = n - d
        kmin = max(0, d * g - g + 1)
        kmax = min(L1 - 1, d * g + g - 1)
        if i < lo_block or i < 0 or kmin > kmax:
            continue
        r = R[i % nb, kmin:kmax + 1]
        if N == 0 or by_fft[d] == 0:
            xi = i * g - first
            lag_band(r, x[xn:xn + g], x[xi:xi + g], kmin - d * g)
        else:
            _band_fft(F[i % nb], fn, z, tw, r, kmin - d * g)


@jit(fastmath={"contract"})
def _real_spectrum(x, f, z, tw):
    # f (2 N): the N-point DFT X of x (real, at most N samples, zero-padded),
    # re then im, natural order, from the N / 2-point transform of y = x[0::2]
    # + i x[1::2] (z: scratch, 2 N): X[k] = E[k] + W^k O[k], W = exp(-2 pi
    # i / N), E = (Y[k] + conj Y[N/2 - k]) / 2, O = (Y[k] - conj Y[N/2 - k])
    # / 2i.  The inverse transform computes conj(Y) from conj(y).
    N = f.shape[0] // 2
    M = N // 2
    rev = tw[2]  # (bit reversal over M points: half that over N, for k < M)
    zr = z[:M]
    zi = z[M:N]
    for m in range(M):
        zr[m] = 0.0
        zi[m] = 0.0
    g = x.shape[0]
    for m in range((g + 1) // 2):
        q = np.int64(rev[m]) // 2
        zr[q] = x[2 * m]
        if 2 * m + 1 < g:
            zi[q] = -x[2 * m + 1]
    _fft_dit_inverse(zr, zi, tw)  # conj(Y)
    fr = f[:N]
    fi = f[N:]
    # k = 0 and k = M: Y[0] alone, W^0 = 1, W^M = -1
    fr[0] = zr[0] - zi[0]  # E + O, both real: Re Y[0] + Im Y[0]
    fi[0] = 0.0
    fr[M] = zr[0] + zi[0]
    fi[M] = 0.0
    for k in range(1, M):
        yr = zr[k]
        yi = -zi[k]
        cr = zr[M - k]  # conj(Y[M - k])
        ci = zi[M - k]
        er = 0.5 * (yr + cr)
        ei = 0.5 * (yi + ci)
        o_r = 0.5 * (yi - ci)
        o_i = -0.5 * (yr - cr)
        wr = tw[0, M + k]
        wi = tw[1, M + k]
        tr = wr * o_r - wi * o_i
        ti = wr * o_i + wi * o_r
        fr[k] = er + tr
        fi[k] = ei + ti
        fr[N - k] = er + tr
        fi[N - k] = -(ei + ti)


@jit(fastmath={"contract"})
def _band_fft(fa, fb, z, tw, r, u0):
    # r[l] += sum_s a[s] b[s + u0 + l] (lag_band's sums) from the spectra fa,
    # fb of the blocks a, b: the circular correlation c = IDFT(conj(A) B),
    # by an N / 2-point transform, as _real_spectrum in reverse: c[0::2] + i
    # c[1::2] = IDFT(E2 + i O2), E2 = G[k] + G[k + N/2], O2 = (G[k] - G[k +
    # N/2]) W^-k (times 2, and the transform's sum is N / 2 times the
    # inverse: N c); c[u mod N] is the sum at offset u
    N = fa.shape[0] // 2
    M = N // 2
    rev = tw[2]
    zr = z[:M]
    zi = z[M:N]
    for k in range(M):
        ar = fa[k]
        ai = fa[N + k]
        br = fb[k]
        bi = fb[N + k]
        g0r = ar * br + ai * bi
        g0i = ar * bi - ai * br
        ar = fa[M + k]
        ai = fa[N + M + k]
        br = fb[M + k]
        bi = fb[N + M + k]
        dr = g0r - (ar * br + ai * bi)
        di = g0i - (ar * bi - ai * br)
        wr = tw[0, M + k]
        wi = tw[1, M + k]
        tr = dr * wr + di * wi  # (G0 - G1) conj(W^k)
        ti = di * wr - dr * wi
        q = np.int64(rev[k]) // 2
        zr[q] = 2.0 * g0r - dr - ti  # E2 + i O2, E2 = 2 G0 - (G0 - G1)
        zi[q] = 2.0 * g0i - di + tr
    _fft_dit_inverse(zr, zi, tw)
    c = z[N:]  # (the circular correlation, times N, unpacked)
    for m in range(M):
        c[2 * m] = zr[m]
        c[2 * m + 1] = zi[m]
    n = r.shape[0]
    scale = 1.0 / N
    neg = min(n, max(0, -u0))  # offsets u < 0 sit at N + u
    for j in range(neg):
        r[j] += c[N + u0 + j] * scale
    for j in range(neg, n):
        r[j] += c[u0 + j] * scale


@jit(fastmath={"contract"})
def _fft_dit_inverse(re, im, tw):
    # N times the inverse DFT, in place, radix 2, decimation in time:
    # bit-reversed order in (tw[2]), natural order out; the stages of
    # butterfly distance h >= 8 vectorized along the butterflies, the first
    # three (too short to) in registers
    N = re.shape[0]
    h = 1
    if N >= 8:
        _dit_first3(re, im, tw)
        h = 8
    while h < N:
        wr = tw[0, h:2 * h]
        wi = tw[1, h:2 * h]
        for s in range(0, N, 2 * h):
            ar = re[s:s + h]
            ai = im[s:s + h]
            br = re[s + h:s + 2 * h]
            bi = im[s + h:s + 2 * h]
            for j in range(h):
                tr = br[j] * wr[j] + bi[j] * wi[j]
                ti = bi[j] * wr[j] - br[j] * wi[j]
                br[j] = ar[j] - tr
                bi[j] = ai[j] - ti
                ar[j] += tr
                ai[j] += ti
        h *= 2


@jit(fastmath={"contract"})
def _dit_first3(re, im, tw):
    # the stages h = 1, 2, 4 of _fft_dit_inverse, eight points at a time in registers
    c1r = tw[0, 5]
    c1i = tw[1, 5]
    c2r = tw[0, 6]
    c2i = tw[1, 6]
    c3r = tw[0, 7]
    c3i = tw[1, 7]
    dr_ = tw[0, 3]
    di_ = tw[1, 3]
    for s in range(0, re.shape[0], 8):
        x = re[s:s + 8]
        y = im[s:s + 8]
        # h = 1
        b0r = x[0] + x[1]
        b0i = y[0] + y[1]
        b1r = x[0] - x[1]
        b1i = y[0] - y[1]
        b2r = x[2] + x[3]
        b2i = y[2] + y[3]
        b3r = x[2] - x[3]
        b3i = y[2] - y[3]
        b4r = x[4] + x[5]
        b4i = y[4] + y[5]
        b5r = x[4] - x[5]
        b5i = y[4] - y[5]
        b6r = x[6] + x[7]
        b6i = y[6] + y[7]
        b7r = x[6] - x[7]
        b7i = y[6] - y[7]
        # h = 2 (conjugate twiddles)
        a0r = b0r + b2r
        a0i = b0i + b2i
        a2r = b0r - b2r
        a2i = b0i - b2i
        tr = b3r * dr_ + b3i * di_
        ti = b3i * dr_ - b3r * di_
        a1r = b1r + tr
        a1i = b1i + ti
        a3r = b1r - tr
        a3i = b1i - ti
        a4r = b4r + b6r
        a4i = b4i + b6i
        a6r = b4r - b6r
        a6i = b4i - b6i
        tr = b7r * dr_ + b7i * di_
        ti = b7i * dr_ - b7r * di_
        a5r = b5r + tr
        a5i = b5i + ti
        a7r = b5r - tr
        a7i = b5i - ti
        # h = 4
        x[0] = a0r + a4r
        y[0] = a0i + a4i
        x[4] = a0r - a4r
        y[4] = a0i - a4i
        tr = a5r * c1r + a5i * c1i
        ti = a5i * c1r - a5r * c1i
        x[1] = a1r + tr
        y[1] = a1i + ti
        x[5] = a1r - tr
        y[5] = a1i - ti
        tr = a6r * c2r + a6i * c2i
        ti = a6i * c2r - a6r * c2i
        x[2] = a2r + tr
        y[2] = a2i + ti
        x[6] = a2r - tr
        y[6] = a2i - ti
        tr = a7r * c3r + a7i * c3i
        ti = a7i * c3r - a7r * c3i
        x[3] = a3r + tr
        y[3] = a3i + ti
        x[7] = a3r - tr
        y[7] = a3i - ti


@jit()
def _residual_sums(yw, xw, ref, R, spike, guard, s):
    # the lag sums s of the residual of the window yw (the detector's: yw less
    # the line a + c t that clean_one fits) from the raw sums of xw = yw - ref
    # (the sum of the ring's rows): returns (status, the window's level).
    # With r = x - (a - ref) - c t, sum r_t r_{t+k} expands into the raw sum,
    # less the line's cross terms (prefix sums of x and t x), plus the line's
    # own sums (closed forms).  The expansion adds numbers as large as the
    # raw energy E (x's and the line's); it is trusted (status 0) only when E
    # <= guard * s[0]: its rounding then stays far below the 1e-10 the
    # offline call is matched to.  Status 1: a sample was dropped (NaN, a
    # spike), or E is too large for a reason moving the reference would not
    # cure (the line's slope); 2: the level is far from the reference.
    W = yw.shape[0]
    nb = R.shape[0]
    L1 = R.shape[1]
    Wf = np.float64(W)
    z = np.empty(W)
    kept, a, c = clean_one(yw, z, W, spike)
    mean = a + c * (Wf - 1.0) / 2.0
    if kept < Wf:
        return 1.0, mean
    for k in range(L1):
        s[k] = 0.0
    for q in range(nb):
        rq = R[q]
        for k in range(L1):
            s[k] += rq[k]
    # prefix sums P0[j] = sum_{t < j} x_t (p0), P1[j + 1] = sum_{t <= j} t x_t (in z)
    p0 = np.empty(W + 1)
    p1 = z
    a0 = 0.0
    a1 = 0.0
    p0[0] = 0.0
    for t in range(W):
        a0 += xw[t]
        a1 += np.float64(t) * xw[t]
        p0[t + 1] = a0
        p1[t] = a1
    al = a - ref
    energy = s[0]
    for k in range(L1):
        n = Wf - k
        kf = np.float64(k)
        st = n * (n - 1.0) / 2.0
        st2 = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0
        P1k = p1[k - 1] if k > 0 else 0.0
        head = (al + c * kf) * p0[W - k] + c * p1[W - k - 1]  # sum_{t < W - k} x_t (al + c (t + k))
        tail = (al - c * kf) * (p0[W] - p0[k]) + c * (a1 - P1k)  # sum_{t >= k} x_t (al + c (t - k))
        line = n * al * al + 2.0 * al * c * st + c * c * st2 + c * kf * (n * al + c * st)
        s[k] = s[k] - head - tail + line
        if k == 0:
            energy += line
    if energy <= guard * s[0] and s[0] > 0.0:
        return 0.0, mean
    # the level's share of the line's energy against the slope's
    lv = mean - ref
    return (2.0 if Wf * lv * lv > c * c * Wf * (Wf * Wf - 1.0) / 12.0 else 1.0), mean
