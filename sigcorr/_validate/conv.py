"""convolve, correlate, their 2-D boundaries and lags, and what sigcorr.dask's
chunked front ends cannot do."""

from __future__ import annotations

import numbers

import numpy as np

from .common import (
    _KINDS_NUMERIC,
    as_numeric_array,
    check_axis,
    check_choice,
    check_int,
    compute_dtype,
    result_dtype,
)

# ---------------------------------------------------------------------------
# convolve
# ---------------------------------------------------------------------------

MODE_MESSAGE = "Acceptable mode flags are 'valid', 'same', or 'full'."
#: scipy's fftconvolve/oaconvolve (and convolve(..., method='fft')) word it in lower case
FFT_MODE_MESSAGE = "acceptable mode flags are 'valid', 'same', or 'full'"
#: correlation_lags' wording, followed by the choices
LAGS_MODE_MESSAGE = "Mode {mode} is invalid: acceptable mode flags are 'valid', 'same', or 'full'"
METHOD_MESSAGE = "Acceptable method flags are 'auto', 'direct', or 'fft'."
BOUNDARY_MESSAGE = "Acceptable boundary flags are 'fill', 'wrap' (or 'circular'), and 'symm' (or 'symmetric')."
SAME_NDIM_MESSAGE = "in1 and in2 should have the same dimensionality"
VALID_MESSAGE = (
    "For 'valid' mode, one must be at least as large as the other in every dimension"
)

_BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
               "symm": "symm", "symmetric": "symm"}


def check_mode(mode, method=None) -> str:
    """A mode flag; the message is scipy's for the same call (lower case
    with ``method='fft'``, as fftconvolve words it)."""
    return check_choice(mode, "mode", ("full", "same", "valid"), FFT_MODE_MESSAGE if method == "fft" else MODE_MESSAGE)


def check_lags_mode(mode) -> str:
    """correlation_lags' mode, in its own scipy wording."""
    return check_choice(mode, "mode", ("full", "same", "valid"), LAGS_MODE_MESSAGE.format(mode=mode))


def check_method(method) -> str:
    return check_choice(method, "method", ("auto", "direct", "fft"), METHOD_MESSAGE)


def check_boundary(boundary) -> str:
    if isinstance(boundary, str) and boundary in _BOUNDARIES:
        return _BOUNDARIES[boundary]
    raise ValueError(BOUNDARY_MESSAGE)


def swap_needed(mode: str, s1, s2, axes) -> bool:
    """scipy's rule: in 'valid' mode the larger input becomes the signal.

    Raises the scipy ValueError when neither input is at least as large as the
    other in every convolved axis.
    """
    if mode != "valid":
        return False
    ok1 = all(s1[a] >= s2[a] for a in axes)
    ok2 = all(s2[a] >= s1[a] for a in axes)
    if not (ok1 or ok2):
        raise ValueError(VALID_MESSAGE)
    return not ok1


def conv_inputs(in1, in2, mode, method, axes):
    """Validate the inputs of convolve/correlate.

    Returns ``(a, k, axes, mode, method, out_dtype)``: both arrays converted
    to the compute dtype (not copied when already right), ``axes`` a sorted
    tuple of the convolved axes (non-negative), ``out_dtype`` the dtype of
    the result (:func:`result_dtype`).  Two 0-d inputs or an empty one are
    not refused: see :func:`scalar_or_empty`.
    """
    method = check_method(method)
    mode = check_mode(mode, method)
    a = as_numeric_array(in1, "in1")
    k = as_numeric_array(in2, "in2")
    check_same_ndim(a, k)
    out_dtype = result_dtype(a.dtype, k.dtype)
    if a.ndim == 0 or a.size == 0 or k.size == 0:
        return a, k, None, mode, method, out_dtype
    axes = conv_axes(axes, a.shape, k.shape)
    dtype = compute_dtype(a.dtype, k.dtype)
    return a.astype(dtype, copy=False), k.astype(dtype, copy=False), axes, mode, method, out_dtype


def scalar_or_empty(a, k, conj=False):
    """scipy's answers where there is nothing to slide: two 0-d inputs give
    their product ``a * k`` (``a * conj(k)`` for a correlation), with NumPy's
    promotion, as scipy returns it; an empty input gives an empty result of
    shape (0,) in :func:`result_dtype`, as scipy's fftconvolve and oaconvolve
    (scipy's convolve raises on most of them).  None for other inputs."""
    if a.ndim == 0:
        return a * (np.conj(k) if conj and k.dtype.kind == "c" else k)
    if a.size == 0 or k.size == 0:
        return np.empty(0, dtype=result_dtype(a.dtype, k.dtype))
    return None


def check_same_ndim(a, b) -> None:
    """scipy's rule and wording: in1 and in2 have the same number of axes."""
    if np.ndim(a) != np.ndim(b):
        raise ValueError(SAME_NDIM_MESSAGE)


