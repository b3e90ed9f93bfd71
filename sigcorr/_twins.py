"""Reference twins of the kernels: scipy / numpy, no compiling.

Each function here takes the arguments of the ``_kernels`` function of the
same name and gives its results (same outputs, written into the same ``out``
arrays), within the tolerances the tests hold the kernels to.  They answer a
call while its kernel is not compiled yet (``_runtime.run``): the first call
in a fresh install then costs what scipy or numpy would, not a compile.
They are vectorized where the kernel's work is array work; where the kernel
is a per-item decision procedure (the period detector, peak suppression) the
twin runs the kernel's own Python source (``python_twin``), so the two can
never drift apart.
"""

from __future__ import annotations

import types

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss

from . import _fft
from ._runtime import threads
from ._kernels.codes import CCOEFF, CCOEFF_NORMED, CCORR, CCORR_NORMED, SQDIFF, SQDIFF_NORMED
from ._kernels.windows import ENERGY_REL, NORMED_SLACK

_CHUNK_BYTES = 1 << 24  # working set of the chunked numpy twins


_TWINS = {}


def python_twin(kernel):
    """The kernel's own source run as plain Python (numba kernels it calls
    replaced by their Python twins, ``prange`` by ``range``)."""
    from numba.core.registry import CPUDispatcher

    if kernel in _TWINS:
        return _TWINS[kernel]
    func = kernel.py_func
    glb = dict(func.__globals__)
    glb["prange"] = range
    twin = types.FunctionType(func.__code__, glb, func.__name__, func.__defaults__, func.__closure__)
    _TWINS[kernel] = twin  # before the callees: they may refer back
    for name, value in func.__globals__.items():
        if isinstance(value, CPUDispatcher):
            glb[name] = python_twin(value)
    return twin


