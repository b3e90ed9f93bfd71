"""Convolution and cross-correlation in 1-D and 2-D, with scipy.signal's results.

Two computation paths share one front end:

* ``direct``: the parallel Numba kernel ``_kernels.direct.corr_padded`` (the
  zero padding of 'full'/'same' is implicit; convolution flips the kernel);
* ``fft``: real (or complex) transforms from ``scipy.fft`` on all cores, with
  overlap-save for long 1-D signals and short kernels (``sigcorr._fft``).

``method="auto"`` picks the cheaper one from a cost model of these paths
(:func:`choose_conv_method`), priced in :mod:`sigcorr._costs` and re-measured
on the user's machine by ``sigcorr calibrate``.
"""

from __future__ import annotations

import math
import timeit

import numpy as np

from . import _costs, _fft, _reference, _validate
from ._kernels import direct as _kdirect
from ._runtime import output_apart, serialized_if_needed, run, threads

__all__ = [
    "convolve",
    "correlate",
    "convolve2d",
    "correlate2d",
    "choose_conv_method",
    "correlation_lags",
]


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


def _estimated_times(a_shape, k_shape, nd, mode, dtype):
    """Estimated seconds of (direct, fft) for a convolution of these shapes
    (prices: :mod:`sigcorr._costs`)."""
    c = _costs.get()
    ns = a_shape[len(a_shape) - nd:]
    ms = k_shape[len(k_shape) - nd:]
    batch = math.prod(np.broadcast_shapes(a_shape[:len(a_shape) - nd], k_shape[:len(k_shape) - nd]))
    out = math.prod(_fft.out_slices(n, m, mode)[1] for n, m in zip(ns, ms))
    taps = math.prod(min(n, m) for n, m in zip(ns, ms))
    dtype = np.dtype(dtype)
    cplx = dtype.kind == "c"
    item = dtype.itemsize // 2 if cplx else dtype.itemsize
    nthreads = threads()
    direct = batch * out * taps * c.direct_ns[item] * (c.complex_direct if cplx else 1) / nthreads
    size_f = c.fft_f32 if item == 4 else 1.0
    size_f *= c.complex_fft if cplx else 1.0
    if nd == 1 and _use_overlap_save(ns[0], ms[0]):
        L = _fft.overlap_save_block(min(ns[0], ms[0]))
        step = L - min(ns[0], ms[0]) + 1
        nb = -(-_fft.out_slices(ns[0], ms[0], mode)[1] // step)
        pts = batch * nb * L
        fft = 2 * pts * math.log2(L) * c.fft_parallel_ns * size_f / nthreads
    else:
        fshape = [n + m - 1 for n, m in zip(ns, ms)]
        pts = math.prod(fshape)
        if nd == 2 or batch > 1:  # transforms batched over every core
            fft = 3 * batch * pts * math.log2(max(pts, 2)) * c.fft_parallel_ns * size_f / nthreads
        else:  # a single 1-D transform runs on one core
            fft = 3 * pts * math.log2(max(pts, 2)) * c.fft_ns * size_f
    return direct * 1e-9, (fft + c.fft_call_ns) * 1e-9


def _use_overlap_save(n, m):
    """Overlap-save when the longer input spans several of the shorter one's blocks."""
    lo, hi = min(n, m), max(n, m)
    return hi >= _costs.get().overlap_save_min_blocks * _fft.overlap_save_block(lo)


def _choose(a, k, nd, mode):
    direct, fft = _estimated_times(a.shape, k.shape, nd, mode, a.dtype)
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
    direct = batch * out * taps * c.direct_ns[item] * (c.complex_direct if cplx else 1) / threads() * 1e-9
    fft = _estimated_times(a.shape, k.shape, nd, "full", a.dtype)[1]
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
        sel = [_fft.out_slices(n, m, mode) for n, m in zip(ns, ms)]
    elif nd == 1 and _use_lag_kernel(B, ms[0], sel[0][1]):
        return _lags1_real(a, k, sel[0][0] - (ms[0] - 1), sel[0][1])
    pads = [m - 1 - s0 for (s0, _), m in zip(sel, ms)]
    outs = [length for _, length in sel]
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
        out = output_apart((B, outs[0], outs[1]), a.dtype, img)
    else:
        out = np.empty((B, outs[0], outs[1]), dtype=a.dtype)
    run(_kdirect.corr_padded, _reference.corr_padded, img, ker, out, pads[0], pads[1])
    return out.reshape(batch + tuple(outs[2 - nd:]))


_LAG_BLOCK = 8192  # fewest samples per block of lag_window's split sums


def _use_lag_kernel(B, m, nl):
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
    P = max(1, min(-(-4 * threads() // B), m // _LAG_BLOCK))
    part = np.empty((B, P, nl), dtype=x.dtype)
    run(_kdirect.lag_window, _reference.lag_window, x, y, part, int(lo))
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
        if _use_lag_kernel(x.shape[0], y.shape[1], nl):
            return lag_window_sums(x, y, lo, nl)
        return _direct_real(x, y[:, ::-1], 1, "full", [(lo + y.shape[1] - 1, nl)])
    out = _fft_path(x, y[:, ::-1], 1, "full")
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
        s0, length = _fft.out_slices(ns[0], ms[0], mode)
        if ns[0] >= ms[0]:
            return _fft.overlap_save(a, k, s0, length)
        return _fft.overlap_save(k, a, s0, length)
    return _fft.fftconv(a, k, nd, mode)


def _fft_path(a, k, nd, mode):
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


def _convolve_core(a, k, axes, mode, method, win=None):
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
        method = _choose(a, k, nd, mode) if win is None else _choose_window(a, k, nd, win)
    if method == "direct":
        out = _direct(a, k, nd, mode, sel)
    elif sel is None:
        out = _fft_path(a, k, nd, mode)
    else:
        out = _fft_path(a, k, nd, "full")
        out = out[(Ellipsis,) + tuple(slice(s0, s0 + length) for s0, length in sel)]
    out = np.asarray(out).astype(np.result_type(a.dtype, k.dtype), copy=False)
    return _from_end(out, axes)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def _window(a, k, axes, mode, lags):
    if lags is None:
        return None
    return _validate.check_lags(lags, [a.shape[ax] for ax in axes], [k.shape[ax] for ax in axes], mode)


@serialized_if_needed
def convolve(in1, in2, mode="full", method="auto", axes=None, *, lags=None):
    """Convolve two arrays (the kernel is flipped), as ``scipy.signal.convolve``.

    Parameters
    ----------
    in1, in2 : array_like
        Inputs of the same dimensionality.  Without ``axes`` they must be 1-D
        or 2-D; with ``axes`` the other axes are batch axes that broadcast
        (each pair of lengths equal, or one of them 1).
    mode : {'full', 'valid', 'same'}
        ``'full'``: the whole linear convolution; ``'same'``: the size of
        ``in1``, centred as scipy centres it; ``'valid'``: only the outputs
        that do not rely on zero padding (one input must be at least as large
        as the other in every convolved axis; the larger one slides).
    method : {'auto', 'direct', 'fft'}
        ``'direct'`` sums the products (parallel Numba kernel); ``'fft'`` uses
        real FFTs on all cores (overlap-save for long 1-D signals with short
        kernels); ``'auto'`` picks the cheaper by :func:`choose_conv_method`.
    axes : int or sequence of 1 or 2 ints, optional
        The axes convolved over, as in ``scipy.signal.fftconvolve``.
    lags : int or (lo, hi), optional
        Compute only a window of the 'full' output (``mode`` must be
        'full'): an int L is the lags -L..L, a pair the lags lo..hi; the
        'full' output sample i has lag ``i - (in2 length - 1)``, as
        :func:`correlation_lags` numbers it.  For 2-D, one int or pair
        applies to both axes, ``((lo0, hi0), (lo1, hi1))`` to each.  The
        result equals the 'full' output sliced, in the order
        ``correlation_lags(..., lags=lags)`` gives; the direct path costs
        the window's size times the shorter input, not the whole output.
        Lags outside [-(in2 length - 1), in1 length - 1]: ValueError.

    Returns
    -------
    out : ndarray
        float32 input stays float32, float64 stays float64, complex stays
        complex; bool and integer inputs are computed in float64, float16 in
        float32.

    Notes
    -----
    NaN or inf in an input reaches only the outputs whose window contains it
    (with ``method='fft'`` such outputs are NaN).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> sigcorr.convolve(np.ones((3, 3)), np.ones((2, 2)), mode="valid")
    array([[4., 4.],
           [4., 4.]])
    >>> sigcorr.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], lags=(0, 1))  # 'full' samples 2, 3
    array([2.5, 4. ])
    """
    a, k, axes, mode, method, _ = _validate.conv_inputs(in1, in2, mode, method, axes)
    return _convolve_core(a, k, axes, mode, method, _window(a, k, axes, mode, lags))


@serialized_if_needed
def correlate(in1, in2, mode="full", method="auto", axes=None, *, lags=None):
    """Cross-correlate two arrays (no flip), as ``scipy.signal.correlate``.

    ``correlate(in1, in2)`` is ``convolve(in1, in2[::-1].conj())``: for
    complex input ``in2`` is conjugated, as in scipy.  Parameters, modes,
    dtypes, ``axes`` and ``lags`` are those of :func:`convolve`; the lag of
    each output sample is given by :func:`correlation_lags`: the output at
    lag k is ``sum_n in1[n + k] * conj(in2[n])``, so a positive lag means
    ``in1`` lags behind (is a delayed copy of) ``in2``.

    ``lags=L`` computes only the lags -L..L: for two 10**6-sample signals
    and 201 lags that is 2·10**8 multiply-adds split over the cores instead
    of a 2·10**6-point FFT correlation.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> sigcorr.correlate([1.0, 2.0, 3.0, 4.0], [1.0, 1.0], mode="valid")
    array([3., 5., 7.])
    >>> sigcorr.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], lags=1)  # lags -1, 0, 1
    array([2. , 3.5, 3. ])
    >>> x = np.random.default_rng(0).standard_normal(10_000)
    >>> r = sigcorr.correlate(np.roll(x, 7), x, lags=20)
    >>> int(sigcorr.correlation_lags(x.size, x.size, lags=20)[np.argmax(r)])
    7
    """
    a, k, axes, mode, method, _ = _validate.conv_inputs(in1, in2, mode, method, axes)
    win = _window(a, k, axes, mode, lags)
    k = k[tuple(slice(None, None, -1) if ax in axes else slice(None) for ax in range(k.ndim))]
    if k.dtype.kind == "c":
        k = k.conj()
    return _convolve_core(a, k, axes, mode, method, win)


def _boundary_conv2d(in1, in2, mode, boundary, fillvalue, flip, lags=None):
    a, k, mode, boundary, fv = _validate.conv2d_inputs(in1, in2, mode, boundary, fillvalue)
    win = None if lags is None else _validate.check_lags(lags, a.shape, k.shape, mode)
    if win is not None and not (boundary == "fill" and np.all(fv == 0)):
        # another boundary: the whole output, then the window
        full = _boundary_conv2d(a, k, mode, boundary, fv, flip)
        return np.ascontiguousarray(full[tuple(slice(lo + m - 1, hi + m) for (lo, hi), m in zip(win, k.shape))])
    dtype = _validate.compute_dtype(a.dtype, k.dtype)
    fv = _validate.fill_in(fv, dtype)
    a = a.astype(dtype, copy=False)
    k = k.astype(dtype, copy=False)
    swapped = _validate.swap_needed(mode, a.shape, k.shape, (0, 1))
    if swapped:
        a, k = k, a
    if flip:  # correlation: conjugate and reverse the kernel, then convolve
        k = k[::-1, ::-1]
        if k.dtype.kind == "c":
            k = k.conj()
    # scipy's correlate2d centres 'same' at m // 2 of the full correlation,
    # one sample later than the convolution's (m - 1) // 2 for even m.
    shifted = flip and mode == "same" and any(m % 2 == 0 for m in k.shape)
    if win is not None and boundary == "fill" and fv == 0:
        return np.ascontiguousarray(_convolve_core(a, k, (0, 1), mode, "auto", win))
    if mode == "valid" or (boundary == "fill" and fv == 0 and not shifted):
        out = _convolve_core(a, k, (0, 1), mode, "auto")
    else:
        pads = _fft.boundary_pads(a.shape, k.shape, mode, flip)
        if boundary == "fill":
            ap = np.pad(a, pads, mode="constant", constant_values=fv)
        else:
            ap = np.pad(a, pads, mode="wrap" if boundary == "wrap" else "symmetric")
        out = _convolve_core(ap, k, (0, 1), "valid", "auto")
    if swapped and flip:
        out = out[::-1, ::-1]
    return np.ascontiguousarray(out)


@serialized_if_needed
def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, lags=None):
    """Convolve two 2-D arrays with a boundary condition, as ``scipy.signal.convolve2d``.

    Parameters
    ----------
    in1, in2 : array_like, 2-D
    mode : {'full', 'valid', 'same'}
    boundary : {'fill', 'wrap', 'symm'}
        How ``in1`` is extended: ``'fill'`` with ``fillvalue``, ``'wrap'``
        periodically, ``'symm'`` by mirroring (the edge sample repeated).
    fillvalue : scalar
        The value ``'fill'`` pads with (default 0).
    lags : int, (lo, hi) or ((lo0, hi0), (lo1, hi1)), optional
        Only this window of the 'full' output, as in :func:`convolve`.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.convolve2d(np.eye(3), [[1.0, 1.0]], mode="same", boundary="wrap")
    array([[1., 1., 0.],
           [0., 1., 1.],
           [1., 0., 1.]])
    """
    return _boundary_conv2d(in1, in2, mode, boundary, fillvalue, flip=False, lags=lags)


@serialized_if_needed
def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, lags=None):
    """Cross-correlate two 2-D arrays, as ``scipy.signal.correlate2d``.

    Same parameters as :func:`convolve2d` (``lags`` included); ``in2`` is
    not flipped (and is conjugated when complex).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.correlate2d(np.arange(9.0).reshape(3, 3), [[1.0, -1.0]], mode="valid")
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]])
    >>> sigcorr.correlate2d(np.eye(4), np.eye(2), lags=1)  # lags -1..1 on both axes
    array([[1., 0., 0.],
           [0., 2., 0.],
           [0., 0., 2.]])
    """
    return _boundary_conv2d(in1, in2, mode, boundary, fillvalue, flip=True, lags=lags)


def choose_conv_method(in1, in2, mode="full", measure=False):
    """Return ``'direct'`` or ``'fft'``: the faster way to convolve these inputs.

    As ``scipy.signal.choose_conv_method``, with sigcorr's own paths.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs of :func:`convolve` (1-D or 2-D, same dimensionality).
    mode : {'full', 'valid', 'same'}
    measure : bool
        False (default): predict from the cost model of sigcorr's kernels
        (multiply-adds of the direct kernel against the transform work of the
        FFT path, both spread over the cores), not from scipy's; its prices
        are this machine's after ``sigcorr calibrate``, else built-in
        defaults (:mod:`sigcorr._costs`).  True: time ``convolve(in1, in2,
        mode, method=m)`` for both methods, as scipy does, and return the
        faster with the times.

    Returns
    -------
    method : str
        ``'direct'`` or ``'fft'``.
    times : dict
        Only with ``measure=True``: seconds per call, ``{'fft': t, 'direct':
        t}``, each the best of a few repetitions after a first call (a
        kernel not compiled yet is compiled, or answered by its reference
        twin, during that first call, as in any other call).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.choose_conv_method(np.ones(100_000), np.ones(8))
    'direct'
    >>> sigcorr.choose_conv_method(np.ones((512, 512)), np.ones((64, 64)))
    'fft'
    >>> method, times = sigcorr.choose_conv_method(np.ones(1000), np.ones(5), measure=True)
    >>> sorted(times)
    ['direct', 'fft']
    """
    a, k, axes, mode, _, _ = _validate.conv_inputs(in1, in2, mode, "auto", None)
    if measure:
        times = {m: _timeit_fast(lambda m=m: convolve(in1, in2, mode=mode, method=m)) for m in ("fft", "direct")}
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    if _validate.swap_needed(mode, a.shape, k.shape, axes):
        a, k = k, a
    return _choose(a, k, len(axes), mode)


def _timeit_fast(func, repeat=3):
    """Seconds per call of ``func()``: scipy's ``_timeit_fast`` (enough calls
    per repetition to take 5 ms, the best of ``repeat`` repetitions; a call
    of over a second is timed once)."""
    timer = timeit.Timer(func)
    number, x = 1, 0.0
    for p in range(10):
        number = 10 ** p
        x = timer.timeit(number)
        if x >= 5e-4:
            break
    if x > 1.0:
        return x / number
    number *= 10
    return min(timer.repeat(repeat, number)) / number


def correlation_lags(in1_len, in2_len, mode="full", *, lags=None):
    """Lag of each output sample of a 1-D :func:`correlate`, as scipy's.

    With ``lags`` (an int L or a (lo, hi) pair, ``mode='full'``): the lags
    ``correlate(..., lags=lags)`` returns, lo..hi.

    Examples
    --------
    >>> import sigcorr
    >>> sigcorr.correlation_lags(4, 2)
    array([-1,  0,  1,  2,  3])
    >>> sigcorr.correlation_lags(4, 2, mode="valid")
    array([0, 1, 2])
    >>> sigcorr.correlation_lags(1000, 1000, lags=2)
    array([-2, -1,  0,  1,  2])
    """
    n1 = _validate.check_int(in1_len, "in1_len", minimum=1)
    n2 = _validate.check_int(in2_len, "in2_len", minimum=1)
    mode = _validate.check_mode(mode)
    if lags is not None:
        ((lo, hi),) = _validate.check_lags(lags, [n1], [n2], mode)
        return np.arange(lo, hi + 1)
    if mode == "full":
        return np.arange(-n2 + 1, n1)
    if mode == "same":
        lags = np.arange(-n2 + 1, n1)
        mid = lags.size // 2
        lag_bound = n1 // 2
        if n1 % 2 == 0:
            return lags[mid - lag_bound:mid + lag_bound]
        return lags[mid - lag_bound:mid + lag_bound + 1]
    if n1 >= n2:
        return np.arange(0, n1 - n2 + 1)
    return np.arange(n1 - n2, 1)
