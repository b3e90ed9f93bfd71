"""Direct (non-FFT) correlation kernels.

One kernel serves 1-D and 2-D, every mode and every batch: ``corr_padded``
computes a valid-mode cross-correlation of an image that is *implicitly*
zero-padded (no padded copy is made), for a batch of planes.  Convolution is
the same with the kernel flipped, which the caller does on the (small) kernel.

Work split: ``prange`` over (plane, output row, column chunk) tasks (two
output rows per task for 7-column kernels, so that each source row is loaded
once for both).  For one task, each kernel row ``a`` adds into the output
row chunk; in the interior (where every kernel column lands inside the
image) up to eight kernel taps are applied per pass, so the innermost loop is
a contiguous, alias-free multiply-add over output columns that LLVM
vectorizes (the width is LLVM's choice for the CPU: 512-bit vectors on AMD
Zen 4, 256-bit on the Intel AVX-512 parts where wide instructions lower the
clock).
A pass sums its taps in one or two fused multiply-add chains (``contract``:
one instruction per tap instead of a multiply and an add, and the loop is
bound by its floating-point instructions) and adds that sum to the output
once, so the output's running sum is rounded once per pass.
Each tap count has its own unrolled helper (``_fmaN`` for one kernel row,
``_fmaNx2`` for two, ``_fma7_rows2`` for two output rows): a loop over the
taps inside the column loop would not vectorize over the columns (LLVM
vectorizes innermost loops), and a pass per tap would load and store the
output once per tap instead of once per pass.
The edges, where some taps fall into the padding, take a short scalar loop.
The output dtype is the accumulator: float32 stays float32.

Volumes (three or more axes): ``corr_padded_nd`` flattens the outer axes
(all but the last two) into planes; each of its tasks (plane, output rows,
column chunk) loops over the outer kernel taps and, for each tap whose source
plane lies inside the input, runs the same row passes (``_add_plane``, shared
with ``corr_padded``'s tasks) into the output rows, which stay in L1.
"""

import numpy as np
from numba import prange

from ._jit import A1, A3, A4, FLOATS, I8, jit

# Output columns per task: a float64 chunk of 4096 values is 32 KiB (L1-sized).
CHUNK = 4096


@jit(fastmath={"contract"}, inline="always")
def _fma8(r, s, k, c, n):
    # r[j] += sum_{t<8} s[j + t] k[c + t], j in [0, n)
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    k3 = k[c + 3]
    k4 = k[c + 4]
    k5 = k[c + 5]
    k6 = k[c + 6]
    k7 = k[c + 7]
    for j in range(n):
        a = s[j] * k0
        b = s[j + 1] * k1
        a += s[j + 2] * k2
        b += s[j + 3] * k3
        a += s[j + 4] * k4
        b += s[j + 5] * k5
        a += s[j + 6] * k6
        b += s[j + 7] * k7
        r[j] += a + b  # the pass's sum first: one rounding at the output's scale


@jit(fastmath={"contract"}, inline="always")
def _fma4(r, s, k, c, n):
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    k3 = k[c + 3]
    for j in range(n):
        a = s[j] * k0
        a += s[j + 1] * k1
        a += s[j + 2] * k2
        a += s[j + 3] * k3
        r[j] += a


@jit(fastmath={"contract"}, inline="always")
def _fma3(r, s, k, c, n):
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    for j in range(n):
        r[j] += s[j] * k0 + s[j + 1] * k1 + s[j + 2] * k2


@jit(fastmath={"contract"}, inline="always")
def _fma2(r, s, k, c, n):
    k0 = k[c]
    k1 = k[c + 1]
    for j in range(n):
        r[j] += s[j] * k0 + s[j + 1] * k1


@jit(fastmath={"contract"}, inline="always")
def _fma1(r, s, k, c, n):
    k0 = k[c]
    for j in range(n):
        r[j] += s[j] * k0


@jit(fastmath={"contract"}, inline="always")
def _fma4x2(r, s, u, k, q, c, n):
    # two kernel rows at once: 4 taps of k over s and 4 taps of q over u
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    k3 = k[c + 3]
    q0 = q[c]
    q1 = q[c + 1]
    q2 = q[c + 2]
    q3 = q[c + 3]
    for j in range(n):
        a = s[j] * k0
        b = u[j] * q0
        a += s[j + 1] * k1
        b += u[j + 1] * q1
        a += s[j + 2] * k2
        b += u[j + 2] * q2
        a += s[j + 3] * k3
        b += u[j + 3] * q3
        r[j] += a + b  # the pass's sum first: one rounding at the output's scale


