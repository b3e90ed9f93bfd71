"""Direct (non-FFT) correlation kernels.

One kernel serves 1-D, 2-D and N-D, every mode and every batch:
``corr_padded`` computes a valid-mode cross-correlation of an input that is
*implicitly* zero-padded (no padded copy is made), for a batch of planes
(volumes: the outer axes flattened into planes, each output plane the sum
over the outer kernel taps of 2-D correlations).  Convolution is the same
with the kernel flipped, which the caller does on the (small) kernel.

Work split: ``prange`` over (batch entry and output plane, output row group,
column chunk) tasks (three output rows per task for 7-column kernels, so that
each source row is loaded once for all three).  For one task, each kernel row
``a`` adds into the output row chunk; in the interior (where every kernel
column lands inside the image) up to eight kernel taps are applied per pass,
so the innermost loop is a contiguous, alias-free multiply-add over output
columns that LLVM vectorizes (the width is LLVM's choice for the CPU: 512-bit
vectors on AMD Zen 4, 256-bit on the Intel AVX-512 parts where wide
instructions lower the clock).
A pass sums its taps in one or two fused multiply-add chains (``contract``:
one instruction per tap instead of a multiply and an add, and the loop is
bound by its floating-point instructions) and adds that sum to the output
once, so the output's running sum is rounded once per pass.
Each tap count has its own unrolled helper (``_fmaN`` for one kernel row,
``_fmaNx2`` for two, ``_fma7_rows3`` for three output rows): a loop over the
taps inside the column loop would not vectorize over the columns (LLVM
vectorizes innermost loops), and a pass per tap would load and store the
output once per tap instead of once per pass.
The edge columns, where some taps fall into the padding, take the same passes
over a zero-extended copy of the few source columns they read.
The output dtype is the accumulator: float32 stays float32.
"""

import numpy as np
from numba import prange

from ._jit import A1, A4, FLOATS, I8, jit

# Output columns per task: a float64 chunk of 4096 values is 32 KiB (L1-sized).
CHUNK = 4096
# An edge (the output columns whose taps reach the padding) of a task holding
# at least this many multiply-adds is computed over a zero-extended copy (a
# 7 x 7 kernel's three columns of three rows: 441); fewer (a 3 x 3 kernel's
# one column, once per outer tap of a volume's) stay with the scalar loop,
# cheaper than the copy's allocation
STRIP_MACS = 256


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
    # padding: only the taps inside the image (summed onto the output itself:
    # a zero made as row[j] * 0 would be NaN where row[j] already holds an inf)
    for j in range(j0, j1):
        c0 = max(0, pad_left - j)
        c1 = min(w, W + pad_left - j)
        s = row[j]
        for c in range(c0, c1):
            s += src[j + c - pad_left] * krow[c]
        row[j] = s


@jit(fastmath={"contract"}, inline="always")
def _fma7_rows3(r, q, u, s, k, m, g, n):
    # three output rows from one source row (7 taps of k, m and g over s):
    # each source value loaded once for 21 multiply-adds, the 21 taps and
    # three sums still within the vector registers
    k0, k1, k2, k3, k4, k5, k6 = k[0], k[1], k[2], k[3], k[4], k[5], k[6]
    m0, m1, m2, m3, m4, m5, m6 = m[0], m[1], m[2], m[3], m[4], m[5], m[6]
    g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
    for j in range(n):
        x = s[j]
        a = x * k0
        b = x * m0
        c = x * g0
        x = s[j + 1]
        a += x * k1
        b += x * m1
        c += x * g1
        x = s[j + 2]
        a += x * k2
        b += x * m2
        c += x * g2
        x = s[j + 3]
        a += x * k3
        b += x * m3
        c += x * g3
        x = s[j + 4]
        a += x * k4
        b += x * m4
        c += x * g4
        x = s[j + 5]
        a += x * k5
        b += x * m5
        c += x * g5
        x = s[j + 6]
        a += x * k6
        b += x * m6
        c += x * g6
        r[j] += a
        q[j] += b
        u[j] += c


