"""The convolution engine: validated arrays in, the convolution (kernel
flipped) over the given axes out, by the direct kernel or the FFT path, the
method chosen by the cost model.  ``sigcorr.convolve``'s public functions,
template matching's cross terms, the cross-correlation's lag sums and
``sigcorr calibrate`` all run through here.

Two computation paths:

* ``direct``: the parallel Numba kernel ``_kernels.direct.corr_padded`` (the
  zero padding of 'full'/'same' is implicit), or ``lag_window`` for a short
  window of 1-D lags;
* ``fft``: real (or complex) transforms from ``scipy.fft`` on all cores, with
  overlap-save for long 1-D signals and short kernels (``sigcorr._fft``).
"""

from __future__ import annotations

import math

import numpy as np

from . import _costs, _fft, _geometry, _twins, _validate
from ._kernels import direct as _kdirect
from ._kernels import lags as _klags
from ._runtime import output_apart, run, threads


def _to_end(x, axes):
    nd = len(axes)
    return np.moveaxis(x, axes, tuple(range(x.ndim - nd, x.ndim)))


def _from_end(x, axes):
    nd = len(axes)
    return np.moveaxis(x, tuple(range(x.ndim - nd, x.ndim)), axes)


def _flip(x, nd):
    return x[..., ::-1] if nd == 1 else x[..., ::-1, ::-1]


# ---------------------------------------------------------------------------
# method choice
# ---------------------------------------------------------------------------