@jit(fastmath={"contract"}, inline="always")
def _fma8x2(r, s, u, k, q, c, n):
    # 8 taps of k over s and 8 taps of q over u
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    k3 = k[c + 3]
    k4 = k[c + 4]
    k5 = k[c + 5]
    k6 = k[c + 6]
    k7 = k[c + 7]
    q0 = q[c]
    q1 = q[c + 1]
    q2 = q[c + 2]
    q3 = q[c + 3]
    q4 = q[c + 4]
    q5 = q[c + 5]
    q6 = q[c + 6]
    q7 = q[c + 7]
    for j in range(n):
        a = s[j] * k0
        b = u[j] * q0
        a += s[j + 1] * k1
        b += u[j + 1] * q1
        a += s[j + 2] * k2
        b += u[j + 2] * q2
        a += s[j + 3] * k3
        b += u[j + 3] * q3
        a += s[j + 4] * k4
        b += u[j + 4] * q4
        a += s[j + 5] * k5
        b += u[j + 5] * q5
        a += s[j + 6] * k6
        b += u[j + 6] * q6
        a += s[j + 7] * k7
        b += u[j + 7] * q7
        r[j] += a + b  # the pass's sum first: one rounding at the output's scale


@jit(fastmath={"contract"}, inline="always")
def _fma7x2(r, s, u, k, q, n):
    k0 = k[0]
    k1 = k[1]
    k2 = k[2]
    k3 = k[3]
    k4 = k[4]
    k5 = k[5]
    k6 = k[6]
    q0 = q[0]
    q1 = q[1]
    q2 = q[2]
    q3 = q[3]
    q4 = q[4]
    q5 = q[5]
    q6 = q[6]
    for j in range(n):
        a = s[j] * k0
        b = u[j] * q0
        a += s[j + 1] * k1
        b += u[j + 1] * q1
        a += s[j + 2] * k2
        b += u[j + 2] * q2
        a += s[j + 3] * k3
        b += u[j + 3] * q3
        a += s[j + 4] * k4
        b += u[j + 4] * q4
        a += s[j + 5] * k5
        b += u[j + 5] * q5
        a += s[j + 6] * k6
        b += u[j + 6] * q6
        r[j] += a + b  # the pass's sum first: one rounding at the output's scale


@jit(fastmath={"contract"}, inline="always")
def _fma7(r, s, k, n):
    k0 = k[0]
    k1 = k[1]
    k2 = k[2]
    k3 = k[3]
    k4 = k[4]
    k5 = k[5]
    k6 = k[6]
    for j in range(n):
        a = s[j] * k0
        a += s[j + 1] * k1
        a += s[j + 2] * k2
        a += s[j + 3] * k3
        a += s[j + 4] * k4
        a += s[j + 5] * k5
        a += s[j + 6] * k6
        r[j] += a


@jit(fastmath={"contract"}, inline="always")
def _fma5x2(r, s, u, k, q, n):
    k0 = k[0]
    k1 = k[1]
    k2 = k[2]
    k3 = k[3]
    k4 = k[4]
    q0 = q[0]
    q1 = q[1]
    q2 = q[2]
    q3 = q[3]
    q4 = q[4]
    for j in range(n):
        a = s[j] * k0
        b = u[j] * q0
        a += s[j + 1] * k1
        b += u[j + 1] * q1
        a += s[j + 2] * k2
        b += u[j + 2] * q2
        a += s[j + 3] * k3
        b += u[j + 3] * q3
        a += s[j + 4] * k4
        b += u[j + 4] * q4
        r[j] += a + b  # the pass's sum first: one rounding at the output's scale


@jit(fastmath={"contract"}, inline="always")
def _fma3x2(r, s, u, k, q, c, n):
    k0 = k[c]
    k1 = k[c + 1]
    k2 = k[c + 2]
    q0 = q[c]
    q1 = q[c + 1]
    q2 = q[c + 2]
    for j in range(n):
        r[j] += (s[j] * k0 + s[j + 1] * k1 + s[j + 2] * k2) + (u[j] * q0 + u[j + 1] * q1 + u[j + 2] * q2)