@jit(fastmath={"contract"})
def _interior1(r, src, s0, ker, kb, i, pad_top, H, h, w, off, n):
    # output row i (its columns r): kernel rows two per pass; source row p
    # is src[p - s0] (the image's plane, or a task's zero-extended strip),
    # read from column off
    a = max(0, pad_top - i)
    a1 = min(h, H + pad_top - i)
    while a + 2 <= a1:
        p = i + a - pad_top - s0  # the source row under kernel row a
        _add_kernel_row_pair(r, src[p], src[p + 1], ker[kb, a], ker[kb, a + 1], w, off, n)
        a += 2
    while a < a1:
        add_kernel_row(r, src[i + a - pad_top - s0], ker[kb, a], w, off, n)
        a += 1


@jit(fastmath={"contract"})
def _interior7(out, o, i0, i1, c0, n, src, s0, ker, kb, pad_top, H, off):
    # output rows i0 .. i1 - 1 (up to three) of plane o, columns c0 .. c0 + n,
    # 7-tap kernel rows: source row p (src[p - s0], from column off) feeds
    # output row i through kernel row p - i + pad_top, so each source row is
    # read once for every output row it reaches
    plo = max(0, i0 - pad_top)
    phi = min(H, i1 - 1 - pad_top + ker.shape[1])
    for p in range(plo, phi):
        # the output rows i0 + q it reaches: 0 <= p - (i0 + q) + pad_top < h
        qlo = max(0, p + pad_top - i0 - ker.shape[1] + 1)
        qhi = min(i1 - i0, p + pad_top - i0 + 1)
        a = p + pad_top - i0 - qlo  # the kernel row for output row i0 + qlo
        s = src[p - s0][off:]
        r = out[o, i0 + qlo, c0:c0 + n]
        if qhi - qlo == 3:
            _fma7_rows3(r, out[o, i0 + qlo + 1, c0:c0 + n], out[o, i0 + qlo + 2, c0:c0 + n], s, ker[kb, a],
                        ker[kb, a - 1], ker[kb, a - 2], n)
        else:  # the first and last source rows of a group reach fewer output rows
            for q in range(qlo, qhi):
                add_kernel_row(out[o, i0 + q, c0:c0 + n], src[p - s0], ker[kb, p + pad_top - i0 - q], 7, off, n)


@jit(inline="always")
def _rows_per_task(w):
    # output rows per task: with 7-tap rows, three rows share each source
    # row's loads (the passes are bound by loads once the taps are FMA chains)
    return 3 if w == 7 else 1


@jit(fastmath={"contract"}, inline="always")
def _add_plane(img, p, ker, kq, out, o, i0, i1, js, je, pad_top, pad_left):
    # out[o, i0:i1, js:je] += the valid correlation of plane img[p] (implicitly
    # zero-padded) with kernel plane ker[kq]: the 2-D work of one task for
    # one outer kernel tap
    H, W = img.shape[1], img.shape[2]
    h, w = ker.shape[1], ker.shape[2]
    ow = out.shape[2]
    # interior columns: every tap c in [0, w) lands inside [0, W)
    jlo = min(max(pad_left, 0), ow)
    jhi = max(min(ow, W + pad_left - w + 1), jlo)
    ilo = max(js, jlo)
    ihi = min(je, jhi)
    if ilo >= ihi:
        ilo = ihi = je  # no interior: the whole chunk is one edge
    # edge columns (some taps in the padding): where they hold enough
    # multiply-adds to repay a copy (a wide kernel's), the interior's passes
    # over a copy of the source rows' stretch they read, zero-extended;
    # else (a few taps, or a NaN or inf tap, which must not meet the
    # padding: 0 * inf is NaN) a scalar loop over the taps inside
    finite = -1  # (not checked yet)
    for part in range(3):  # left edge, interior, right edge (one call site of the passes)
        e0 = js if part == 0 else (ilo if part == 1 else ihi)
        e1 = ilo if part == 0 else (ihi if part == 1 else je)
        if e0 >= e1:
            continue
        src = img[p]
        s0 = np.int64(0)
        off = e0 - pad_left
        if part != 1:
            if finite < 0:
                finite = 1 if (e1 - e0) * (i1 - i0) * h * w >= STRIP_MACS and _finite(ker, kq) else 0
            if finite == 0:
                for i in range(i0, i1):
                    row = out[o, i]
                    for a in range(max(0, pad_top - i), min(h, H + pad_top - i)):
                        _edge(row, img[p, i + a - pad_top], ker[kq, a], e0, e1, pad_left, W, w)
                continue
            s0 = max(s0, i0 - pad_top)
            src = _strip(src, s0, min(H, i1 - 1 - pad_top + h), off, e1 - e0 + w - 1)
            off = 0
        _add_rows(out, o, i0, i1, e0, e1 - e0, src, s0, ker, kq, pad_top, H, off)