def conv_axes(axes, shape1, shape2) -> tuple:
    """``axes=`` of convolve/correlate for inputs of these shapes (same
    length): a sorted tuple of the convolved axes, non-negative (at least
    one).  ``None`` means every axis; the axes not convolved must have equal
    lengths or a length of 1."""
    ndim = len(shape1)
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (numbers.Integral, np.integer)) and not isinstance(axes, bool):
        axes = (axes,)
    try:
        axes = tuple(check_int(ax, "axes") for ax in axes)
    except TypeError:  # scipy's wording and exception
        raise ValueError(f"axes must be a scalar or iterable of integers, got {axes!r}") from None
    if not axes:
        raise ValueError("when provided, axes cannot be empty: name at least one axis")
    norm = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axes exceeds dimensionality of input: axis {ax} is out of bounds for {ndim}-D inputs")
        norm.append(ax % ndim)
    if len(set(norm)) != len(norm):
        raise ValueError(f"all axes must be unique, got {axes!r}")
    for ax in range(ndim):
        if ax not in norm and shape1[ax] != shape2[ax] and 1 not in (shape1[ax], shape2[ax]):
            raise ValueError(
                f"incompatible shapes for in1 and in2: {tuple(shape1)} and {tuple(shape2)} "
                f"(axis {ax} is not convolved, so its lengths must match or be 1)"
            )
    return tuple(sorted(norm))


def check_2d_pair(a, b) -> None:
    """convolve2d/correlate2d take two 2-D arrays."""
    if np.ndim(a) != 2 or np.ndim(b) != 2:
        raise ValueError(f"in1 and in2 must both be 2-D arrays, got {np.ndim(a)}-D and {np.ndim(b)}-D")


def check_fillvalue(fillvalue) -> np.ndarray:
    """convolve2d's ``fillvalue``: one number (scipy's wording), as a 0-d array."""
    try:
        fv = np.asarray(fillvalue)
    except (ValueError, TypeError):  # ragged sequences
        raise ValueError(f"`fillvalue` must be scalar or an array with one element, got {fillvalue!r}") from None
    if fv.size == 0:
        raise ValueError("`fillvalue` cannot be an empty array.")
    if fv.size != 1:
        raise ValueError("`fillvalue` must be scalar or an array with one element.")
    if fv.dtype.kind not in _KINDS_NUMERIC:
        raise TypeError(f"fillvalue must be a number, got {fillvalue!r}")
    return fv.reshape(())


def conv2d_inputs(in1, in2, mode, boundary, fillvalue):
    """Validate convolve2d/correlate2d's inputs: ``(a, k, mode, boundary, fv)``
    with ``a``, ``k`` the 2-D arrays as given (not yet in the compute dtype,
    see :func:`fill_in`) and ``fv`` the 0-d fill value."""
    mode = check_mode(mode)
    boundary = check_boundary(boundary)
    a = as_numeric_array(in1, "in1")
    k = as_numeric_array(in2, "in2")
    check_2d_pair(a, k)
    return a, k, mode, boundary, check_fillvalue(fillvalue)


def empty_2d_shape(shape1, shape2, mode, boundary) -> tuple:
    """The output shape of convolve2d/correlate2d with an empty input, as
    scipy answers it (each axis the mode's length, ``n + m - 1`` for 'full';
    sums over no products are 0).  'wrap' and 'symm' cannot extend an empty
    ``in1`` into a non-empty output."""
    swap_needed(mode, shape1, shape2, (0, 1))  # scipy's 'valid' refusal
    if mode == "valid":
        shape = tuple(abs(n - m) + 1 for n, m in zip(shape1, shape2))
    elif mode == "same":
        shape = tuple(shape1)
    else:
        shape = tuple(n + m - 1 for n, m in zip(shape1, shape2))
    if min(shape) < 0:
        raise ValueError(f"negative dimensions are not allowed: the 'full' output of inputs of shapes "
                         f"{tuple(shape1)} and {tuple(shape2)} has shape {shape}")
    if boundary != "fill" and 0 in shape1 and 0 not in shape:
        raise ValueError(f"boundary={boundary!r} cannot extend an empty in1 (shape {tuple(shape1)}); use boundary='fill'")
    return shape


def fill_in(fv: np.ndarray, dtype, out_dtype=None) -> np.ndarray:
    """The 0-d fill value in the compute ``dtype`` of real or complex inputs;
    a complex fill value with real inputs is refused (it would be cast).
    With an integer (or bool) ``out_dtype`` it is first cast to it, as scipy
    casts ``fillvalue`` to the output type (1.5 fills an integer image with 1)."""
    if dtype.kind != "c" and fv.dtype.kind == "c":
        raise ValueError("could not cast `fillvalue` directly to the output type: it is complex, in1 and in2 are real")
    if out_dtype is not None and np.dtype(out_dtype).kind in "biu":
        fv = fv.astype(out_dtype)
    return fv.astype(dtype)


def _lag_spec(value):
    """``lags`` as nested tuples of scalars: tuples, lists and arrays of any
    shape alike (an array's rows are its items; a 0-d array is its scalar)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        return tuple(_lag_spec(v) for v in value)
    return value


def _lag_pair(value):
    """An int L (lags -L..L) or a (lo, hi) pair -> (lo, hi)."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"lags must be an int L (lags -L..L) or a (lo, hi) pair, got {value!r}")
        lo, hi = (check_int(v, "lags") for v in value)
        if lo > hi:
            raise ValueError(f"lags (lo, hi) must have lo <= hi, got ({lo}, {hi})")
        return lo, hi
    L = check_int(value, "lags", minimum=0)
    return -L, L