@jit(fastmath={"contract"}, inline="always")
def _fma2x2(r, s, u, k, q, c, n):
    k0 = k[c]
    k1 = k[c + 1]
    q0 = q[c]
    q1 = q[c + 1]
    for j in range(n):
        r[j] += (s[j] * k0 + s[j + 1] * k1) + (u[j] * q0 + u[j + 1] * q1)


@jit(fastmath={"contract"}, inline="always")
def _fma1x2(r, s, u, k, q, c, n):
    k0 = k[c]
    q0 = q[c]
    for j in range(n):
        r[j] += s[j] * k0 + u[j] * q0


@jit(fastmath={"contract"})
def add_kernel_row(r, src, krow, w, off, n):
    """r[j] += sum_c src[off + j + c] krow[c] for j in [0, n), one kernel row."""
    if w == 7:
        _fma7(r, src[off:], krow, n)
        return
    c = np.int64(0)  # (a literal 0 would compile the first pass a second time)
    while c + 8 <= w:
        _fma8(r, src[off + c:], krow, c, n)
        c += 8
    rest = w - c
    if rest >= 4:
        _fma4(r, src[off + c:], krow, c, n)
        c += 4
        rest -= 4
    if rest == 3:
        _fma3(r, src[off + c:], krow, c, n)
    elif rest == 2:
        _fma2(r, src[off + c:], krow, c, n)
    elif rest == 1:
        _fma1(r, src[off + c:], krow, c, n)


@jit(fastmath={"contract"}, inline="always")
def _add_kernel_row_pair(r, src, srd, krow, qrow, w, off, n):
    """Two kernel rows (``krow`` over ``src``, ``qrow`` over ``srd``) per pass."""
    if w == 5:
        _fma5x2(r, src[off:], srd[off:], krow, qrow, n)
        return
    if w == 7:
        _fma7x2(r, src[off:], srd[off:], krow, qrow, n)
        return
    c = np.int64(0)  # (a literal 0 would compile the first pass a second time)
    while c + 8 <= w:
        _fma8x2(r, src[off + c:], srd[off + c:], krow, qrow, c, n)
        c += 8
    while c + 4 <= w:
        _fma4x2(r, src[off + c:], srd[off + c:], krow, qrow, c, n)
        c += 4
    rest = w - c
    if rest == 3:
        _fma3x2(r, src[off + c:], srd[off + c:], krow, qrow, c, n)
    elif rest == 2:
        _fma2x2(r, src[off + c:], srd[off + c:], krow, qrow, c, n)
    elif rest == 1:
        _fma1x2(r, src[off + c:], srd[off + c:], krow, qrow, c, n)


@jit(fastmath={"contract"})
def _edge(row, src, krow, j0, j1, pad_left, W, w):
    # output columns j0..j1 of one kernel row where some taps fall into the
    # padding: only the taps inside the image
    for j in range(j0, j1):
        c0 = max(0, pad_left - j)
        c1 = min(w, W + pad_left - j)
        s = row[j] * 0
        for c in range(c0, c1):
            s += src[j + c - pad_left] * krow[c]
        row[j] += s


@jit(fastmath={"contract"}, inline="always")
def _fma7_rows2(r, q, s, k, m, n):
    # two output rows from one source row: r[j] += 7 taps of k over s and
    # q[j] += 7 taps of m over s, each source value loaded once for both
    k0 = k[0]
    k1 = k[1]
    k2 = k[2]
    k3 = k[3]
    k4 = k[4]
    k5 = k[5]
    k6 = k[6]
    m0 = m[0]
    m1 = m[1]
    m2 = m[2]
    m3 = m[3]
    m4 = m[4]
    m5 = m[5]
    m6 = m[6]
    for j in range(n):
        x = s[j]
        a = x * k0
        b = x * m0
        x = s[j + 1]
        a += x * k1
        b += x * m1
        x = s[j + 2]
        a += x * k2
        b += x * m2
        x = s[j + 3]
        a += x * k3
        b += x * m3
        x = s[j + 4]
        a += x * k4
        b += x * m4
        x = s[j + 5]
        a += x * k5
        b += x * m5
        x = s[j + 6]
        a += x * k6
        b += x * m6
        r[j] += a
        q[j] += b


