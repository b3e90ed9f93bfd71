"""Convolution and cross-correlation in any number of dimensions, with scipy.signal's results.

Two computation paths share one front end:

* ``direct``: the parallel Numba kernel ``_kernels.direct.corr_padded`` (1-D,
  2-D, and volumes: the same row passes for every outer kernel tap); the
  zero padding of 'full'/'same' is implicit; convolution flips the kernel;
* ``fft``: real (or complex) transforms from ``scipy.fft`` on all cores, with
  overlap-save for long 1-D signals and short kernels (``sigcorr._fft``).

``method="auto"`` picks the cheaper one from a cost model of these paths
(:func:`choose_conv_method`), priced in :mod:`sigcorr._costs` and re-measured
on the user's machine by ``sigcorr calibrate``.
"""

from __future__ import annotations

import timeit

import numpy as np

from . import _conv, _geometry, _validate
from ._runtime import serialized_if_needed

__all__ = [
    "convolve",
    "correlate",
    "convolve2d",
    "correlate2d",
    "choose_conv_method",
    "correlation_lags",
]


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
        Inputs of the same dimensionality, any number of axes (1-D signals,
        2-D images, 3-D volumes, ...).  Without ``axes`` every axis is
        convolved; with ``axes`` the other axes are batch axes that broadcast
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
    axes : int or sequence of ints, optional
        The axes convolved over, as in ``scipy.signal.fftconvolve``.
    lags : int, (lo, hi) or, for 2-D and more, one of them per axis, optional
        Compute only a window of the 'full' output (``mode`` must be
        'full'): an int L is the lags -L..L, a pair the lags lo..hi; the
        'full' output sample i has lag ``i - (in2 length - 1)``, as
        :func:`correlation_lags` numbers it.  For 2-D, an int applies to
        both axes and ``((lo0, hi0), (lo1, hi1))`` gives one window per
        axis, where an int item L stands for -L..L on its axis: the mixed
        ``lags=(5, (6, 7))`` is -5..5 on axis 0 and 6..7 on axis 1; a bare
        pair of ints is ambiguous there (lo..hi on both axes, or -lo..lo
        and -hi..hi?) and raises ValueError.  Lists and arrays of these
        shapes are read as the tuples (``np.array([[-3, 3], [-5, 5]])``).
        For three or more axes give one item per axis (``lags=(2, (0, 3),
        1)``) or one int for all.  The
        result equals the 'full' output sliced, in the order
        ``correlation_lags(..., lags=lags)`` gives; the direct path costs
        the window's size times the shorter input, not the whole output.
        Lags outside [-(in2 length - 1), in1 length - 1]: ValueError.

    Returns
    -------
    out : ndarray
        scipy's dtype: float32 input stays float32, float64 stays float64,
        complex stays complex; bool and integer inputs are computed in
        float64 and come back in scipy's integer (or bool) dtype, rounded,
        in one pass over the output.  float16 comes back as float32 and long
        double as float64 (computed so; scipy keeps them).  Two 0-d inputs
        give ``in1 * in2`` (``in1 * conj(in2)`` for :func:`correlate`), as
        scipy; an empty input gives an empty array of shape (0,), as scipy's
        ``fftconvolve``.  With ``mode='same'`` the output has ``in1``'s
        shape on every axis, batch axes too: where ``in1`` has length 1 on a
        batch axis and ``in2`` more, in2's centred element is used, as
        scipy's ``fftconvolve`` crops.

    Notes
    -----
    NaN or inf in an input reaches only the outputs whose window contains it
    (with ``method='fft'`` such outputs are NaN; scipy's FFT method makes
    every output NaN and warns).

    Integer results are exact while every sum stays below 2**53 in
    magnitude (float64 holds every integer up to there).  Beyond, the
    float64 sums are rounded before they are cast back, and a value outside
    the integer dtype's range is cast as NumPy casts floats, as scipy's
    ``method='fft'`` does: 8- and 16-bit results wrap around (as scipy's
    direct method), a value beyond the int32 or int64 range gives NumPy's
    RuntimeWarning and no meaningful value.

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
    >>> sigcorr.convolve(np.ones((8, 8, 8)), np.ones((3, 3, 3)), mode="same")[0, 0, :3]  # a volume
    array([ 8., 12., 12.])
    >>> sigcorr.convolve([3, 4, 5], [1, 2, 3])  # integers in, integers out (computed in float64)
    array([ 3, 10, 22, 22, 15])
    >>> sigcorr.convolve(np.arange(5.0)[:, None], np.ones((3, 3)), mode="same", axes=0).shape  # in1's shape
    (5, 1)
    """
    a, k, axes, mode, method, out_dtype = _validate.conv_inputs(in1, in2, mode, method, axes)
    special = _validate.scalar_or_empty(a, k)
    if special is not None:
        return special
    a, k = _same_batch(a, k, axes, mode)
    return _validate.to_result(_conv.convolve_core(a, k, axes, mode, method, _window(a, k, axes, mode, lags)), out_dtype)


def _same_batch(a, k, axes, mode):
    """'same' keeps in1's shape on the batch axes too (scipy's crop): in2's
    centred element where in1 has length 1 and in2 more."""
    sel = _geometry.centred_batch(a.shape, k.shape, axes) if mode == "same" else None
    return (a, k) if sel is None else (a, k[sel])


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
    a, k, axes, mode, method, out_dtype = _validate.conv_inputs(in1, in2, mode, method, axes)
    special = _validate.scalar_or_empty(a, k, conj=True)
    if special is not None:
        return special
    win = _window(a, k, axes, mode, lags)
    a, k = _same_batch(a, k, axes, mode)
    k = k[tuple(slice(None, None, -1) if ax in axes else slice(None) for ax in range(k.ndim))]
    if k.dtype.kind == "c":
        k = k.conj()
    return _validate.to_result(_conv.convolve_core(a, k, axes, mode, method, win), out_dtype)


def _boundary_conv2d(in1, in2, mode, boundary, fillvalue, flip, lags=None):
    a, k, mode, boundary, fv = _validate.conv2d_inputs(in1, in2, mode, boundary, fillvalue)
    out_dtype = _validate.result_dtype(a.dtype, k.dtype)
    win = None if lags is None else _validate.check_lags(lags, a.shape, k.shape, mode)
    if win is not None and not (boundary == "fill" and np.all(fv == 0)):
        # another boundary: the whole output, then the window
        full = _boundary_conv2d(a, k, mode, boundary, fv, flip)
        return np.ascontiguousarray(full[tuple(slice(lo + m - 1, hi + m) for (lo, hi), m in zip(win, k.shape))])
    dtype = _validate.compute_dtype(a.dtype, k.dtype)
    fv = _validate.fill_in(fv, dtype, out_dtype)
    if a.size == 0 or k.size == 0:
        # every output sums over the fill values only (or over no products)
        shape = _validate.empty_2d_shape(a.shape, k.shape, mode, boundary)
        value = fv * (k.conj() if flip else k).astype(dtype).sum() if a.size == 0 else 0
        return _validate.to_result(np.full(shape, value, dtype=dtype), out_dtype)
    out = _filled_conv2d(a, k, mode, boundary, fv, flip, win, dtype)
    # C-contiguous either way, in one pass at most (to_result writes a new array)
    return np.ascontiguousarray(out) if out.dtype == out_dtype else _validate.to_result(out, out_dtype)


def _filled_conv2d(a, k, mode, boundary, fv, flip, win, dtype):
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
        return np.ascontiguousarray(_conv.convolve_core(a, k, (0, 1), mode, "auto", win))
    if mode == "valid" or (boundary == "fill" and fv == 0 and not shifted):
        out = _conv.convolve_core(a, k, (0, 1), mode, "auto")
    else:
        pads = _geometry.boundary_pads(a.shape, k.shape, mode, flip)
        if boundary == "fill":
            ap = np.pad(a, pads, mode="constant", constant_values=fv)
        else:
            ap = np.pad(a, pads, mode="wrap" if boundary == "wrap" else "symmetric")
        out = _conv.convolve_core(ap, k, (0, 1), "valid", "auto")
    if swapped and flip:
        out = out[::-1, ::-1]
    return out


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
        Only this window of the 'full' output, as in :func:`convolve`: an
        int item of the per-axis form is -L..L on its axis (``(5, (6, 7))``:
        -5..5 on axis 0, 6..7 on axis 1); lists and arrays of these shapes
        are read as the tuples.

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
        The inputs of :func:`convolve` (same dimensionality, every axis
        convolved).
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
    if axes is None and not _validate.check_flag(measure, "measure"):
        return "direct"  # 0-d or empty inputs: nothing to transform (scipy's answer too)
    if _validate.check_flag(measure, "measure"):
        times = {m: _timeit_fast(lambda m=m: convolve(in1, in2, mode=mode, method=m)) for m in ("fft", "direct")}
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    if _validate.swap_needed(mode, a.shape, k.shape, axes):
        a, k = k, a
    return _conv.choose(a, k, len(axes), mode)


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
    mode = _validate.check_lags_mode(mode)
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