def check_lags(lags, n1s, n2s, mode):
    """``lags=`` of correlate/convolve and the 2-D functions.

    ``n1s``, ``n2s``: the lengths of in1 and in2 along the convolved axes.
    Returns one (lo, hi) per axis, each inside the 'full' range
    [-(n2 - 1), n1 - 1].  For 2-D, an int applies to both axes, and a pair
    whose items are ints-or-pairs, at least one a pair, ``((lo0, hi0),
    (lo1, hi1))``, gives one window per axis (an int item L: -L..L on its
    axis, so ``(5, (6, 7))`` is -5..5 on axis 0 and 6..7 on axis 1); a bare
    pair of ints is ambiguous there and refused.  Lists and arrays of the
    same shapes are read as the tuples.
    """
    if mode != "full":
        raise ValueError(f"lags= selects lags of the 'full' output; use mode='full' with lags, got mode={mode!r}")
    nd = len(n1s)
    lags = _lag_spec(lags)  # one parser: tuples, lists and arrays of the same shapes alike
    pair = isinstance(lags, tuple) and len(lags) == 2
    # one item per axis: for 2-D a pair with at least one pair among its
    # items (a bare pair of ints is ambiguous there); for 3 or more axes any
    # tuple of that many items
    per_axis = isinstance(lags, tuple) and len(lags) == nd and (
        nd > 2 or (nd == 2 and any(isinstance(v, tuple) for v in lags)))
    if nd == 2 and pair and not per_axis:
        # (lo, hi) on every axis, or lo on one axis and hi on the other? Ask.
        a, b = lags
        raise ValueError(
            f"lags={tuple(lags)!r} is ambiguous for inputs of {nd} axes: write lags=(({a}, {b}), ({a}, {b})) "
            f"for the lags {a}..{b} on both axes, or one (lo, hi) pair per axis such as lags=((-{a}, {a}), (-{b}, {b}))"
        )
    if nd > 2 and isinstance(lags, tuple) and not per_axis:
        raise ValueError(
            f"lags={lags!r}: for inputs of {nd} axes give an int L (lags -L..L on every axis) or one item per "
            f"axis ({nd} items, each an int L or a (lo, hi) pair), got {len(lags)} items"
        )
    if per_axis:
        wins = [_lag_pair(v) for v in lags]
    else:
        wins = [_lag_pair(lags)] * nd
    for ax, ((lo, hi), n1, n2) in enumerate(zip(wins, n1s, n2s)):
        if lo < -(n2 - 1) or hi > n1 - 1:
            where = f" on axis {ax}" if nd > 1 else ""
            raise ValueError(
                f"lags{where}: the window [{lo}, {hi}] must lie inside the full range "
                f"[{-(n2 - 1)}, {n1 - 1}] of inputs of lengths {n1} and {n2}"
            )
    return wins


# ---------------------------------------------------------------------------
# sigcorr.dask: what its chunked front ends cannot do (besides the rules above)
# ---------------------------------------------------------------------------


def dask_conv_shapes(shape1, shape2, axes, mode) -> None:
    """sigcorr.dask's convolve/correlate: ``in2`` (in memory) is applied to
    every block of ``in1``, so it has length 1 along the batch axes, and in
    'valid' mode ``in1``, the chunked array, is the larger one."""
    if any(shape2[ax] != 1 for ax in range(len(shape1)) if ax not in axes):
        raise ValueError("sigcorr.dask: in2 must have length 1 along the batch axes (it is applied to every "
                         f"block), got shape {tuple(shape2)} with axes={axes}")
    if mode == "valid" and any(shape2[ax] > shape1[ax] for ax in axes):
        raise ValueError(f"{VALID_MESSAGE} (sigcorr.dask: in1, the chunked array, must be the larger)")


def dask_pair_shapes(xshape, yshape, axis) -> tuple:
    """sigcorr.dask's crosscorrelation: the shape x and y broadcast to, as
    the in-memory function broadcasts them (missing leading axes are 1, the
    batch axes broadcast, the time axis ``axis`` (of the broadcast shape)
    the same length in both)."""
    nd = max(len(xshape), len(yshape))
    xs = (1,) * (nd - len(xshape)) + tuple(xshape)
    ys = (1,) * (nd - len(yshape)) + tuple(yshape)
    axis = check_axis(axis, nd, f"{nd}-D x and y")
    if xs[axis] != ys[axis]:
        raise ValueError(f"x and y must have the same length along axis {axis}, got {xs[axis]} and {ys[axis]}")
    try:
        return np.broadcast_shapes(xs, ys), axis
    except ValueError:
        raise ValueError(f"x and y shapes {tuple(xshape)} and {tuple(yshape)} do not broadcast "
                         f"(axis {axis} is the time axis)") from None