@jit(fastmath={"contract"})
def _interior1(r, img, ker, bi, kb, i, pad_top, H, h, w, off, n):
    # output row i (its interior columns r): kernel rows two per pass
    a = max(0, pad_top - i)
    a1 = min(h, H + pad_top - i)
    while a + 2 <= a1:
        p = i + a - pad_top  # the source row under kernel row a
        _add_kernel_row_pair(r, img[bi, p], img[bi, p + 1], ker[kb, a], ker[kb, a + 1], w, off, n)
        a += 2
    while a < a1:
        add_kernel_row(r, img[bi, i + a - pad_top], ker[kb, a], w, off, n)
        a += 1


@jit(fastmath={"contract"})
def _interior2(r, q, img, ker, bi, kb, i, pad_top, H, h, off, n):
    # output rows i and i + 1 (interior columns r, q), 7-tap kernel rows:
    # source row p feeds row i through kernel row p - i + pad_top and row
    # i + 1 through the one before, so each source row is read once for both
    lo0 = max(0, pad_top - i)
    hi0 = min(h, H + pad_top - i)
    lo1 = max(0, pad_top - i - 1)
    hi1 = min(h, H + pad_top - i - 1)
    for p in range(min(i + lo0, i + 1 + lo1) - pad_top, max(i + hi0, i + 1 + hi1) - pad_top):
        a = p - i + pad_top
        src = img[bi, p][off:]
        if lo0 <= a < hi0 and lo1 <= a - 1 < hi1:
            _fma7_rows2(r, q, src, ker[kb, a], ker[kb, a - 1], n)
        elif lo0 <= a < hi0:
            _fma7(r, src, ker[kb, a], n)
        elif lo1 <= a - 1 < hi1:
            _fma7(q, src, ker[kb, a - 1], n)


@jit(parallel=True, fastmath={"contract"},
     sigs=[(A3(f), A3(f), A3(f), I8, I8) for f in FLOATS])
def corr_padded(img, ker, out, pad_top, pad_left):
    """out[b, i, j] = sum_{a, c} imgpad[b, i + a, j + c] * ker[kb, a, c].

    ``img`` (B, H, W), ``ker`` (Bk, h, w) with Bk in {1, B}, ``out`` (B, oh, ow);
    ``imgpad`` is ``img`` with ``pad_top`` zero rows above and ``pad_left``
    zero columns to the left (and as many below/right as the output needs).
    A thin parallel loop over the tasks; ``_task`` (inlined into it) only
    dispatches to the row functions, compiled once outside numba's parallel
    passes, which cost seconds per inlined line.
    """
    B = img.shape[0]
    oh = out.shape[1]
    ow = out.shape[2]
    nchunks = (ow + CHUNK - 1) // CHUNK
    # output rows per task: with 7-tap rows, two rows share each source row's
    # loads (the loop is bound by loads once the taps are FMA chains)
    rows = 2 if ker.shape[2] == 7 else 1
    ngroups = (oh + rows - 1) // rows
    for t in prange(B * ngroups * nchunks):
        _task(img, ker, out, pad_top, pad_left, np.int64(t), rows, ngroups, nchunks)
    return out


@jit(fastmath={"contract"}, inline="always")
def _task(img, ker, out, pad_top, pad_left, t, rows, ngroups, nchunks):
    # task t of corr_padded: ``rows`` output rows (a group) of one plane, one
    # chunk of columns
    Bk = ker.shape[0]
    oh = out.shape[1]
    ow = out.shape[2]
    bi = t // (ngroups * nchunks)
    rem = t - bi * (ngroups * nchunks)
    group = rem // nchunks
    ch = rem - group * nchunks
    js = ch * CHUNK
    je = min(js + CHUNK, ow)
    kb = bi if Bk > 1 else 0
    i0 = group * rows
    i1 = min(oh, i0 + rows)
    for i in range(i0, i1):
        row = out[bi, i]
        for j in range(js, je):
            row[j] = 0
    _add_plane(img, bi, ker, kb, out, bi, i0, i1, js, je, pad_top, pad_left)


