"""Batched autocorrelation by FFT, vectorized across series.

``lag_sums_fft`` computes S[b, k] = sum_t z[b, t] z[b, t + k], k = 0..L, for
many series at once with its own power-of-two FFT, laid out so that SIMD runs
*across series*: a task takes 32 series, packs them in pairs as the real and
imaginary parts of 16 complex sequences (x1 + i x2), and stores the sequences
interleaved (sample-major, lane-minor), so every butterfly is a loop over 16
contiguous doubles (LLVM does not vectorize loops shorter than that).  Per
task:

1. load (and demean) the 32 series, zero-padded to N >= n + L (a power of
   2, so no lag <= L wraps around); or, where cheaper (``plan``), as two
   halves A and B of M = N / 2 >= L_fft samples, each zero-padded to N
   (L_fft, the last lag the transforms give, is L, or M when the few lags
   past M are cheaper summed directly, step 5);
2. forward transform(s), decimation in frequency (natural order in,
   bit-reversed order out): radix-4 passes (three complex multiplies per
   butterfly, one twiddle per row broadcast over the lanes: per-lane copies
   of the twiddles would double the cache traffic of a memory-bound pass),
   the last three stages in registers, the passes on blocks smaller than a
   tile done depth first;
3. split the two real series' spectra, X1[k] = (Z[k] + conj Z[N-k]) / 2 and
   X2[k] = (Z[k] - conj Z[N-k]) / 2i, and form G1 + i G2 with G the power
   spectrum |X|^2 (one block) or |X_A|^2 + |X_B|^2 + (-1)^k conj(X_A) X_B
   (two blocks: A against [A, B] plus B against B); G1 and G2 are the
   spectra of real sequences, so the inverse of G1 + i G2 is the lag sums
   of x1 in its real part and of x2 in its imaginary part;
4. inverse transform, decimation in time (bit-reversed in, natural order
   out), whose last pass stores only the rows of the lags 0..L_fft; then the
   scaling (adjusted, normalized) into ``out``;
5. the lags L_fft+1..L, if any, as direct sums over the series.

The work buffers (2 x N x 16 doubles per block) stay L2-resident for the
lengths this is used for, and tasks run in parallel with ``prange``.
"""

import math

import numpy as np
from numba import prange

from ._jit import A1, A2, B1, F8, I8, jit

LANES = 16  # complex sequences per task (two real series each): loops of 16 vectorize
TILE = 128  # rows per depth-first tile: 128 rows x 16 lanes x 16 bytes = 32 KiB (L1)


def fft_length(n, L):
    """The transform length: the smallest power of two >= n + L (at least 8)."""
    N = 8
    while N < n + L:
        N *= 2
    return N