@jit()
def _finite(ker, kq):
    # whether every tap of kernel plane kq is finite
    for a in range(ker.shape[1]):
        for c in range(ker.shape[2]):
            if not np.isfinite(ker[kq, a, c]):
                return False
    return True


@jit()
def _strip(src, r0, r1, c0, width):
    # rows r0 .. r1 of src, columns c0 .. c0 + width, zero outside src
    W = src.shape[1]
    buf = np.zeros((max(r1 - r0, 0), width), dtype=src.dtype)
    for q in range(r0, r1):
        srow = src[q]
        brow = buf[q - r0]
        for c in range(max(0, -c0), min(width, W - c0)):
            brow[c] = srow[c0 + c]
    return buf


@jit(fastmath={"contract"}, inline="always")
def _add_rows(out, o, i0, i1, c0, n, src, s0, ker, kb, pad_top, H, off):
    # out[o, i0:i1, c0:c0 + n] += the rows' passes; source row p is src[p - s0],
    # read from column off (every tap inside it)
    h, w = ker.shape[1], ker.shape[2]
    if w == 7:
        _interior7(out, o, i0, i1, c0, n, src, s0, ker, kb, pad_top, H, off)
    else:
        for i in range(i0, i1):
            _interior1(out[o, i, c0:c0 + n], src, s0, ker, kb, i, pad_top, H, h, w, off, n)


@jit(parallel=True, fastmath={"contract"},
     sigs=[(A4(f), A4(f), A4(f), A1(I8), A1(I8), A1(I8), A1(I8), I8, I8) for f in FLOATS])
def corr_padded(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left):
    """out[b, r] = the valid correlation of the implicitly zero-padded input
    with the kernel, for every batch entry b: images, 1-D series and volumes.

    ``img`` (B, P, H, W), ``ker`` (Bk, Q, h, w) with Bk in {1, B}, ``out``
    (B, R, oh, ow): P, Q and R are the products of the outer axes' lengths
    ``sizes``, ``ksizes`` and ``osizes`` (row-major; empty for images and
    series: P = Q = R = 1), ``pads`` their leading zero padding; ``pad_top``
    and ``pad_left`` the zero rows above and columns to the left of each
    plane (and as many below/right as the output needs).  out[b, r] = sum
    over the outer kernel taps q whose source plane lies inside the input of
    the 2-D correlation of that plane with ker[kb, q], out[b, r, i, j] =
    sum_{a, c} plane_padded[i + a, j + c] * ker[kb, q, a, c].
    A thin parallel loop over the tasks (plane, output row group, column
    chunk); each task loops over the outer taps and runs the row passes
    (``_add_plane``, compiled once, outside numba's parallel passes, which
    cost seconds per inlined line).  One kernel for every shape: a second
    parallel entry point costs its own seconds of compile per dtype.
    """
    B = img.shape[0]
    R = out.shape[1]
    oh = out.shape[2]
    ow = out.shape[3]
    nchunks = (ow + CHUNK - 1) // CHUNK
    rows = _rows_per_task(ker.shape[3])
    ngroups = (oh + rows - 1) // rows
    for t in prange(B * R * ngroups * nchunks):
        _task_nd(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left, np.int64(t), rows, ngroups,
                 nchunks)
    return out


@jit(fastmath={"contract"})
def _task_nd(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left, t, rows, ngroups, nchunks):
    # task t of corr_padded: ``rows`` output rows of output plane (b, r),
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
        row = o3[r, i, js:je]  # (indices from 0 into the slice: LLVM knows them non-negative, no wraparound branch: a memset)
        for j in range(je - js):
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