def _chunks(total, per_item_bytes):
    step = max(1, _CHUNK_BYTES // max(per_item_bytes, 1))
    for i in range(0, total, step):
        yield slice(i, min(total, i + step))


# ---------------------------------------------------------------------------
# direct correlation
# ---------------------------------------------------------------------------


def _corr_planes(img, ker, out, pad_top, pad_left):
    """``corr_padded`` of planes (no outer axes): valid correlation of the implicitly
    zero-padded planes (scipy.signal, which picks direct or FFT per plane;
    direct where a plane holds NaN or inf, so they reach only their windows)."""
    B, H, W = img.shape
    Bk, h, w = ker.shape
    _, oh, ow = out.shape
    rows, cols = oh + h - 1, ow + w - 1
    src = np.zeros((B, rows, cols), dtype=img.dtype)
    r0, r1 = max(0, pad_top), min(rows, pad_top + H)
    c0, c1 = max(0, pad_left), min(cols, pad_left + W)
    if r0 < r1 and c0 < c1:
        src[:, r0:r1, c0:c1] = img[:, r0 - pad_top:r1 - pad_top, c0 - pad_left:c1 - pad_left]
    finite = np.isfinite(src).all() and np.isfinite(ker).all()
    if finite and B > 4:  # a batch of planes: one batched transform
        flipped = ker[:, ::-1, ::-1]
        out[...] = _fft.fftconv(src, flipped, 2, "valid")
        return out
    for b in range(B):
        k = ker[b if Bk > 1 else 0]
        s = src[b]
        if h == 1 and H == 1:
            s, k = s[0], k[0]
        method = ss.choose_conv_method(s, k, "valid") if finite else "direct"
        out[b] = np.reshape(ss.correlate(s, k, "valid", method=method), (oh, ow))
    return out


def corr_padded(img, ker, out, sizes, ksizes, osizes, pads, pad_top, pad_left):
    """``_kernels.direct.corr_padded``: the valid correlation of each
    implicitly zero-padded plane or volume (scipy.signal, direct where a
    volume holds NaN or inf)."""
    if len(sizes) == 0:
        _corr_planes(img[:, 0], ker[:, 0], out[:, 0], pad_top, pad_left)
        return out
    B, _, H, W = img.shape
    Bk, _, h, w = ker.shape
    shape = tuple(int(v) for v in sizes) + (H, W)
    kshape = tuple(int(v) for v in ksizes) + (h, w)
    oshape = tuple(int(v) for v in osizes) + out.shape[2:]
    lead = tuple(int(v) for v in pads) + (pad_top, pad_left)
    vol = img.reshape((B,) + shape)
    kvol = ker.reshape((Bk,) + kshape)
    res = out.reshape((B,) + oshape)
    src = np.zeros((B,) + tuple(o + m - 1 for o, m in zip(oshape, kshape)), dtype=img.dtype)
    dst, part = [slice(None)], [slice(None)]
    for n, p_, span in zip(shape, lead, src.shape[1:]):
        lo, hi = max(0, p_), min(span, p_ + n)
        if lo >= hi:
            res[...] = 0
            return out
        dst.append(slice(lo, hi))
        part.append(slice(lo - p_, hi - p_))
    src[tuple(dst)] = vol[tuple(part)]
    finite = bool(np.isfinite(src).all() and np.isfinite(kvol).all())
    for b in range(B):
        k = kvol[b if Bk > 1 else 0]
        method = ss.choose_conv_method(src[b], k, "valid") if finite else "direct"
        res[b] = ss.correlate(src[b], k, "valid", method=method)
    return out


def lag_window(x, y, part, lo):
    """``_kernels.lags.lag_window``: each block's lag sums as a valid
    correlation of its stretch of (zero-extended) ``x`` with the block of ``y``
    (``corr_padded``'s twin, all blocks as one batch of planes).  As in the
    kernel (and scipy's 1-D correlate), a NaN or inf reaches only the lags at
    which it meets a sample of the other input, never the zero extension."""
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        badx, bady = ~np.isfinite(x), ~np.isfinite(y)
        _lag_blocks(np.where(badx, 0, x), np.where(bady, 0, y), part, lo)
        hit = np.empty(part.shape)
        _lag_blocks(badx.astype(np.float64), np.ones(y.shape), hit, lo)
        hit2 = np.empty(part.shape)
        _lag_blocks(np.ones(x.shape), bady.astype(np.float64), hit2, lo)
        part[(hit + hit2) > 0.5] = np.nan
        return part
    return _lag_blocks(x, y, part, lo)


def _lag_blocks(x, y, part, lo):
    B, N1 = x.shape
    Bk, N2 = y.shape
    _, P, nl = part.shape
    bl = -(-N2 // P)
    yb = np.zeros((Bk, P * bl), dtype=y.dtype)
    yb[:, :N2] = y
    # xp[i] = x[i + lo] for i in [0, P * bl + nl - 1)
    span = P * bl + nl - 1
    xp = np.zeros((B, span), dtype=x.dtype)
    i0, i1 = max(0, -lo), min(span, N1 - lo)
    if i0 < i1:
        xp[:, i0:i1] = x[:, i0 + lo:i1 + lo]
    segs = np.lib.stride_tricks.sliding_window_view(xp, bl + nl - 1, axis=-1)[:, ::bl][:, :P]
    img = np.ascontiguousarray(segs).reshape(B * P, 1, bl + nl - 1)
    ker = np.ascontiguousarray(yb.reshape(Bk * P, 1, bl))
    if Bk == 1 and B > 1:
        ker = np.ascontiguousarray(np.broadcast_to(ker[None], (B, P, 1, bl)).reshape(B * P, 1, bl))
    out = part.reshape(B * P, 1, nl)
    _corr_planes(img, ker, out, 0, 0)
    return part


# ---------------------------------------------------------------------------
# window statistics and template-matching scores
# ---------------------------------------------------------------------------


def _box(a, h, w):
    """Sums of every h x w window over the last two axes, in float64
    (cumulative sums one axis at a time, which keeps their range small)."""
    a = np.asarray(a, dtype=np.float64)
    c = np.cumsum(a, axis=-2)
    r = np.concatenate([c[..., h - 1:h, :], c[..., h:, :] - c[..., :-h, :]], axis=-2)
    c = np.cumsum(r, axis=-1)
    return np.concatenate([c[..., :, w - 1:w], c[..., :, w:] - c[..., :, :-w]], axis=-1)


def window_sums(x, h, w):
    return _box(x, h, w)


def row_sums(img):
    return img.sum(axis=2, dtype=np.float64)


def centre_padded(img, means, out):
    C, H, W = img.shape
    out[...] = 0
    out[:, :H, :W] = img - means[:, None, None]
    return out


def block_mean(img, f):
    C, H, W = img.shape
    Hf, Wf = H // f, W // f
    blocks = img[:, :Hf * f, :Wf * f].reshape(C, Hf, f, Wf, f)
    return (blocks.sum(axis=(2, 4), dtype=np.float64) * (1.0 / (f * f))).astype(img.dtype)


def normed_score(num, den, fallback, dtype):
    """``_kernels.windows.normed_score`` over arrays, in ``dtype``: num / den
    where |num| < den, +-1 just past it (below NORMED_SLACK den), else
    ``fallback`` (den 0 or rounding noise: a degenerate window).  Every path
    of match_template normalizes with it (see ``_kernels.windows``)."""
    dtype = np.dtype(dtype)
    num = np.asarray(num).astype(dtype)
    den = np.asarray(den).astype(dtype)
    a = np.abs(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    sign = np.where(num > 0, 1.0, -1.0).astype(dtype)
    return np.where(a < den, r, np.where(a < den * dtype.type(NORMED_SLACK), sign, dtype.type(fallback)))


def match_scores(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out):
    """``_kernels.windows.match_scores`` (see there for the arguments)."""
    for t in range(out.shape[0]):
        _match_scores_one(img, h, w, cross[t], by, bx, bad, method, tmean[t], tsum2[t], tnorm[t], qeps, out[t])
    return out


def _match_scores_one(img, h, w, cross, by, bx, bad, method, tmean, tsum2, tnorm, qeps, out):
    oh, ow = out.shape
    ny, nx = cross.shape[:2]
    full = cross[:, :, :by, :bx].transpose(0, 2, 1, 3).reshape(ny * by, nx * bx)[:oh, :ow]
    full = full.astype(np.float64)
    dtype = out.dtype
    if method == CCOEFF:
        out[...] = full
    else:
        region = img[:, :oh + h - 1, :ow + w - 1].astype(np.float64)
        S = _box(region, h, w)
        Q = _box((region * region).sum(axis=0), h, w)
        if method == CCOEFF_NORMED:
            e = Q - (S * S).sum(axis=0) / (h * w)
            e = np.where(e > np.maximum(ENERGY_REL * Q, qeps), e, 0.0)
            out[...] = normed_score(full, np.sqrt(e.astype(dtype)) * dtype.type(tnorm), 0.0, dtype)
        else:
            x = full + np.tensordot(tmean, S, axes=1)
            if method == CCORR:
                out[...] = x
            elif method == SQDIFF:
                out[...] = np.maximum(Q - 2.0 * x + tsum2, 0.0)
            else:
                num = np.maximum(Q - 2.0 * x + tsum2, 0.0) if method == SQDIFF_NORMED else x
                e = np.where(Q > qeps, Q, 0.0)
                out[...] = normed_score(num, np.sqrt(e.astype(dtype)) * dtype.type(tnorm),
                                        1.0 if method == SQDIFF_NORMED else 0.0, dtype)
    if bad.shape == (oh, ow):
        out[bad > 0.5] = np.nan
    return out


def _box_nd(a, sizes):
    """Sums of every window of ``sizes`` over the last len(sizes) axes, in
    float64 (cumulative sums one axis at a time)."""
    a = np.asarray(a, dtype=np.float64)
    nd = len(sizes)
    for k, m in enumerate(sizes):
        ax = a.ndim - nd + k
        c = np.cumsum(a, axis=ax)
        first = np.take(c, [m - 1], axis=ax)
        n = a.shape[ax]
        a = np.concatenate([first, np.take(c, np.arange(m, n), axis=ax) - np.take(c, np.arange(0, n - m), axis=ax)],
                           axis=ax)
    return a


def volume_scores(img, d, h, w, cross, method, tmean, tsum2, tnorm, qeps, zb, out):
    """``_kernels.windows.volume_scores`` (``cross`` may be ``out`` itself)."""
    T = out.shape[0]
    S = _box_nd(img, (d, h, w))
    Q = _box_nd(np.square(img, dtype=np.float64), (d, h, w))
    for t in range(T):
        c = cross[t].astype(np.float64)
        if method == CCOEFF_NORMED:
            e = Q - S * S / (d * h * w)
            e = np.where(e > np.maximum(ENERGY_REL * Q, qeps), e, 0.0)
            num = c
        else:
            num = c + tmean[t] * S
            if method in (SQDIFF, SQDIFF_NORMED):
                num = np.maximum(Q - 2.0 * num + tsum2[t], 0.0)
            if method in (CCORR, SQDIFF):
                out[t] = num
                continue
            e = np.where(Q > qeps, Q, 0.0)
        out[t] = normed_score(num, np.sqrt(e) * tnorm[t], 1.0 if method == SQDIFF_NORMED else 0.0, np.float64)
    return out


def suppress(coords, shape, radius, max_out):
    """``_kernels.peaks.suppress``."""
    blocked = np.zeros((int(shape[0]), int(shape[1])), dtype=bool)
    keep = []
    for idx, (y, x) in enumerate(coords.tolist()):
        if len(keep) >= max_out:
            break
        if blocked[y, x]:
            continue
        keep.append(idx)
        blocked[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1] = True
    return np.array(keep, dtype=np.int64)


# ---------------------------------------------------------------------------
# autocorrelation and periods
# ---------------------------------------------------------------------------


def _fft_lag_sums(z, L):
    n = z.shape[1]
    N = sfft.next_fast_len(n + L, True)
    spec = sfft.rfft(z, N, axis=-1, workers=threads())
    np.multiply(spec, spec.conj(), out=spec)
    return sfft.irfft(spec, N, axis=-1, workers=threads())[:, :L + 1]


def acf_direct(y, L, out):
    for sl in _chunks(y.shape[0], 16 * y.shape[1] + 16 * L):
        out[sl] = _fft_lag_sums(y[sl], L)
    return out


def lag_sums_fft(y, L, demean, adjusted, normalize, out, energy, N, two_blocks, L_fft):
    """``_kernels.acf_fft.lag_sums_fft`` (the plan arguments N, two_blocks,
    L_fft are not needed: one transform gives every lag)."""
    B, n = y.shape
    nbad = 0
    adj = n / (n - np.arange(L + 1.0)) if adjusted else None
    for sl in _chunks(B, 16 * (n + L)):
        z = y[sl]
        total = z.sum(axis=1)
        nbad += int((~np.isfinite(total)).sum())
        if demean:
            z = z - (total / n)[:, None]
        S = _fft_lag_sums(z, L)
        energy[sl] = S[:, 0]
        if normalize:
            s0 = S[:, :1].copy()
            zero = s0 == 0.0
            s0[zero] = 1.0
            S = np.where(zero, 0.0, S / s0)
        if adjusted:
            S = S * adj
        out[sl] = S
    return nbad


def _line(s0, s1, s2, sx, stx):
    with np.errstate(divide="ignore", invalid="ignore"):
        den = s0 * s2 - s1 * s1
        c = np.where(den > 0, (s0 * stx - s1 * sx) / np.where(den > 0, den, 1.0), 0.0)
        a = np.where(s0 > 0, (sx - c * s1) / np.where(s0 > 0, s0, 1.0), 0.0)
    return a, np.where(s0 > 0, c, 0.0)


def _line_fit(z, m, t):
    s0 = m.sum(axis=1)
    a, c = _line(s0, m @ t, m @ (t * t), (m * z).sum(axis=1), (m * z) @ t)
    return a, c, s0


def robust_residuals(x, spike):
    """``_kernels.acf.robust_residuals``, vectorized over the series."""
    B, n = x.shape
    t = np.arange(n, dtype=np.float64)
    fin = np.isfinite(x)
    z = np.where(fin, x, 0.0)
    m = fin.astype(np.float64)
    a, c, _ = _line_fit(z, m, t)
    active = np.ones(B, dtype=bool)
    for _ in range(2):
        r = z - a[:, None] - c[:, None] * t
        ss_ = (m * r * r).sum(axis=1)
        cnt = m.sum(axis=1)
        active &= cnt > 0
        if not active.any():
            break
        lim = spike * np.sqrt(ss_ / np.where(cnt > 0, cnt, 1.0))
        m_new = np.where(active[:, None] & (np.abs(r) > lim[:, None]), 0.0, m)
        a_new, c_new, kept = _line_fit(z, m_new, t)
        m = m_new
        a = np.where(active, a_new, a)
        c = np.where(active, c_new, c)
        active &= kept != cnt
    y = m * (z - a[:, None] - c[:, None] * t)
    return y, m.sum(axis=1)


def detect(S, pmin, pmax, nvalid, npairs, level, periods, strengths):
    """``_kernels.detect.detect``: the kernel's own code, as Python."""
    from ._kernels import detect as kdetect

    return python_twin(kdetect.detect)(S, pmin, pmax, nvalid, npairs, level, periods, strengths)


def kernel_lag_sums(t, x, m, step, width, gaussian, out):
    """``_kernels.irregular.kernel_lag_sums``, vectorized over the samples:
    one pass per offset j - i while any pair at that offset is in reach."""
    from ._kernels.irregular import GAUSS_REACH

    K = out.shape[2] - 1
    cut = GAUSS_REACH * width if gaussian else 0.5 * step
    reach = K * step + cut
    out[:] = 0.0
    for b in range(t.shape[0]):
        n = int(m[b])
        tb, xb = t[b, :n], x[b, :n]
        acc = out[b]
        for o in range(1, n):
            d = tb[o:] - tb[:-o]
            near = d <= reach
            if not near.any():
                break
            d, xi, xj = d[near], xb[:-o][near], xb[o:][near]
            if gaussian:
                shifts = range(int(np.floor(-cut / step)) - 1, int(np.ceil(cut / step)) + 2)
                base = np.floor(d / step).astype(np.int64)
                for s in shifts:
                    k = base + s
                    u = d - k * step
                    ok = (k >= 1) & (k <= K) & (np.abs(u) <= cut)
                    w = np.exp(-0.5 * u[ok] ** 2 / (width * width))
                    kk = k[ok]
                    for row, v in enumerate((w * xi[ok] * xj[ok], w * xi[ok] ** 2, w * xj[ok] ** 2, w)):
                        acc[row] += np.bincount(kk, v, K + 1)
            else:
                k = np.floor(d / step + 0.5).astype(np.int64)
                ok = (k >= 1) & (k <= K)
                kk = k[ok]
                for row, v in enumerate((xi[ok] * xj[ok], xi[ok] ** 2, xj[ok] ** 2, np.ones(kk.size))):
                    acc[row] += np.bincount(kk, v, K + 1)


# ---------------------------------------------------------------------------
# pooling and convolution layers
# ---------------------------------------------------------------------------


def _window_index(n_out, stride, pad, k, dil):
    """(n_out, k) input positions of every window's taps (may be outside)."""
    return (np.arange(n_out) * stride - pad)[:, None] + (np.arange(k) * dil)[None, :]


def max_pool(x, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, want_idx, out, idx):
    """``_kernels.pool.max_pool``: torch's values and indices (the last NaN
    of a window; else its first maximum; the first tap inside the input
    where nothing beats -inf), over (P, D, H, W) volumes."""
    P, D, H, W = x.shape
    _, od, oh, ow = out.shape
    Z = _window_index(od, sd, pd, kd, dd)
    R = _window_index(oh, sh, ph, kh, dh)
    Cc = _window_index(ow, sw, pw, kw, dw)
    zin = (Z >= 0) & (Z < D)
    rin = (R >= 0) & (R < H)
    cin = (Cc >= 0) & (Cc < W)
    Zc = np.clip(Z, 0, D - 1)[:, None, None, :, None, None]
    Rc = np.clip(R, 0, H - 1)[None, :, None, None, :, None]
    Cq = np.clip(Cc, 0, W - 1)[None, None, :, None, None, :]
    # (od, oh, ow, kd, kh, kw)
    inside = zin[:, None, None, :, None, None] & rin[None, :, None, None, :, None] & cin[None, None, :, None, None, :]
    flat_pos = (Zc * H + Rc) * W + Cq
    big = np.iinfo(np.int64).max
    first_z = np.where(zin, Z, big).min(axis=1)
    first_r = np.where(rin, R, big).min(axis=1)
    first_c = np.where(cin, Cc, big).min(axis=1)
    fallback = (first_z[:, None, None] * H + first_r[None, :, None]) * W + first_c[None, None, :]
    kk = kd * kh * kw
    for sl in _chunks(P, od * oh * ow * kk * 8):
        win = x[sl][:, Zc, Rc, Cq]  # (p, od, oh, ow, kd, kh, kw)
        win = np.where(inside, win, -np.inf).reshape(win.shape[:4] + (kk,))
        isnan = np.isnan(win)
        anynan = isnan.any(axis=-1)
        val = np.where(anynan, np.nan, np.where(isnan, -np.inf, win).max(axis=-1))
        out[sl] = val
        if want_idx:
            last_nan = kk - 1 - np.argmax(isnan[..., ::-1], axis=-1)
            first_max = np.argmax(np.where(isnan, -np.inf, win), axis=-1)
            k = np.where(anynan, last_nan, first_max)
            pos = np.take_along_axis(np.broadcast_to(flat_pos, (od, oh, ow, kd, kh, kw)).reshape(od, oh, ow, kk)[None],
                                     k[..., None], axis=-1)[..., 0]
            idx[sl] = np.where(~anynan & (val == -np.inf), fallback, pos)
    return out, idx


def max_pool_2x2(x, kd, D, od, out):
    """``_kernels.pool.max_pool_2x2``: each output plane's kd input planes,
    their elementwise maximum (NaN propagated), then the 2 x 2 windows."""
    Q = out.shape[0]
    q = np.arange(Q)
    base = (q // od) * D + (q % od) * kd
    planes = x[base].copy()
    for e in range(1, kd):
        nxt = x[base + e]
        planes = np.where(np.isnan(planes) | (planes > nxt), planes, nxt)
    return max_pool_separable(planes, 2, 2, 2, 2, 0, 0, 1, 1, out)


def max_pool_separable(x, kh, kw, sh, sw, ph, pw, dh, dw, out):
    return max_pool(x[:, None], 1, kh, kw, 1, sh, sw, 0, ph, pw, 1, dh, dw, False, out[:, None], None)[0][:, 0]


def avg_pool(x, kh, kw, sh, sw, ph, pw, include_pad, out):
    """``_kernels.pool.avg_pool``: sums in float64, torch's divisors."""
    P, H, W = x.shape
    _, oh, ow = out.shape

    def spans(n_out, s, p, k, n):
        lo = np.arange(n_out) * s - p
        hi = np.minimum(lo + k, n + p)
        return lo, hi, np.maximum(lo, 0), np.minimum(hi, n)

    h0, h1, rs, re_ = spans(oh, sh, ph, kh, H)
    w0, w1, cs, ce = spans(ow, sw, pw, kw, W)
    if include_pad:
        cnt = np.outer(h1 - h0, w1 - w0)
    else:
        cnt = np.outer(np.maximum(re_ - rs, 0), np.maximum(ce - cs, 0))
    # zero padding wide enough for every window, then window sums at the strides
    rows = max(int(h0.max()) + kh, H + ph) + ph
    cols = max(int(w0.max()) + kw, W + pw) + pw
    for sl in _chunks(P, rows * cols * 8):
        xp = np.zeros((x[sl].shape[0], rows, cols))
        xp[:, ph:ph + H, pw:pw + W] = x[sl]
        box = _box(xp, kh, kw)[:, (h0 + ph)[:, None], (w0 + pw)[None, :]]
        # windows clipped at H + ph: their rows past it are zeros anyway
        with np.errstate(divide="ignore", invalid="ignore"):
            out[sl] = np.where(cnt > 0, box / np.where(cnt > 0, cnt, 1), np.nan)
    return out


def avg_pool_2x2(x, out):
    return avg_pool(x, 2, 2, 2, 2, 0, 0, True, out)


def conv2d_general(x, w, bias, sh, sw, pad_top, pad_left, dh, dw, out):
    """``_kernels.layers.conv2d_general``: one tensor product per tap."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    _, _, oh, ow = out.shape
    rows = max(H + pad_top, (oh - 1) * sh + (kh - 1) * dh + 1)
    cols = max(W + pad_left, (ow - 1) * sw + (kw - 1) * dw + 1)
    xp = np.zeros((N, Ci, rows, cols), dtype=x.dtype)
    xp[:, :, pad_top:pad_top + H, pad_left:pad_left + W] = x
    acc = np.zeros((N, Co, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for c in range(kw):
            r0, c0 = a * dh, c * dw
            patch = xp[:, :, r0:r0 + (oh - 1) * sh + 1:sh, c0:c0 + (ow - 1) * sw + 1:sw]
            acc += np.einsum("oc,nchw->nohw", w[:, :, a, c], patch)
    out[...] = acc + bias[None, :, None, None]
    return out


def conv2d_unit(xp, w, bias, out):
    return conv2d_general(xp, w, bias, 1, 1, 0, 0, 1, 1, out)


def touch_pages(buf, page):
    """``_kernels.memory.touch_pages`` only spreads page faults over the
    threads ahead of a kernel's writes; without it the writer faults them
    (``_runtime.output_array`` calls the kernel only once it is compiled)."""
    return None


def _unblock(blocks, by, bx, oh, ow):
    ny, nx = blocks.shape[:2]
    return blocks[:, :, :by, :bx].transpose(0, 2, 1, 3).reshape(ny * by, nx * bx)[:oh, :ow]


def omit_scores(img, pres, cross, st, qt, by, bx, h, w, method, qtol, ttol, need, out):
    """``_kernels.windows.omit_scores`` (see there for the arguments)."""
    C = img.shape[0]
    oh, ow = out.shape
    ny = cross.shape[0]
    region = img[:, :oh + h - 1, :ow + w - 1].astype(np.float64)
    n = np.floor(_box(pres[:oh + h - 1, :ow + w - 1], h, w) + 0.5)
    q = np.maximum(_box((region * region).sum(axis=0), h, w), 0.0)
    x = _unblock(cross, by, bx, oh, ow).astype(np.float64)
    tq = _unblock(qt, by, bx, oh, ow).astype(np.float64)
    tq = np.where(tq > ttol, tq, 0.0)
    fallback = 1.0 if method == SQDIFF_NORMED else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == CCORR:
            v = x
        elif method == SQDIFF:
            v = np.maximum(q - 2.0 * x + tq, 0.0)
        elif method in (SQDIFF_NORMED, CCORR_NORMED):
            num = np.maximum(q - 2.0 * x + tq, 0.0) if method == SQDIFF_NORMED else x
            v = normed_score(num, np.sqrt(np.where(q > qtol, q, 0.0) * tq), fallback, np.float64)
        else:
            s = _box(region, h, w)
            t = np.stack([_unblock(st[c * ny:(c + 1) * ny], by, bx, oh, ow) for c in range(C)]).astype(np.float64)
            inv = 1.0 / np.maximum(n, 1.0)
            num = x - (s * t).sum(axis=0) * inv
            if method == CCOEFF:
                v = num
            else:
                ei = q - (s * s).sum(axis=0) * inv
                ei = np.where(ei > np.maximum(ENERGY_REL * q, qtol), ei, 0.0)
                et = tq - (t * t).sum(axis=0) * inv
                et = np.where(et > ttol, et, 0.0)
                v = normed_score(num, np.sqrt(ei * et), fallback, np.float64)
        out[...] = np.where((n < 0.5) | (n < need - 0.5), np.nan, v)
    return out


def centre_rows(x, out, means, sumsq):
    """``_kernels.lags.centre_rows``: each row demeaned, its mean and its sum of squares."""
    means[:] = x.mean(axis=1)
    np.subtract(x, means[:, None], out=out)
    sumsq[:] = np.einsum("ij,ij->i", out, out)
    return out


def phat_whiten(fx, fy, eps):
    """``_kernels.lags.phat_whiten``: each pair's cross-spectrum over its magnitude (floored)."""
    fx *= np.conj(fy)
    mag = np.abs(fx)
    floor = eps * mag.max(axis=1, keepdims=True)
    fx /= np.maximum(mag, np.where(floor > 0, floor, 1.0))
    return fx


# ---------------------------------------------------------------------------
# streams (``_kernels.stream``)
# ---------------------------------------------------------------------------


def corr_push(hist, x, work, ker, out):
    """``_kernels.stream.corr_push``: one push of a streamed valid correlation
    (each window's dot product, so NaN reaches only its windows)."""
    n = x.shape[1]
    m1 = hist.shape[1]
    if n == 0:
        return out
    p = np.concatenate([hist, x], axis=1)
    out[...] = np.lib.stride_tricks.sliding_window_view(p, m1 + 1, axis=1)[:, :n] @ ker[0]
    hist[...] = p[:, n:n + m1]
    return out


def track_push(y, x, first, ends, g, R, F, tw, ref, nxt, params, S, info):
    """``_kernels.stream.track_push``: the same ring of block lag sums (kept
    for the compiled kernel to go on with), each window's residual sums
    taken from the residual itself; every block pair summed directly, the
    blocks' spectra ``F`` made for the kernel all the same."""
    spike, guard, energy_lo, energy_hi = params[:4]
    B = y.shape[0]
    nb, L1 = R.shape[1:]
    W = nb * g
    left = 0
    for b in range(B):
        if nxt[b] < 0:
            off = ends[0] - W - first
            win = y[b, off:off + W]
            ref[b] = win[np.isfinite(win)].mean() if np.isfinite(win).any() else 0.0
            nxt[b] = ends[0] // g - nb
        for w, e in enumerate(ends):
            last, off, r = e // g, e - W - first, w * B + b
            for again in (0, 1):
                x[b] = np.where(np.isfinite(y[b] - ref[b]), y[b] - ref[b], 0.0)
                for n in range(max(nxt[b], last - nb), last):
                    _add_block(x[b], first, n, last - nb, g, R[b], F[b])
                nxt[b] = last
                status, mean = _residual_sums(y[b, off:off + W], ref[b], spike, guard, S[r])
                if status != 2 or again:
                    break
                ref[b], nxt[b] = mean, last - nb
            if status == 0 and not energy_lo <= S[r, 0] <= energy_hi:
                status = 3.0
            info[r] = status, mean
            left += status != 0
    return left


def _add_block(x, first, n, lo_block, g, R, F):
    # _kernels.stream._add_block: block n's pairs, into the ring rows of the blocks their earlier sample is in
    nb, L1 = R.shape
    R[n % nb] = 0
    xn = x[n * g - first:(n + 1) * g - first]
    N = F.shape[1] // 2
    if N:  # the block's spectrum, for the kernel's later pairs
        X = np.fft.fft(xn, N)
        F[n % nb] = np.concatenate([X.real, X.imag])
    for d in range(min(nb, (L1 - 1) // g + 2)):
        i = n - d
        if i < max(0, lo_block):
            continue
        # full[j] = sum_s xi[s] xn[s + j - (g - 1)]: the lag d g + j - (g - 1)
        full = np.correlate(xn, x[i * g - first:(i + 1) * g - first], "full")
        k = d * g - (g - 1) + np.arange(2 * g - 1)
        keep = (k >= 0) & (k < L1)
        R[i % nb, k[keep]] += full[keep]


def _residual_sums(yw, ref, spike, guard, s):
    # _kernels.stream._residual_sums, from the residual itself
    W, L1 = yw.shape[0], s.shape[0]
    res, kept = robust_residuals(yw[None], spike)
    line = yw - res[0]  # a + c t where every sample is kept
    c = (line[-1] - line[0]) / (W - 1) if W > 1 else 0.0
    mean = line[0] + c * (W - 1) / 2.0
    if kept[0] < W:
        return 1.0, mean
    s[:] = [res[0, :W - k] @ res[0, k:] for k in range(L1)]
    xs = np.where(np.isfinite(yw), yw - ref, 0.0)
    energy = xs @ xs + np.sum((line[0] - ref + c * np.arange(W)) ** 2)
    if energy <= guard * s[0] and s[0] > 0:
        return 0.0, mean
    lv = mean - ref
    return (2.0 if W * lv * lv > c * c * W * (W * W - 1.0) / 12.0 else 1.0), mean


# ---------------------------------------------------------------------------
# network matched filtering
# ---------------------------------------------------------------------------


def network_stack(cross, i0, S, shift, mv, wts, itn, invn, n, step, out):
    """``_kernels.network.network_stack`` (see there for the arguments)."""
    G, C, nb, R = cross.shape
    lo = int(i0)
    cnt = min(nb * S, n - lo)
    if cnt <= 0:
        return out
    r = np.arange(cnt)
    b, rr = np.divmod(r, S)
    num = np.zeros(cnt)
    den = np.zeros(cnt)
    first = (-lo) % step
    keep = r[first::step]
    for g in range(G):
        num[:] = 0
        den[:] = 0
        for c in range(C):
            w = wts[g, c]
            if w == 0:
                continue
            v = invn[c, lo + mv[g, c]:lo + mv[g, c] + cnt].astype(np.float64)
            x = cross[g, c, b, rr + shift[g, c]].astype(np.float64) * (v * itn[g, c])
            a = np.abs(x)
            with np.errstate(invalid="ignore"):
                s = np.where(a < 1.0, x, np.where(a < NORMED_SLACK, np.sign(x), 0.0))
            ok = ~np.isnan(v)
            num += np.where(ok, w * s, 0.0)
            den += np.where(ok, w, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = np.where(den[keep] > 0, num[keep] / den[keep], np.nan)
        out[g, (lo + keep) // step] = vals
    return out


def window_norms(x, m, means, qeps, out):
    """``_kernels.network.window_norms`` (float64 cumulative sums)."""
    v = x.astype(np.float64) - means[:, None]
    bad = ~np.isfinite(v)
    v[bad] = 0
    s = _box(v[:, None, :], 1, m)[:, 0]
    q = _box((v * v)[:, None, :], 1, m)[:, 0]
    e = q - s * s / m
    flat = e <= np.maximum(ENERGY_REL * q, qeps[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = 1.0 / np.sqrt(np.where(flat, 1.0, e))
    r[flat] = 0
    r[_box(bad[:, None, :], 1, m)[:, 0] > 0.5] = np.nan
    out[...] = r
    return out