@jit()
def _tables(N):
    """Twiddles for the stages with butterfly distance m >= 8, one per row
    (the butterflies broadcast it over the lanes): stage m's start at N - 2m,
    entry j < m holds exp(-2 pi i j / 2m); from N - 8 on, the same layout
    holds exp(-2 pi i 3j / 2m), j < m / 2 (the radix-4 passes' third
    twiddle).  And the bit-reversal permutation of 0..N-1."""
    size = max(2 * (N - 8), 1)
    tr = np.empty(size)
    ti = np.empty(size)
    t3 = N - 8
    m = N // 2
    while m >= 8:
        off = N - 2 * m
        for j in range(m):
            a = np.pi * j / m
            tr[off + j] = np.cos(a)
            ti[off + j] = -np.sin(a)
        for j in range(m // 2):
            a = np.pi * 3 * j / m
            tr[t3 + off + j] = np.cos(a)
            ti[t3 + off + j] = -np.sin(a)
        m //= 2
    bits = 0
    while (1 << bits) < N:
        bits += 1
    rev = np.empty(N, dtype=np.int64)
    for k in range(N):
        r = 0
        x = k
        for _ in range(bits):
            r = (r << 1) | (x & 1)
            x >>= 1
        rev[k] = r
    return tr, ti, rev


@jit(fastmath={"contract"})
def _dif_stage(re, im, N, m, tr, ti, lo, hi):
    # decimation-in-frequency butterflies at distance m (>= 8) in blocks of 2m:
    # a[j] + a[j+m], (a[j] - a[j+m]) w^j, the twiddle broadcast over the lanes
    span = m * LANES
    wr = tr[N - 2 * m:N - m]
    wi = ti[N - 2 * m:N - m]
    for blk in range(lo, hi, 2 * span):
        # slices: indices provably >= 0, so the lane loop vectorizes
        pr = re[blk:blk + span]
        pi = im[blk:blk + span]
        qr = re[blk + span:blk + 2 * span]
        qi = im[blk + span:blk + 2 * span]
        for j in range(m):
            cr = wr[j]
            ci = wi[j]
            for e in range(j * LANES, (j + 1) * LANES):
                ar = pr[e]
                ai = pi[e]
                br = qr[e]
                bi = qi[e]
                pr[e] = ar + br
                pi[e] = ai + bi
                dr = ar - br
                di = ai - bi
                qr[e] = dr * cr - di * ci
                qi[e] = dr * ci + di * cr


@jit(fastmath={"contract"})
def _dit_stage(re, im, N, m, tr, ti, rows, lo, hi):
    # decimation-in-time butterflies (conjugate twiddles) at distance m (>= 8);
    # only the first ``rows`` rows of each half block are produced on the
    # last stage (m = N/2), where only the lags 0..L are wanted
    span = m * LANES
    wr = tr[N - 2 * m:N - m]
    wi = ti[N - 2 * m:N - m]
    for blk in range(lo, hi, 2 * span):
        pr = re[blk:blk + span]
        pi = im[blk:blk + span]
        qr = re[blk + span:blk + 2 * span]
        qi = im[blk + span:blk + 2 * span]
        for j in range(min(m, rows)):
            cr = wr[j]
            ci = -wi[j]
            for e in range(j * LANES, (j + 1) * LANES):
                br = qr[e]
                bi = qi[e]
                t_r = br * cr - bi * ci
                t_i = br * ci + bi * cr
                ar = pr[e]
                ai = pi[e]
                pr[e] = ar + t_r
                pi[e] = ai + t_i
                qr[e] = ar - t_r
                qi[e] = ai - t_i


@jit(fastmath={"contract"}, inline="always")
def _dif4(a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i, w1r, w1i, w2r, w2i, w3r, w3i):
    # radix-4 DIF butterfly on the quarters of a block of 2m rows, in the
    # order of two radix-2 stages (distances m, m/2): outputs a0+a1+a2+a3,
    # (a0-a1+a2-a3) W^2j, (a0-a2 - i(a1-a3)) W^j, (a0-a2 + i(a1-a3)) W^3j,
    # W = exp(-2 pi i / 2m): three complex multiplies
    b0r = a0r + a2r
    b0i = a0i + a2i
    b1r = a1r + a3r
    b1i = a1i + a3i
    dr = a0r - a2r
    di = a0i - a2i
    er = a1r - a3r
    ei = a1i - a3i
    fr = b0r - b1r
    fi = b0i - b1i
    gr = dr + ei  # d - i e
    gi = di - er
    hr = dr - ei  # d + i e
    hi = di + er
    return (b0r + b1r, b0i + b1i, fr * w2r - fi * w2i, fr * w2i + fi * w2r,
            gr * w1r - gi * w1i, gr * w1i + gi * w1r, hr * w3r - hi * w3i, hr * w3i + hi * w3r)


@jit(inline="always")
def _twiddles3(tr, ti, N, m, j):
    # W^j, W^2j, W^3j, W = exp(-2 pi i / 2m), j < m / 2, as (re, im) pairs
    o1 = N - 2 * m + j
    o2 = N - m + j  # stage m/2's W_m^j = W^2j
    o3 = N - 8 + o1
    return tr[o1], ti[o1], tr[o2], ti[o2], tr[o3], ti[o3]


@jit(inline="always")
def _put4(re, im, p0, p1, p2, p3, c):
    # the four outputs of a radix-4 butterfly, c = (c0r, c0i, ..., c3i)
    re[p0] = c[0]
    im[p0] = c[1]
    re[p1] = c[2]
    im[p1] = c[3]
    re[p2] = c[4]
    im[p2] = c[5]
    re[p3] = c[6]
    im[p3] = c[7]


@jit(fastmath={"contract"})
def _dif_pair(re, im, N, m, tr, ti, upper_zero, lo, hi):
    # two DIF stages in one pass (distances m, then m/2; m/2 >= 8): a radix-4
    # butterfly on the quarters of each block of 2m rows, its three twiddles
    # broadcast over the lanes.  ``upper_zero``: the block's second half is
    # known to be zero (not read).  Unsigned indices into the two work arrays
    # (no negative-index handling, and only two written arrays to check for
    # overlap), and no branch in the lane loops, so they vectorize.
    q = m // 2
    span = q * LANES
    us = np.uint64(span)
    for blk in range(lo, hi, 4 * span):
        for j in range(q):
            w1r, w1i, w2r, w2i, w3r, w3i = _twiddles3(tr, ti, N, m, j)
            ub = np.uint64(blk + j * LANES)
            if upper_zero:
                for v in range(LANES):
                    p0 = ub + np.uint64(v)
                    p1 = p0 + us
                    _put4(re, im, p0, p1, p1 + us, p1 + us + us, _dif4(
                        re[p0], im[p0], re[p1], im[p1], 0.0, 0.0, 0.0, 0.0,
                        w1r, w1i, w2r, w2i, w3r, w3i))
            else:
                for v in range(LANES):
                    p0 = ub + np.uint64(v)
                    p1 = p0 + us
                    p2 = p1 + us
                    p3 = p2 + us
                    _put4(re, im, p0, p1, p2, p3, _dif4(
                        re[p0], im[p0], re[p1], im[p1], re[p2], im[p2], re[p3], im[p3],
                        w1r, w1i, w2r, w2i, w3r, w3i))


@jit(fastmath={"contract"}, inline="always")
def _dit4(a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i, w1r, w1i, w2r, w2i, w3r, w3i):
    # radix-4 DIT butterfly, conjugate twiddles, in the order of two radix-2
    # stages (distances q, 2q = m): with A1 = a1 conj W^2j, A2 = a2 conj W^j,
    # A3 = a3 conj W^3j (W = exp(-2 pi i / 2m)), the outputs are
    # a0 + A1 +- (A2 + A3) and a0 - A1 +- i (A2 - A3): three complex multiplies
    x1r = a1r * w2r + a1i * w2i
    x1i = a1i * w2r - a1r * w2i
    x2r = a2r * w1r + a2i * w1i
    x2i = a2i * w1r - a2r * w1i
    x3r = a3r * w3r + a3i * w3i
    x3i = a3i * w3r - a3r * w3i
    b0r = a0r + x1r
    b0i = a0i + x1i
    b1r = a0r - x1r
    b1i = a0i - x1i
    cr = x2r + x3r
    ci = x2i + x3i
    dr = x2r - x3r
    di = x2i - x3i
    return (b0r + cr, b0i + ci, b1r - di, b1i + dr,
            b0r - cr, b0i - ci, b1r + di, b1i - dr)


@jit(fastmath={"contract"})
def _dit_pair(re, im, N, q, tr, ti, rows, lo, hi):
    # two DIT stages in one pass (distances q >= 8, then 2q), conjugate
    # twiddles broadcast over the lanes.  ``rows`` < N: the pass ends the
    # transform (2q = N/2) and only the first ``rows`` rows (the lags) are
    # wanted: the first half of the rows is stored, and the third quarter's
    # as far as ``rows`` reaches.
    m = 2 * q
    span = q * LANES
    us = np.uint64(span)
    first = q if rows >= N else min(q, max(0, rows - 2 * q))  # j < first: all four stored
    for blk in range(lo, hi, 4 * span):
        for j in range(q):
            w1r, w1i, w2r, w2i, w3r, w3i = _twiddles3(tr, ti, N, m, j)
            ub = np.uint64(blk + j * LANES)
            if j < first:
                for v in range(LANES):
                    p0 = ub + np.uint64(v)
                    p1 = p0 + us
                    p2 = p1 + us
                    p3 = p2 + us
                    _put4(re, im, p0, p1, p2, p3, _dit4(
                        re[p0], im[p0], re[p1], im[p1], re[p2], im[p2], re[p3], im[p3],
                        w1r, w1i, w2r, w2i, w3r, w3i))
            else:
                for v in range(LANES):
                    p0 = ub + np.uint64(v)
                    p1 = p0 + us
                    p2 = p1 + us
                    p3 = p2 + us
                    c0r, c0i, c1r, c1i, c2r, c2i, c3r, c3i = _dit4(
                        re[p0], im[p0], re[p1], im[p1], re[p2], im[p2], re[p3], im[p3],
                        w1r, w1i, w2r, w2i, w3r, w3i)
                    re[p0] = c0r
                    im[p0] = c0i
                    re[p1] = c1r
                    im[p1] = c1i


_H = np.sqrt(0.5)


@jit(inline="always")
def _get8(br_, bi_, v):
    # lane v of the 8 rows of a block: (x0r, x0i, ..., x7r, x7i)
    return (br_[v], bi_[v], br_[v + LANES], bi_[v + LANES],
            br_[v + 2 * LANES], bi_[v + 2 * LANES], br_[v + 3 * LANES], bi_[v + 3 * LANES],
            br_[v + 4 * LANES], bi_[v + 4 * LANES], br_[v + 5 * LANES], bi_[v + 5 * LANES],
            br_[v + 6 * LANES], bi_[v + 6 * LANES], br_[v + 7 * LANES], bi_[v + 7 * LANES])


@jit(inline="always")
def _put8(br_, bi_, v, c):
    # lane v of the 8 rows of a block from c = (x0r, x0i, ..., x7r, x7i)
    for r in range(8):
        br_[v + r * LANES] = c[2 * r]
        bi_[v + r * LANES] = c[2 * r + 1]


@jit(fastmath={"contract"})
def _dif_last3(re, im, lo, hi):
    # the last three DIF stages (m = 4, 2, 1) on each block of 8 rows, in
    # registers; lanes are the vectorized loop
    h = _H
    for base in range(lo, hi, 8 * LANES):
        br_ = re[base:base + 8 * LANES]
        bi_ = im[base:base + 8 * LANES]
        for v in range(LANES):
            (x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i,
             x4r, x4i, x5r, x5i, x6r, x6i, x7r, x7i) = _get8(br_, bi_, v)
            # m = 4: twiddles 1, h(1 - i), -i, h(-1 - i)
            y0r = x0r + x4r
            y0i = x0i + x4i
            y1r = x1r + x5r
            y1i = x1i + x5i
            y2r = x2r + x6r
            y2i = x2i + x6i
            y3r = x3r + x7r
            y3i = x3i + x7i
            y4r = x0r - x4r
            y4i = x0i - x4i
            dr = x1r - x5r
            di = x1i - x5i
            y5r = h * (dr + di)
            y5i = h * (di - dr)
            y6r = x2i - x6i
            y6i = x6r - x2r
            dr = x3r - x7r
            di = x3i - x7i
            y7r = h * (di - dr)
            y7i = -h * (dr + di)
            # m = 2: twiddles 1, -i (on each half)
            z0r = y0r + y2r
            z0i = y0i + y2i
            z1r = y1r + y3r
            z1i = y1i + y3i
            z2r = y0r - y2r
            z2i = y0i - y2i
            z3r = y1i - y3i
            z3i = y3r - y1r
            z4r = y4r + y6r
            z4i = y4i + y6i
            z5r = y5r + y7r
            z5i = y5i + y7i
            z6r = y4r - y6r
            z6i = y4i - y6i
            z7r = y5i - y7i
            z7i = y7r - y5r
            # m = 1
            _put8(br_, bi_, v, (z0r + z1r, z0i + z1i, z0r - z1r, z0i - z1i,
                                z2r + z3r, z2i + z3i, z2r - z3r, z2i - z3i,
                                z4r + z5r, z4i + z5i, z4r - z5r, z4i - z5i,
                                z6r + z7r, z6i + z7i, z6r - z7r, z6i - z7i))


@jit(fastmath={"contract"})
def _dit_first3(re, im, lo, hi):
    # the first three DIT stages (m = 1, 2, 4, conjugate twiddles) on each
    # block of 8 rows, in registers
    h = _H
    for base in range(lo, hi, 8 * LANES):
        br_ = re[base:base + 8 * LANES]
        bi_ = im[base:base + 8 * LANES]
        for v in range(LANES):
            (x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i,
             x4r, x4i, x5r, x5i, x6r, x6i, x7r, x7i) = _get8(br_, bi_, v)
            # m = 1
            y0r = x0r + x1r
            y0i = x0i + x1i
            y1r = x0r - x1r
            y1i = x0i - x1i
            y2r = x2r + x3r
            y2i = x2i + x3i
            y3r = x2r - x3r
            y3i = x2i - x3i
            y4r = x4r + x5r
            y4i = x4i + x5i
            y5r = x4r - x5r
            y5i = x4i - x5i
            y6r = x6r + x7r
            y6i = x6i + x7i
            y7r = x6r - x7r
            y7i = x6i - x7i
            # m = 2: twiddles 1, +i
            z0r = y0r + y2r
            z0i = y0i + y2i
            z2r = y0r - y2r
            z2i = y0i - y2i
            z1r = y1r - y3i
            z1i = y1i + y3r
            z3r = y1r + y3i
            z3i = y1i - y3r
            z4r = y4r + y6r
            z4i = y4i + y6i
            z6r = y4r - y6r
            z6i = y4i - y6i
            z5r = y5r - y7i
            z5i = y5i + y7r
            z7r = y5r + y7i
            z7i = y5i - y7r
            # m = 4: twiddles 1, h(1 + i), +i, h(-1 + i)
            t5r = h * (z5r - z5i)
            t5i = h * (z5r + z5i)
            t6r = -z6i
            t6i = z6r
            t7r = -h * (z7r + z7i)
            t7i = h * (z7r - z7i)
            _put8(br_, bi_, v, (z0r + z4r, z0i + z4i, z1r + t5r, z1i + t5i,
                                z2r + t6r, z2i + t6i, z3r + t7r, z3i + t7i,
                                z0r - z4r, z0i - z4i, z1r - t5r, z1i - t5i,
                                z2r - t6r, z2i - t6i, z3r - t7r, z3i - t7i))


def plan(n, L, tail_mac):
    """(N, two_blocks, L_fft, work): the transform length; whether the series
    is cut in two blocks; the last lag the transforms give (lags L_fft+1..L are
    summed directly); and the work, in FFT points * log2(points) per series
    pair.  One block: zero-padded to N >= n + L, a forward and an inverse
    transform.  Two blocks: halves A, B of length M = N / 2 >= L_fft, each
    zero-padded to N, two forward transforms and one inverse: S = IFFT(|F_A|^2
    + |F_B|^2 + (-1)^f conj(F_A) F_B), since sum_t x[t] x[t + k] is A against
    [A, B] plus B against B.  The cheapest of one block, two blocks holding
    every lag, and two blocks of the shortest halves with the lags beyond M
    summed directly (worth it just past a power of two: n = 1024, L = 514).
    ``tail_mac``: the work of one such direct multiply-add, in FFT points *
    log2(points) (a cost-model price, ``sigcorr._costs``; plain Python, the
    caller passes it)."""
    N1 = fft_length(n, L)
    best_N = N1
    best_two = False
    best_L_fft = L
    best_work = 2.0 * N1 * math.log2(N1)
    M = 4
    while 2 * M < n:
        M *= 2
    while M < n:  # halves of M >= n / 2 samples, B not empty
        L_fft = min(L, M)
        work = 3.0 * 2 * M * math.log2(2 * M)
        for k in range(L_fft + 1, L + 1):
            work += tail_mac * 2 * (n - k)
        if work < best_work:
            best_N = 2 * M
            best_two = True
            best_L_fft = L_fft
            best_work = work
        if L_fft == L:
            break
        M *= 2
    return best_N, best_two, best_L_fft, best_work


@jit(fastmath={"reassoc", "contract"})
def _lag_dot(row, k, mu):
    # sum_t (row[t] - mu) (row[t + k] - mu), reassociated (vectorized)
    n = row.shape[0]
    a = row[:n - k]
    b = row[k:]
    s = 0.0
    for t in range(n - k):
        s += (a[t] - mu) * (b[t] - mu)
    return s


@jit(inline="always")
def _tile8(dst, src, s0, stride, t, d0, mu):
    # an 8 x 8 block of the transpose: dst[(t + i) * LANES + d0 + j] =
    # src[s0 + j * stride + t + i] - mu[j].  Scalar moves, but the block's
    # eight samples of a series share one cache line, as do its eight lanes
    # of a row, so each line is fetched once for eight moves (a strided
    # sweep down one series fetches a line per move)
    for i in range(8):
        for j in range(8):
            dst[(t + i) * LANES + d0 + j] = src[s0 + j * stride + t + i] - mu[j]


@jit(inline="always")
def _lane_values(a, k):
    # a[k], a[k + 2], ..., a[k + 14]: the values of the series in eight
    # consecutive lanes of one part (k = 16 lane8 + part), as a tuple (registers)
    return (a[k], a[k + 2], a[k + 4], a[k + 6], a[k + 8], a[k + 10], a[k + 12], a[k + 14])


@jit(inline="always")
def _untile8(of, o0, stride, lag, j, d0, fu, adj):
    # an 8 x 8 block of the transpose back: of[o0 + q * stride + j + i] =
    # lag[(j + i) * LANES + d0 + q] * fu[q] * adj[j + i]
    for q in range(8):
        for i in range(8):
            of[o0 + q * stride + j + i] = lag[(j + i) * LANES + d0 + q] * fu[q] * adj[j + i]


@jit()
def _load(dre, dim, src, base, n, rows, off, mean):
    # rows 0..rows of the lanes, minus the series' means: lane v of ``dre``
    # from series 2v (its samples off.. in ``src`` from base + 2 v n), of
    # ``dim`` from series 2v + 1
    for lane8 in range(LANES // 8):  # eight lanes at a time
        for p in range(2):
            d = dre if p == 0 else dim
            k = 16 * lane8 + p
            mu = _lane_values(mean, k)
            s0 = base + k * n + off
            t = 0
            while t + 8 <= rows:
                _tile8(d, src, s0, 2 * n, t, 8 * lane8, mu)
                t += 8
            for r in range(t, rows):
                for j in range(8):
                    d[r * LANES + 8 * lane8 + j] = src[s0 + 2 * j * n + r] - mu[j]


@jit(fastmath={"reassoc"})
def _sum(row):
    # reassociated (vectorized) sum: a dependent chain of adds waits on each
    # add's latency.
    # (Indices from 0 over a slice: with possibly negative indices LLVM
    # vectorizes the loop as gathers.)
    s = 0.0
    for t in range(row.shape[0]):
        s += row[t]
    return s


@jit(fastmath={"contract"})
def _forward(re, im, N, tr, ti, nstages, upper_zero):
    # radix-4 passes (a radix-2 stage if one is left over), then the last
    # three stages in registers.  Passes whose blocks are larger than a tile
    # run over the whole buffer (from L2); the rest tile by tile, depth
    # first, while the tile is in L1.  ``upper_zero``: rows N/2.. are zero.
    whole = N * LANES
    m = N // 2
    first = upper_zero and nstages >= 2
    while m >= 16 and 2 * m > TILE:
        _dif_pair(re, im, N, m, tr, ti, first, np.int64(0), whole)
        first = False
        m //= 4
    tile = min(TILE, N) * LANES
    for t0 in range(0, whole, tile):
        mm = m
        zero = first
        while mm >= 16:
            _dif_pair(re, im, N, mm, tr, ti, zero, t0, t0 + tile)
            zero = False
            mm //= 4
        if mm == 8:
            _dif_stage(re, im, N, np.int64(8), tr, ti, t0, t0 + tile)
        _dif_last3(re, im, t0, t0 + tile)


@jit(fastmath={"contract"})
def _inverse(re, im, N, tr, ti, nstages, rows):
    # small butterflies first: tile by tile while the blocks fit a tile,
    # then over the whole buffer; the last pass produces the first ``rows``
    whole = N * LANES
    tile = min(TILE, N) * LANES
    q = np.int64(8)  # (np.int64: a literal would compile the passes twice)
    for t0 in range(0, whole, tile):
        _dit_first3(re, im, t0, t0 + tile)
        q = np.int64(8)
        if nstages % 2 == 1:
            _dit_stage(re, im, N, q, tr, ti, rows if N == 16 else q, t0, t0 + tile)
            q = np.int64(16)
        while q < N // 2 and 4 * q <= TILE:
            _dit_pair(re, im, N, q, tr, ti, rows if 4 * q == N else N, t0, t0 + tile)
            q *= 4
    while q < N // 2:
        _dit_pair(re, im, N, q, tr, ti, rows if 4 * q == N else N, np.int64(0), whole)
        q *= 4


@jit(parallel=True, fastmath={"contract"}, sigs=[(A2(F8), I8, B1, B1, B1, A2(F8), A1(F8), I8, B1, I8)])
def lag_sums_fft(y, L, demean, adjusted, normalize, out, energy, N, two_blocks, L_fft):
    """S[b, k] = sum_t z[b, t] z[b, t + k] into ``out`` (B, L + 1) float64,
    z = y[b] minus its mean if ``demean``; y (B, n) float64, 0 <= L <= n - 1.
    ``adjusted``: S[b, k] * n / (n - k); ``normalize``: divided by lag 0 (a
    row of zeros where lag 0 is 0).  ``energy`` (B,) receives each row's lag
    0, sum_t z[b, t]**2, as computed (before any adjustment or normalization:
    the scale-free rule reads it).  (N, two_blocks, L_fft) is ``plan(n, L)``'s.
    Returns the number of series whose sum is not finite (NaN or inf
    samples: their rows are then meaningless).  (The caller allocates
    ``out`` with its pages already faulted in: ``_runtime.output_array``.)
    A thin parallel loop over tasks of 32 series; the work is in ``_task``."""
    B, n = y.shape
    tr, ti, rev = _tables(N)
    W = L + 1
    adj = np.ones(W)  # the adjustment n / (n - k)
    if adjusted:
        for k in range(W):
            adj[k] = n / (n - k)
    per = 2 * LANES
    ntask = (B + per - 1) // per
    bad = np.zeros(ntask, dtype=np.int64)
    for task in prange(ntask):
        bad[task] = _task(y, L, demean, normalize, out, energy, N, two_blocks, L_fft, tr, ti, rev, adj,
                          np.int64(task))
    return bad.sum()


@jit(fastmath={"contract"})
def _task(y, L, demean, normalize, out, energy, N, two_blocks, L_fft, tr, ti, rev, adj, task):
    # one task of lag_sums_fft: series 32 task .. 32 task + 31
    B, n = y.shape
    M = N // 2
    nstages = 0  # stages with butterfly distance >= 8
    m = N // 2
    while m >= 8:
        nstages += 1
        m //= 2
    # rows of data per buffer (two blocks: A = the first M samples, B the rest)
    rows_a = M if two_blocks else n
    rows_b = n - M if two_blocks else 0
    # the first forward pass skips a zero upper half; otherwise zero it here:
    # the buffers' rows from the data's end up to zero_end are zeroed
    upper_zero = rows_a <= N // 2 and nstages >= 2
    zero_end = N // 2 if upper_zero else N
    yf = y.ravel()  # C-contiguous (the caller's contract): a view
    W = L + 1
    of = out.ravel()  # C-contiguous too
    per = 2 * LANES
    scale = 1.0 / N
    nbad = 0
    b0 = task * per
    re = np.empty(N * LANES)
    im = np.empty(N * LANES)
    re[rows_a * LANES:zero_end * LANES] = 0.0
    im[rows_a * LANES:zero_end * LANES] = 0.0
    reb = np.empty(N * LANES if two_blocks else LANES)
    imb = np.empty(N * LANES if two_blocks else LANES)
    if two_blocks:
        reb[rows_b * LANES:zero_end * LANES] = 0.0
        imb[rows_b * LANES:zero_end * LANES] = 0.0
    # 1. load, transposed: series b0 + 2v -> real part of lane v, b0 + 2v + 1
    # -> imaginary.  The last task's missing series are zero lanes (from a
    # zero-padded copy of its series).
    if b0 + per <= B:
        src = yf
        base = b0 * n
    else:
        src = np.zeros(per * n)
        for t in range((B - b0) * n):  # (a loop: a slice copy compiles its error messages)
            src[t] = yf[b0 * n + t]
        base = 0
    mean = np.zeros(per)
    for u in range(per):
        total = _sum(src[base + u * n:base + (u + 1) * n])
        if not np.isfinite(total):  # NaN or inf: a bad series
            nbad += 1
        if demean:
            mean[u] = total / n
    _load(re, im, src, base, n, rows_a, np.int64(0), mean)  # (np.int64: a literal 0 compiles a copy)
    if two_blocks:
        _load(reb, imb, src, base, n, rows_b, M, mean)
    # 2. forward transforms
    _forward(re, im, N, tr, ti, nstages, upper_zero)
    if two_blocks:
        _forward(reb, imb, N, tr, ti, nstages, upper_zero)
    # 3. the spectrum whose inverse is S1 + i S2, in bit-reversed
    # positions (rows k and N - k as slices: the lane loop vectorizes)
    for k in range(N // 2 + 1):
        pk = rev[k] * LANES
        pn = rev[(N - k) % N] * LANES
        kr = re[pk:pk + LANES]
        ki = im[pk:pk + LANES]
        nr = re[pn:pn + LANES]
        ni = im[pn:pn + LANES]
        if not two_blocks:
            # one block: P1 + i P2, the two series' power spectra
            for v in range(LANES):
                a = kr[v]
                bb = ki[v]
                c = nr[v]
                d = ni[v]
                p1 = 0.25 * ((a + c) * (a + c) + (bb - d) * (bb - d))
                p2 = 0.25 * ((a - c) * (a - c) + (bb + d) * (bb + d))
                kr[v] = p1
                ki[v] = p2
                nr[v] = p1
                ni[v] = p2
        else:
            # two blocks: G = |F_A|^2 + |F_B|^2 + s conj(F_A) F_B per
            # series (Hermitian), packed as G1 + i G2.  Unsigned indices
            # into the four base arrays (two written): the loop vectorizes.
            sg = 1.0 if k % 2 == 0 else -1.0
            uk = np.uint64(pk)
            un = np.uint64(pn)
            for v in range(LANES):
                ik = uk + np.uint64(v)
                jn = un + np.uint64(v)
                a = re[ik]
                bb = im[ik]
                c = re[jn]
                d = im[jn]
                e_ = reb[ik]
                f_ = imb[ik]
                g_ = reb[jn]
                h_ = imb[jn]
                # the two series' spectra, doubled (the 1/4 comes last)
                x1r = a + c
                x1i = bb - d
                x2r = bb + d
                x2i = c - a
                y1r = e_ + g_
                y1i = f_ - h_
                y2r = f_ + h_
                y2i = g_ - e_
                g1r = 0.25 * (x1r * x1r + x1i * x1i + y1r * y1r + y1i * y1i
                              + sg * (x1r * y1r + x1i * y1i))
                g1i = 0.25 * sg * (x1r * y1i - x1i * y1r)
                g2r = 0.25 * (x2r * x2r + x2i * x2i + y2r * y2r + y2i * y2i
                              + sg * (x2r * y2r + x2i * y2i))
                g2i = 0.25 * sg * (x2r * y2i - x2i * y2r)
                re[ik] = g1r - g2i
                im[ik] = g1i + g2r
                re[jn] = g1r + g2i
                im[jn] = g2r - g1i
    # 4. inverse transform, only the lags 0..L_fft wanted
    _inverse(re, im, N, tr, ti, nstages, L_fft + 1)
    # each series' factor: 1/N, over its lag 0 if normalized (0 if that is 0)
    fac = np.empty(per)
    for u in range(per):
        lag = re if u % 2 == 0 else im
        fac[u] = scale
        s0 = lag[u // 2] * scale
        if b0 + u < B:
            energy[b0 + u] = s0
        if normalize:  # divide by lag 0 (the adjustment there is 1)
            fac[u] = scale / s0 if s0 != 0.0 else 0.0
    if b0 + per <= B:
        # 8 x 8 blocks of the transpose back to series rows
        for lane8 in range(LANES // 8):  # eight lanes at a time
            for p in range(2):
                lag = re if p == 0 else im
                k = 16 * lane8 + p
                fu = _lane_values(fac, k)
                o0 = (b0 + k) * W
                j = 0
                while j + 8 <= L_fft + 1:
                    _untile8(of, o0, 2 * W, lag, j, 8 * lane8, fu, adj)
                    j += 8
                for r in range(j, L_fft + 1):
                    for q in range(8):
                        of[o0 + 2 * q * W + r] = lag[r * LANES + 8 * lane8 + q] * fu[q] * adj[r]
    else:
        for u in range(B - b0):
            lag = re if u % 2 == 0 else im
            o = out[b0 + u]
            for j in range(L_fft + 1):
                o[j] = lag[j * LANES + u // 2] * fac[u] * adj[j]
    # 5. the lags past the transforms', summed directly
    for u in range(min(per, B - b0)):
        row = src[base + u * n:base + (u + 1) * n]
        for k in range(L_fft + 1, L + 1):
            out[b0 + u, k] = _lag_dot(row, k, mean[u]) * (fac[u] / scale) * adj[k]
    return nbad