@jit(fastmath={"contract"}, inline="always")
def _add_plane(img, p, ker, kq, out, o, i0, i1, js, je, pad_top, pad_left):
    # out[o, i0:i1, js:je] += the valid correlation of plane img[p] (implicitly
    # zero-padded) with kernel plane ker[kq]: the 2-D work of one task, shared
    # by corr_padded (one plane per output plane) and corr_padded_nd (one
    # source plane per outer kernel tap)
    H, W = img.shape[1], img.shape[2]
    h, w = ker.shape[1], ker.shape[2]
    ow = out.shape[2]
    # interior columns: every tap c in [0, w) lands inside [0, W)
    jlo = min(max(pad_left, 0), ow)
    jhi = max(min(ow, W + pad_left - w + 1), jlo)
    ilo = max(js, jlo)
    ihi = min(je, jhi)
    if ilo < ihi:
        n = ihi - ilo
        off = ilo - pad_left
        if i1 - i0 == 2:
            _interior2(out[o, i0, ilo:ihi], out[o, i0 + 1, ilo:ihi], img, ker, p, kq, i0, pad_top, H, h, off, n)
        else:
            _interior1(out[o, i0, ilo:ihi], img, ker, p, kq, i0, pad_top, H, h, w, off, n)
    # edge columns (some taps in the padding), scalar
    for i in range(i0, i1):
        row = out[o, i]
        for a in range(max(0, pad_top - i), min(h, H + pad_top - i)):
            src = img[p, i + a - pad_top]
            krow = ker[kq, a]
            if ilo < ihi:
                _edge(row, src, krow, js, ilo, pad_left, W, w)
                _edge(row, src, krow, ihi, je, pad_left, W, w)
            else:
                _edge(row, src, krow, js, je, pad_left, W, w)


@jit(parallel=True, fastmath={"contract"},
     sigs=[(A4(f), A4(f), A4(f), A1(I8), A1(I8), A1(I8), A1(I8), I8, I8) for f in FLOATS])
def corr_padded_nd(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left):
    """``corr_padded`` over three or more axes: the outer axes flattened.

    ``img`` (B, P, H, W), ``ker`` (Bk, Q, h, w) with Bk in {1, B}, ``out``
    (B, R, oh, ow): P, Q and R are the products of the outer axes' lengths
    ``sizes``, ``ksizes`` and ``osizes`` (row-major), ``pads`` their leading
    zero padding.  out[b, r] = sum over the outer kernel taps q whose source
    plane lies inside the input of the 2-D ``corr_padded`` of that plane with
    ker[kb, q]: each task (plane, output row group, column chunk) loops over
    the outer taps and runs corr_padded's row passes on each.
    """
    B = img.shape[0]
    R = out.shape[1]
    oh = out.shape[2]
    ow = out.shape[3]
    nchunks = (ow + CHUNK - 1) // CHUNK
    rows = 2 if ker.shape[3] == 7 else 1
    ngroups = (oh + rows - 1) // rows
    for t in prange(B * R * ngroups * nchunks):
        _task_nd(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left, np.int64(t), rows, ngroups,
                 nchunks)
    return out


@jit(fastmath={"contract"})
def _task_nd(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left, t, rows, ngroups, nchunks):
    # task t of corr_padded_nd: ``rows`` output rows of output plane (b, r),
    # one chunk of columns, summed over the outer kernel taps
    Bk, Q = ker.shape[0], ker.shape[1]
    R = out.shape[1]
    oh = out.shape[2]
    ow = out.shape[3]
    nax = sizes.shape[0]
    per_b = R * ngroups * nchunks
    b = t // per_b
    rem = t - b * per_b
    r = rem // (ngroups * nchunks)
    rem = rem - r * (ngroups * nchunks)
    group = rem // nchunks
    ch = rem - group * nchunks
    js = ch * CHUNK
    je = min(js + CHUNK, ow)
    kb = b if Bk > 1 else 0
    i0 = group * rows
    i1 = min(oh, i0 + rows)
    o3 = out[b]
    for i in range(i0, i1):
        row = o3[r, i]
        for j in range(js, je):
            row[j] = 0
    img3 = img[b]
    ker3 = ker[kb]
    for q in range(Q):
        # source plane of output plane r under outer tap q (row-major
        # indices, last outer axis fastest); skipped where it lies in the padding
        p = np.int64(0)
        rr = r
        qq = q
        scale = np.int64(1)
        inside = True
        for ax in range(nax - 1, -1, -1):
            o_ax = rr % osizes[ax]
            rr //= osizes[ax]
            a_ax = qq % ksizes[ax]
            qq //= ksizes[ax]
            s_ax = o_ax + a_ax - pads[ax]
            if s_ax < 0 or s_ax >= sizes[ax]:
                inside = False
                break
            p += s_ax * scale
            scale *= sizes[ax]
        if inside:
            _add_plane(img3, p, ker3, q, o3, r, i0, i1, js, je, pad_top, pad_left)