def estimated_times(a_shape, k_shape, nd, mode, dtype):
    """Estimated seconds of (direct, fft) for a convolution of these shapes
    (prices: :mod:`sigcorr._costs`)."""
    c = _costs.get()
    ns = a_shape[len(a_shape) - nd:]
    ms = k_shape[len(k_shape) - nd:]
    batch = math.prod(np.broadcast_shapes(a_shape[:len(a_shape) - nd], k_shape[:len(k_shape) - nd]))
    out = math.prod(_geometry.out_slices(n, m, mode)[1] for n, m in zip(ns, ms))
    taps = math.prod(min(n, m) for n, m in zip(ns, ms))
    dtype = np.dtype(dtype)
    cplx = dtype.kind == "c"
    item = dtype.itemsize // 2 if cplx else dtype.itemsize
    nthreads = threads()
    price = (c.direct_nd_ns if nd >= 3 else c.direct_ns)[item]
    direct = batch * out * taps * price * (c.complex_direct if cplx else 1) / nthreads
    size_f = c.fft_f32 if item == 4 else 1.0
    size_f *= c.complex_fft if cplx else 1.0
    if nd == 1 and _use_overlap_save(ns[0], ms[0]):
        L = _fft.overlap_save_block(min(ns[0], ms[0]))
        step = L - min(ns[0], ms[0]) + 1
        nb = -(-_geometry.out_slices(ns[0], ms[0], mode)[1] // step)
        pts = batch * nb * L
        fft = 2 * pts * math.log2(L) * c.fft_parallel_ns * size_f / nthreads
    else:
        fshape = [n + m - 1 for n, m in zip(ns, ms)]
        pts = math.prod(fshape)
        if nd >= 2 or batch > 1:  # transforms batched over every core
            fft = 3 * batch * pts * math.log2(max(pts, 2)) * c.fft_parallel_ns * size_f / nthreads
        else:  # a single 1-D transform runs on one core
            fft = 3 * pts * math.log2(max(pts, 2)) * c.fft_ns * size_f
    return direct * 1e-9, (fft + c.fft_call_ns) * 1e-9


def _use_overlap_save(n, m):
    """Overlap-save when the longer input spans several of the shorter one's blocks."""
    lo, hi = min(n, m), max(n, m)
    return hi >= _costs.get().overlap_save_min_blocks * _fft.overlap_save_block(lo)


def choose(a, k, nd, mode):
    direct, fft = estimated_times(a.shape, k.shape, nd, mode, a.dtype)
    return "direct" if direct <= fft else "fft"


def _choose_window(a, k, nd, win):
    """Direct costs n·L per axis for a lag window of L lags (every lag sums at
    most min(n, m) products); the FFT path computes the whole 'full' output."""
    ns = a.shape[a.ndim - nd:]
    ms = k.shape[k.ndim - nd:]
    batch = math.prod(np.broadcast_shapes(a.shape[:a.ndim - nd], k.shape[:k.ndim - nd]))
    dtype = np.dtype(a.dtype)
    cplx = dtype.kind == "c"
    item = dtype.itemsize // 2 if cplx else dtype.itemsize
    out = math.prod(hi - lo + 1 for lo, hi in win)
    taps = math.prod(min(n, m) for n, m in zip(ns, ms))
    c = _costs.get()
    price = (c.direct_nd_ns if nd >= 3 else c.direct_ns)[item]
    direct = batch * out * taps * price * (c.complex_direct if cplx else 1) / threads() * 1e-9
    fft = estimated_times(a.shape, k.shape, nd, "full", a.dtype)[1]
    return "direct" if direct <= fft else "fft"


# ---------------------------------------------------------------------------
# the two paths; arrays have the convolved axes last
# ---------------------------------------------------------------------------


def _direct_real(a, k, nd, mode, sel=None):
    ns = a.shape[a.ndim - nd:]
    ms = k.shape[k.ndim - nd:]
    batch = np.broadcast_shapes(a.shape[:a.ndim - nd], k.shape[:k.ndim - nd])
    B = math.prod(batch)
    if sel is None:
        sel = [_geometry.out_slices(n, m, mode) for n, m in zip(ns, ms)]
    elif nd == 1 and _use_lag_kernel(sel[0][1]):
        return _lags1_real(a, k, sel[0][0] - (ms[0] - 1), sel[0][1])
    pads = [m - 1 - s0 for (s0, _), m in zip(sel, ms)]
    outs = [length for _, length in sel]
    if nd >= 3:
        return _direct_nd(a, k, ns, ms, pads, outs, batch)
    if nd == 1:
        ns, ms, pads, outs = (1,) + tuple(ns), (1,) + tuple(ms), [0] + pads, [1] + outs
    if a.shape[:a.ndim - nd] != batch:
        a = np.broadcast_to(a, batch + tuple(a.shape[a.ndim - nd:])).copy()
    img = _validate.as_kernel_array(a, a.dtype).reshape((B,) + tuple(ns))
    kf = _flip(k, nd)
    if math.prod(k.shape[:k.ndim - nd]) == 1:
        ker = _validate.as_kernel_array(kf, a.dtype).reshape((1,) + tuple(ms))
    else:
        ker = _validate.as_kernel_array(np.broadcast_to(kf, batch + tuple(kf.shape[kf.ndim - nd:])).copy(), a.dtype)
        ker = ker.reshape((B,) + tuple(ms))
    if nd == 2 and (outs[1] - ns[1]) * a.dtype.itemsize % 4096 == 0:
        # every output row lies the same distance (mod 4096) from the source
        # rows it is computed from: placed half a page from them (see
        # output_apart), not wherever the heap puts it
        out = output_apart((B, outs[0], outs[1]), a.dtype, img, lead=max(pads[1], 0))
    else:
        out = np.empty((B, outs[0], outs[1]), dtype=a.dtype)
    corr_planes(img, ker, out, pads[0], pads[1])
    return out.reshape(batch + tuple(outs[2 - nd:]))


NO_AXES = np.empty(0, dtype=np.int64)  # corr_padded's outer axes for planes: none


def corr_planes(img, ker, out, pad_top, pad_left):
    """``corr_padded`` of planes: ``img`` (B, H, W), ``ker`` (1 or B, h, w),
    ``out`` (B, oh, ow), kernel-ready, as planes of one (no outer axes)."""
    run(_kdirect.corr_padded, _twins.corr_padded, img[:, None], ker[:, None], out[:, None],
        NO_AXES, NO_AXES, NO_AXES, NO_AXES, int(pad_top), int(pad_left))
    return out


def _direct_nd(a, k, ns, ms, pads, outs, batch):
    """Three or more convolved axes (last): ``corr_padded`` with the outer
    axes (all but the last two) flattened into planes."""
    nd = len(ns)
    B = math.prod(batch)
    if a.shape[:a.ndim - nd] != batch:
        a = np.broadcast_to(a, batch + tuple(ns))
    img = _validate.as_kernel_array(a, a.dtype).reshape((B, math.prod(ns[:-2])) + tuple(ns[-2:]))
    kf = k[(Ellipsis,) + (slice(None, None, -1),) * nd]
    if math.prod(k.shape[:k.ndim - nd]) != 1:
        kf = np.broadcast_to(kf, batch + tuple(ms))
    ker = _validate.as_kernel_array(kf, a.dtype)
    ker = ker.reshape((ker.size // math.prod(ms), math.prod(ms[:-2])) + tuple(ms[-2:]))
    out = np.empty((B, math.prod(outs[:-2]), outs[-2], outs[-1]), dtype=a.dtype)
    outer = [np.array(v[:-2], dtype=np.int64) for v in (ns, ms, outs, pads)]
    run(_kdirect.corr_padded, _twins.corr_padded, img, ker, out, *outer, pads[-2], pads[-1])
    return out.reshape(batch + tuple(outs))


def _use_lag_kernel(nl):
    """lag_window for 1-D windows of up to CHUNK lags (its running sums stay
    in L1; every sample's taps are vectorized over the lags, the edges over a
    zero-extended copy): corr_padded, made for short kernels, takes most
    outputs of two long inputs on its scalar edge path.  Wider windows go to
    corr_padded, whose tasks also split the lags."""
    return nl <= _kdirect.CHUNK


def lag_window_sums(x, y, lo, nl):
    """S[b, l] = sum_n x[b, n + lo + l] * y[b or 0, n], l in [0, nl), by
    ``lag_window``: x (B, N1), y (1 or B, N2), kernel-ready (C-contiguous,
    writable, float32/float64); the sum is split into blocks over the cores
    when there are fewer series than tasks worth having."""
    B, m = x.shape[0], y.shape[1]
    P = max(1, min(-(-4 * threads() // B), m // _costs.get().lag_block))
    part = np.empty((B, P, nl), dtype=x.dtype)
    run(_klags.lag_window, _twins.lag_window, x, y, part, int(lo))
    return part[:, 0] if P == 1 else part.sum(axis=1)


def _lags1_real(a, k, lo, nl):
    """Lags lo..lo+nl-1 of the 1-D correlation of ``a`` with the flipped
    convolution kernel ``k``, by ``lag_window``."""
    n, m = a.shape[-1], k.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-1], k.shape[:-1])
    B = math.prod(batch)
    if a.shape[:-1] != batch:
        a = np.broadcast_to(a, batch + (n,))
    x = _validate.as_kernel_array(a, a.dtype).reshape(B, n)
    kf = k[..., ::-1]
    if math.prod(k.shape[:-1]) == 1:
        y = _validate.as_kernel_array(kf, a.dtype).reshape(1, m)
    else:
        y = _validate.as_kernel_array(np.broadcast_to(kf, batch + (m,)), a.dtype).reshape(B, m)
    return lag_window_sums(x, y, lo, nl).reshape(batch + (nl,))


def correlate_lags(x, y, lo, hi):
    """Lags lo..hi of the correlation of the rows of x (B, n) with those of
    y (B, n), both float64 C-contiguous: direct or FFT by the cost model."""
    nl = hi - lo + 1
    if _choose_window(x, y, 1, [(lo, hi)]) == "direct":
        if _use_lag_kernel(nl):
            return lag_window_sums(x, y, lo, nl)
        return _direct_real(x, y[:, ::-1], 1, "full", [(lo + y.shape[1] - 1, nl)])
    out = fft_path(x, y[:, ::-1], 1, "full")
    return out[:, lo + y.shape[1] - 1:hi + y.shape[1]]


def _direct(a, k, nd, mode, sel=None):
    if a.dtype.kind != "c":
        return _direct_real(a, k, nd, mode, sel)
    ar, ai, kr, ki = a.real, a.imag, k.real, k.imag
    re = _direct_real(ar, kr, nd, mode, sel) - _direct_real(ai, ki, nd, mode, sel)
    im = _direct_real(ar, ki, nd, mode, sel) + _direct_real(ai, kr, nd, mode, sel)
    out = np.empty(re.shape, dtype=a.dtype)
    out.real = re
    out.imag = im
    return out


def _fft_finite(a, k, nd, mode):
    ns = a.shape[a.ndim - nd:]
    ms = k.shape[k.ndim - nd:]
    if nd == 1 and _use_overlap_save(ns[0], ms[0]):
        s0, length = _geometry.out_slices(ns[0], ms[0], mode)
        if ns[0] >= ms[0]:
            return _fft.overlap_save(a, k, s0, length)
        return _fft.overlap_save(k, a, s0, length)
    return _fft.fftconv(a, k, nd, mode)


def fft_path(a, k, nd, mode):
    """FFT path; NaN/inf reach only the outputs whose window holds them."""
    bad_a = ~np.isfinite(a)
    bad_k = ~np.isfinite(k)
    if not (bad_a.any() or bad_k.any()):
        return _fft_finite(a, k, nd, mode)
    out = _fft_finite(np.where(bad_a, 0, a), np.where(bad_k, 0, k), nd, mode)
    hit = _fft_finite(bad_a.astype(np.float64), np.ones(k.shape[k.ndim - nd:]), nd, mode)
    hit = hit + _fft_finite(np.ones(a.shape[a.ndim - nd:]), bad_k.astype(np.float64), nd, mode)
    out = np.array(out, copy=True)
    out[np.broadcast_to(hit > 0.5, out.shape)] = np.nan
    return out


def convolve_core(a, k, axes, mode, method, win=None):
    """Convolution (kernel flipped) of validated arrays over ``axes``; with
    ``win`` (one (lo, hi) per axis) only the 'full' outputs lo + m - 1 ..
    hi + m - 1 of each axis (m: the kernel's length there)."""
    nd = len(axes)
    if _validate.swap_needed(mode, a.shape, k.shape, axes):
        a, k = k, a
    a = _to_end(a, axes)
    k = _to_end(k, axes)
    sel = None
    if win is not None:
        ms = k.shape[k.ndim - nd:]
        sel = [(lo + m - 1, hi - lo + 1) for (lo, hi), m in zip(win, ms)]
    if method == "auto":
        method = choose(a, k, nd, mode) if win is None else _choose_window(a, k, nd, win)
    if method == "direct":
        out = _direct(a, k, nd, mode, sel)
    elif sel is None:
        out = fft_path(a, k, nd, mode)
    else:
        out = fft_path(a, k, nd, "full")
        out = out[(Ellipsis,) + tuple(slice(s0, s0 + length) for s0, length in sel)]
    out = np.asarray(out).astype(np.result_type(a.dtype, k.dtype), copy=False)
    return _from_end(out, axes)
