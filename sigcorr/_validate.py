"""Turning user input into kernel input.

Everything a kernel may assume is established here: a native-endian,
C-contiguous, writable array of one of the dtypes the kernels are compiled for
(float32, float64; complex is split or routed to FFT paths by the callers),
chosen by the one dtype policy, :func:`compute_dtype`'s table.  Every error a
user can trigger is raised here, as a ``ValueError`` or ``TypeError`` naming
the argument and what was expected, in one wording per mistake (scipy's where
scipy words it); ``sigcorr.dask`` calls the same checks.

Sections: shared helpers first, then one section per public module.  Add new
helpers to your module's section.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from ._kernels.codes import MATCH_METHOD_CODES

# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

_KINDS_NUMERIC = "biufc"


def as_numeric_array(x, name: str, *, allow_complex: bool = True) -> np.ndarray:
    """``np.asarray(x)`` that refuses what cannot be computed on.

    Raises ``TypeError`` for object, string, bytes, void or datetime dtypes
    (and for complex when ``allow_complex`` is false).  Does not copy.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind not in _KINDS_NUMERIC:
        raise TypeError(
            f"{name} must have a numeric dtype (bool, int, float or complex), "
            f"got dtype {arr.dtype}"
        )
    if not allow_complex and arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


#: The families of :func:`compute_dtype`.
DTYPE_FAMILIES = ("signal", "image", "series")


def compute_dtype(*dtypes, family: str = "signal") -> np.dtype:
    """The dtype a family of functions computes (and returns) in: the one dtype policy.

    ==========================  ==================  ========  ========
    input dtype                 "signal"            "image"   "series"
    ==========================  ==================  ========  ========
    float16, float32            float32             float32   float64
    float64, longdouble         float64             float64   float64
    bool, (u)int8, (u)int16     float64             float32   float64
    wider integers              float64             float64   float64
    complex64, complex128       themselves          --        --
    complex256                  complex128          --        --
    ==========================  ==================  ========  ========

    * "signal": convolve, correlate, convolve2d, correlate2d, conv1d/conv2d,
      avg pooling; max pooling computes in it and returns the input's dtype
      (a maximum is exact in any of them).
    * "image": match_template and locate; 8/16-bit images are exact in
      float32, whose window sums the kernels accumulate in float64 anyway.
    * "series": autocorrelation, detect_period(s), crosscorrelation,
      estimate_delay, always float64.
    * "--": those families refuse complex input (:func:`as_numeric_array`).

    Several inputs combine with NumPy's promotion of their mapped dtypes (a
    float32 image with a float64 template computes in float64).  The result
    is native-endian.
    """
    if family not in DTYPE_FAMILIES:
        raise ValueError(f"family must be one of {DTYPE_FAMILIES}, got {family!r}")
    return np.result_type(*(_compute_one(np.dtype(dt), family) for dt in dtypes)).newbyteorder("=")


def _compute_one(dt: np.dtype, family: str) -> np.dtype:
    if family == "series":
        return np.dtype(np.float64)
    if dt.kind == "c":
        return dt if dt.itemsize <= 16 else np.dtype(np.complex128)
    if dt.kind in "bui":
        small = family == "image" and dt.itemsize <= 2
        return np.dtype(np.float32 if small else np.float64)
    return np.dtype(np.float32 if dt.itemsize <= 4 else np.float64)


def as_kernel_array(x: np.ndarray, dtype) -> np.ndarray:
    """Native-endian, C-contiguous, writable copy-if-needed of ``x`` in ``dtype``.

    Read-only inputs are copied so that kernels compile for one array type only
    (Numba types read-only arrays separately); the caller's array is never
    written to either way.
    """
    dtype = np.dtype(dtype).newbyteorder("=")
    out = np.ascontiguousarray(x, dtype=dtype)
    if not out.flags.writeable:
        out = out.copy()
    return out


def check_choice(value, name: str, choices, message: str | None = None):
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    if isinstance(value, str) and value in choices:
        return value
    if message is None:
        opts = ", ".join(repr(c) for c in choices)
        message = f"{name} must be one of {opts}, got {value!r}"
    raise ValueError(message)


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """An integer argument (bool refused), optionally ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        try:
            if isinstance(value, (bool, np.bool_)):
                raise TypeError
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {value!r}") from None
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_real(value, name: str, *, finite: bool = True) -> float:
    """A real scalar argument (bool refused); finite unless told otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(value, name: str) -> float:
    """A finite real scalar argument > 0 (a sampling rate, say)."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_flag(value, name: str) -> bool:
    """A True/False argument (numpy bools too; 0 and 1 are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_axis(axis, ndim: int, what: str) -> int:
    """``axis`` as a non-negative index into ``ndim`` axes; ``what`` names the
    array(s) in the message ("a 2-D x")."""
    axis = check_int(axis, "axis")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for {what}")
    return axis % ndim


def check_nonempty(arr: np.ndarray, name: str) -> None:
    if arr.ndim == 0:
        raise ValueError(f"{name} must be at least 1-D, got a 0-d array")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")


# ---------------------------------------------------------------------------
# convolve
# ---------------------------------------------------------------------------

MODE_MESSAGE = "Acceptable mode flags are 'valid', 'same', or 'full'."
METHOD_MESSAGE = "Acceptable method flags are 'auto', 'direct', or 'fft'."
BOUNDARY_MESSAGE = "Acceptable boundary flags are 'fill', 'wrap' (or 'circular'), and 'symm' (or 'symmetric')."
SAME_NDIM_MESSAGE = "in1 and in2 should have the same dimensionality"
VALID_MESSAGE = (
    "For 'valid' mode, one must be at least as large as the other in every dimension"
)

_BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
               "symm": "symm", "symmetric": "symm"}


def check_mode(mode) -> str:
    return check_choice(mode, "mode", ("full", "same", "valid"), MODE_MESSAGE)


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

    Returns ``(a, k, axes, dtype)``: both arrays converted to the compute dtype
    (not copied when already right), ``axes`` a sorted tuple of the convolved
    axes (non-negative).
    """
    mode = check_mode(mode)
    method = check_method(method)
    a = as_numeric_array(in1, "in1")
    k = as_numeric_array(in2, "in2")
    check_same_ndim(a, k)
    check_nonempty(a, "in1")
    check_nonempty(k, "in2")
    axes = conv_axes(axes, a.shape, k.shape)
    dtype = compute_dtype(a.dtype, k.dtype)
    return a.astype(dtype, copy=False), k.astype(dtype, copy=False), axes, mode, method, dtype


def check_same_ndim(a, b) -> None:
    """scipy's rule and wording: in1 and in2 have the same number of axes."""
    if np.ndim(a) != np.ndim(b):
        raise ValueError(SAME_NDIM_MESSAGE)


def conv_axes(axes, shape1, shape2) -> tuple:
    """``axes=`` of convolve/correlate for inputs of these shapes (same
    length): a sorted tuple of the 1 or 2 convolved axes, non-negative.
    ``None`` means every axis, allowed for 1-D and 2-D inputs only; the
    axes not convolved must have equal lengths or a length of 1."""
    ndim = len(shape1)
    if axes is None:
        if ndim > 2:
            raise ValueError(
                f"in1 and in2 are {ndim}-D: without `axes` only 1-D and 2-D inputs "
                "are convolved; pass axes=(...) to name the 1 or 2 axes to convolve over"
            )
        return tuple(range(ndim))
    if isinstance(axes, (numbers.Integral, np.integer)) and not isinstance(axes, bool):
        axes = (axes,)
    try:
        axes = tuple(check_int(ax, "axes") for ax in axes)
    except TypeError:
        raise TypeError(f"axes must be an int or a sequence of ints, got {axes!r}") from None
    norm = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axes: axis {ax} is out of bounds for {ndim}-D inputs")
        norm.append(ax % ndim)
    if len(set(norm)) != len(norm):
        raise ValueError(f"axes must be unique, got {axes!r}")
    if not 1 <= len(norm) <= 2:
        raise ValueError(f"axes must name 1 or 2 axes, got {len(norm)}")
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
    fv = np.asarray(fillvalue)
    if fv.size != 1:
        raise ValueError("fillvalue must be scalar or an array with one element.")
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
    check_nonempty(a, "in1")
    check_nonempty(k, "in2")
    return a, k, mode, boundary, check_fillvalue(fillvalue)


def fill_in(fv: np.ndarray, dtype) -> np.ndarray:
    """The 0-d fill value in the compute ``dtype`` of real or complex inputs;
    a complex fill value with real inputs is refused (it would be cast)."""
    if dtype.kind != "c" and fv.dtype.kind == "c":
        raise ValueError("fillvalue is complex but in1 and in2 are real")
    return fv.astype(dtype)


def _lag_pair(value):
    """An int L (lags -L..L) or a (lo, hi) pair -> (lo, hi)."""
    if isinstance(value, (tuple, list, np.ndarray)):
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
    [-(n2 - 1), n1 - 1].  For 2-D, an int or one (lo, hi) pair applies to
    both axes; a pair whose items are themselves ints-or-pairs given as
    sequences, ``((lo0, hi0), (lo1, hi1))``, gives one window per axis.
    """
    if mode != "full":
        raise ValueError(f"lags= selects lags of the 'full' output; use mode='full' with lags, got mode={mode!r}")
    nd = len(n1s)
    per_axis = (nd == 2 and isinstance(lags, (tuple, list)) and len(lags) == 2
                and any(isinstance(v, (tuple, list, np.ndarray)) for v in lags))
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
# match
# ---------------------------------------------------------------------------

# the method names, in OpenCV's TM_* order: the keys of the kernels' codes
MATCH_METHODS = tuple(MATCH_METHOD_CODES)
MINIMIZING = ("sqdiff", "sqdiff_normed")  # distances: the best match is the lowest score


def maximizes(method: str) -> bool:
    """Whether the best match of a (checked) method is its highest score."""
    return method not in MINIMIZING


def check_match_method(method) -> str:
    if isinstance(method, str) and method.lower() in MATCH_METHODS:
        return method.lower()
    opts = ", ".join(repr(m) for m in MATCH_METHODS)
    raise ValueError(f"method must be one of {opts}, got {method!r}")


def template_fits(ishape, tshape) -> bool:
    """Whether a template of shape ``tshape`` fits in an image of shape
    ``ishape`` (same number of axes): not larger in any spatial axis (the
    first two of a colour (H, W, C) image)."""
    spatial = 2 if len(ishape) == 3 else len(ishape)
    return all(t <= n for t, n in zip(tuple(tshape)[:spatial], tuple(ishape)[:spatial]))


def match_shapes(ishape, tshape) -> None:
    """An image and a template of these shapes can be matched: the same
    number of axes, 1-D, 2-D or colour (H, W, C) with the same channels,
    the template not larger than the image in any axis."""
    ishape, tshape = tuple(ishape), tuple(tshape)
    if len(ishape) != len(tshape):
        raise ValueError(
            f"image and template must have the same number of dimensions, "
            f"got image.ndim={len(ishape)} and template.ndim={len(tshape)}"
        )
    if len(ishape) > 3:
        raise ValueError(
            f"image must be 1-D, 2-D or a colour image (H, W, C), got {len(ishape)}-D"
        )
    if len(ishape) == 3 and ishape[2] != tshape[2]:
        raise ValueError(
            f"image and template must have the same number of channels, "
            f"got {ishape[2]} and {tshape[2]}"
        )
    if not template_fits(ishape, tshape):
        raise ValueError(
            f"template must not be larger than image in any axis, got template "
            f"shape {tshape} and image shape {ishape}"
        )


def match_inputs(image, template, mask):
    """Validate match_template's inputs.

    Returns ``(img, tpl, msk, squeeze_1d, dtype)``: image (C, H, W) and
    template (C, h, w) in the "image" compute dtype (:func:`compute_dtype`),
    mask (C, h, w) float64 or None.
    """
    img = as_numeric_array(image, "image", allow_complex=False)
    tpl = as_numeric_array(template, "template", allow_complex=False)
    check_nonempty(img, "image")
    check_nonempty(tpl, "template")
    match_shapes(img.shape, tpl.shape)
    dtype = compute_dtype(img.dtype, tpl.dtype, family="image")
    squeeze = img.ndim == 1

    def planes(a):
        if a.ndim == 1:
            a = a[None, :, None]
        elif a.ndim == 2:
            a = a[:, :, None]
        return np.moveaxis(a, 2, 0)

    msk = None
    if mask is not None:
        m = as_numeric_array(mask, "mask", allow_complex=False)
        if m.shape != tpl.shape and not (tpl.ndim == 3 and m.shape == tpl.shape[:2]):
            raise ValueError(
                f"mask must have the template's shape {tpl.shape}, got {m.shape}"
            )
        m = m.astype(np.float64)
        if not np.all(np.isfinite(m)):
            raise ValueError("mask must be finite")
        if np.any(m < 0):
            raise ValueError("mask weights must be >= 0")
        if m.ndim == 2 and tpl.ndim == 3:
            m = np.repeat(m[:, :, None], tpl.shape[2], axis=2)
        msk = np.ascontiguousarray(planes(m))
    return (as_kernel_array(planes(img), dtype), as_kernel_array(planes(tpl), dtype),
            msk, squeeze, dtype)


def match_stack_inputs(image, templates, mask):
    """Validate match_template's inputs where ``templates`` may be a stack.

    A stack has one more axis than ``image``, in front: (T, w) for a 1-D
    image, (T, h, w) for a 2-D one, (T, h, w, C) for a colour one.  Returns
    ``(img, tpls, msk, squeeze_1d, dtype, stack)`` with ``tpls`` (T, C, h, w)
    (T = 1 without a stack) and ``img``, ``msk`` as :func:`match_inputs`.
    """
    img = as_numeric_array(image, "image", allow_complex=False)
    tpl = as_numeric_array(templates, "template", allow_complex=False)
    stack = tpl.ndim == img.ndim + 1 and img.ndim >= 1
    if not stack:
        i, t, m, squeeze, dtype = match_inputs(img, tpl, mask)
        return i, t[None], m, squeeze, dtype, False
    if tpl.shape[0] == 0:
        raise ValueError("template stack must hold at least one template, got shape "
                         f"{tpl.shape}")
    i, t0, m, squeeze, dtype = match_inputs(img, tpl[0], mask)
    if tpl.ndim == 2:
        planes = tpl[:, None, None, :]
    elif tpl.ndim == 3:
        planes = tpl[:, None]
    else:
        planes = np.moveaxis(tpl, 3, 1)
    tpls = as_kernel_array(planes, dtype)
    return i, tpls, m, squeeze, dtype, True


def locate_inputs(image, templates):
    """Validate locate's image and templates: one template, a stack (as
    :func:`match_stack_inputs`), or a list or tuple of templates of several
    sizes.  Returns ``(img, tpls, squeeze_1d, dtype)``: ``tpls`` a (T, C, h, w)
    array when the sizes agree, else a list of (C, h, w) arrays, all in one
    compute dtype."""
    if isinstance(templates, (list, tuple)) and len(templates) > 1:
        items = [as_numeric_array(t, f"template {k}", allow_complex=False) for k, t in enumerate(templates)]
        if len({t.shape for t in items}) > 1:
            img = as_numeric_array(image, "image", allow_complex=False)
            checked = [match_inputs(img, t, None) for t in items]
            dtype = compute_dtype(img.dtype, *(t.dtype for t in items), family="image")
            return (as_kernel_array(checked[0][0], dtype), [as_kernel_array(c[1], dtype) for c in checked],
                    checked[0][3], dtype)
    img, tpls, _, squeeze, dtype, _ = match_stack_inputs(image, templates, None)
    return img, tpls, squeeze, dtype


NAN_POLICIES = ("propagate", "omit")


def missing_inputs(nan_policy, image_mask, min_overlap, image, msk):
    """Validate match_template's missing-pixel arguments.

    ``image`` is the user's image (as given), ``msk`` the validated template
    mask (C, h, w) or None.  Returns ``(policy, present, min_overlap)`` with
    ``present`` a (H, W) bool plane (1, n) for a 1-D image) of the pixels
    ``image_mask`` keeps, or None.
    """
    policy = check_choice(nan_policy, "nan_policy", NAN_POLICIES)
    min_overlap = check_real(min_overlap, "min_overlap")
    if not 0.0 <= min_overlap <= 1.0:
        raise ValueError(f"min_overlap must be a fraction in [0, 1], got {min_overlap}")
    present = None
    if image_mask is not None:
        m = np.asarray(image_mask)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"image_mask must be a boolean or numeric array, got dtype {m.dtype}")
        shape = np.shape(image)
        spatial = shape[:2] if len(shape) == 3 else shape
        if m.shape != tuple(spatial):
            raise ValueError(f"image_mask must have the image's shape {tuple(spatial)}, got {m.shape}")
        present = m != 0
        if present.ndim == 1:
            present = present[None, :]
    if policy == "omit" and msk is not None and not np.isin(msk, (0.0, 1.0)).all():
        raise ValueError("mask must be binary (0 or 1) with nan_policy='omit': it marks the "
                         "template pixels that are present")
    return policy, present, min_overlap


def scales_angles(scales, angles, one_d):
    """locate's ``scales`` and ``angles`` as 1-D float arrays (defaults [1.0]
    and [0.0]); scales > 0, angles in degrees, both finite and non-empty."""
    if one_d:
        raise ValueError("scales and angles need a 2-D (or colour) image and template")
    out = []
    for value, name, default in ((scales, "scales", 1.0), (angles, "angles", 0.0)):
        if value is None:
            out.append(np.array([default]))
            continue
        arr = np.atleast_1d(np.asarray(value))
        if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got {value!r}")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite")
        if name == "scales" and (arr <= 0).any():
            raise ValueError(f"scales must be > 0, got {value!r}")
        out.append(arr)
    return out[0], out[1]


def check_score_map(ndim, *, stack=True) -> None:
    """find_matches' scores: a 1-D or 2-D map, or (``stack``) a 3-D stack of 2-D maps."""
    if ndim in (1, 2) or (stack and ndim == 3):
        return
    more = " (or a 3-D stack of 2-D maps)" if stack else ""
    raise ValueError(f"scores must be 1-D or 2-D{more}, got {ndim}-D")


def check_threshold(threshold):
    if threshold is None:
        return None
    return check_real(threshold, "threshold", finite=False)


def peak_options(threshold, max_matches, min_distance):
    """``find_matches``' options, checked: (threshold, max_matches, min_distance)."""
    if max_matches is not None:
        max_matches = check_int(max_matches, "max_matches", minimum=1)
    return check_threshold(threshold), max_matches, check_int(min_distance, "min_distance", minimum=1)


# ---------------------------------------------------------------------------
# period
# ---------------------------------------------------------------------------


def series_batch(x, axis, name="x"):
    """(B, n) float64 C-contiguous series from ``x`` with time along ``axis``.

    Returns ``(y, batch_shape, axis)``.
    """
    arr = as_numeric_array(x, name, allow_complex=False)
    check_nonempty(arr, name)
    axis = check_axis(axis, arr.ndim, f"a {arr.ndim}-D {name}")
    moved = np.moveaxis(arr, axis, -1)
    batch = moved.shape[:-1]
    y = as_kernel_array(moved.reshape(-1, moved.shape[-1]) if moved.ndim > 1 else moved[None, :],
                        compute_dtype(arr.dtype, family="series"))
    return y, batch, axis


def acf_options(max_lag, n, method, demean, normalize, adjusted):
    """autocorrelation's options for series of length ``n``: ``(max_lag, method)``."""
    max_lag = check_max_lag(max_lag, n)
    method = check_method(method)
    for flag, name in ((demean, "demean"), (normalize, "normalize"), (adjusted, "adjusted")):
        check_flag(flag, name)
    return max_lag, method


def period_range(n, min_period, max_period, fs):
    """detect_period's search range for series of ``n`` samples, in samples:
    ``(pmin, pmax, fs)``.  Two cycles must fit in the series; the shortest
    period searched is never below 2 samples."""
    fs = check_positive(fs, "fs")
    min_period = check_positive(min_period, "min_period")
    pmin = max(min_period * fs, 2.0)
    if n < 2 * pmin:
        raise ValueError(
            f"the series has {n} samples, too short to hold two cycles of min_period "
            f"({min_period} = {pmin:g} samples)"
        )
    if max_period is None:
        pmax = n / 2.0
    else:
        max_period = check_real(max_period, "max_period")
        if max_period < min_period:
            raise ValueError(f"min_period ({min_period}) must be <= max_period ({max_period})")
        pmax = max_period * fs
        if pmax > n / 2.0:
            raise ValueError(
                f"max_period must allow two cycles in the series: at most {n / 2.0 / fs:g}, got {max_period}"
            )
    return pmin, pmax, fs


# ---------------------------------------------------------------------------
# delay (crosscorrelation, estimate_delay)
# ---------------------------------------------------------------------------


def pair_batch(x, y, axis):
    """Two real series batches with time along ``axis`` -> ``(X, Y, batch)``.

    ``X`` and ``Y`` are (B, n) float64 C-contiguous, their batch axes
    broadcast together; both must have the same length n along ``axis``.
    """
    a = as_numeric_array(x, "x", allow_complex=False)
    b = as_numeric_array(y, "y", allow_complex=False)
    check_nonempty(a, "x")
    check_nonempty(b, "y")
    nd = max(a.ndim, b.ndim)  # numpy broadcasting: missing leading axes are 1
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    axis = check_axis(axis, a.ndim, f"{a.ndim}-D x and y")
    a = np.moveaxis(a, axis, -1)
    b = np.moveaxis(b, axis, -1)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"x and y must have the same length along axis {axis}, got {a.shape[-1]} and {b.shape[-1]}")
    try:
        batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise ValueError(
            f"x and y batch shapes {a.shape[:-1]} and {b.shape[:-1]} do not broadcast (axis {axis} is the time axis)"
        ) from None
    n = a.shape[-1]

    def rows(arr):  # broadcast only where needed (a broadcast view is read-only: a copy)
        if arr.shape[:-1] != batch:
            arr = np.broadcast_to(arr, batch + (n,))
        return as_kernel_array(arr.reshape(-1, n), compute_dtype(arr.dtype, family="series"))

    return rows(a), rows(b), batch, axis


def check_max_lag(max_lag, n):
    """max_lag in [0, n - 1]; None means n - 1."""
    if max_lag is None:
        return n - 1
    max_lag = check_int(max_lag, "max_lag", minimum=0)
    if max_lag > n - 1:
        raise ValueError(f"max_lag must be < the series length {n}, got {max_lag}")
    return max_lag


# ---------------------------------------------------------------------------
# pool and layers
# ---------------------------------------------------------------------------


def tuple_param(value, name, n, *, minimum):
    """An int or a length-n sequence of ints, each >= minimum -> tuple of n ints."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a sequence of {n} ints, got {value!r}")
        vals = tuple(check_int(v, name) for v in value)
    else:
        vals = (check_int(value, name),) * n
    for v in vals:
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return vals


def pool_input(x, nd, name="x"):
    """The array pooled over its last ``nd`` axes: real, at least ``nd``-D, not empty."""
    arr = as_numeric_array(x, name, allow_complex=False)
    check_pool_ndim(arr.ndim, nd, name)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def check_pool_ndim(ndim, nd, name="x"):
    if ndim < nd:
        raise ValueError(f"{name} must have at least {nd} dimension(s) to pool over, got {ndim}-D")


def pool_params(shape, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """torch's pooling arguments for an input of ``shape`` pooled over its
    last ``nd`` axes: ``(k, s, p, d, out)``, each per pooled axis, padded in
    front to two axes for ``nd == 1`` (a 1-row plane: k=1, s=1, p=0, d=1,
    out=1).  ``stride=None`` (or ``()``) means ``kernel_size``."""
    k = tuple_param(kernel_size, "kernel_size", nd, minimum=1)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        tuple_param(stride, "stride", nd, minimum=1)
    p = tuple_param(padding, "padding", nd, minimum=0)
    d = tuple_param(dilation, "dilation", nd, minimum=1)
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    ndim = len(shape)
    sizes = shape[ndim - nd:]
    out = []
    for ax in range(nd):
        if p[ax] > k[ax] // 2:  # torch's rule: half the kernel size, dilation aside
            raise ValueError(
                f"padding should be at most half of kernel size, but got padding={p[ax]} "
                f"and kernel_size={k[ax]}"
            )
        o = pool_output_size(sizes[ax], k[ax], s[ax], p[ax], d[ax], ceil_mode)
        if o < 1:
            raise ValueError(
                f"kernel_size {k[ax]} (dilation {d[ax]}) is larger than the padded input "
                f"({sizes[ax]} + 2 * {p[ax]}) along axis {ndim - nd + ax}: output size would be {o}"
            )
        out.append(o)
    if nd == 1:
        k, s, p, d, out = (1,) + k, (1,) + s, (0,) + p, (1,) + d, [1] + out
    return k, s, p, d, out


def pool_output_size(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape for one axis."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out




def layer_inputs(x, weight, bias, stride, padding, dilation, nd):
    """Validate conv1d/conv2d's inputs (``nd`` spatial axes).

    Returns ``(x, weight, bias, dtype, stride, dilation, pads, outs)``: the
    arrays as given (bias None or (C_out,)), the compute dtype, stride and
    dilation per axis, (lo, hi) padding per axis and the output sizes.
    """
    xa = as_numeric_array(x, "x", allow_complex=False)
    wa = as_numeric_array(weight, "weight", allow_complex=False)
    check_layer_x_ndim(xa.shape, nd)
    if wa.ndim != nd + 2:
        raise ValueError(
            f"weight must be {nd + 2}-D (C_out, C_in, {'K' if nd == 1 else 'kH, kW'}), got shape {wa.shape}")
    if xa.size == 0 or wa.size == 0:
        raise ValueError(f"x and weight must not be empty, got shapes {xa.shape} and {wa.shape}")
    if wa.shape[1] != xa.shape[1]:
        raise ValueError(
            f"weight has {wa.shape[1]} input channels but x has {xa.shape[1]} "
            f"(weight {wa.shape}, x {xa.shape})")
    co = wa.shape[0]
    dtypes = [xa.dtype, wa.dtype]
    ba = None
    if bias is not None:
        ba = as_numeric_array(bias, "bias", allow_complex=False)
        if ba.shape != (co,):
            raise ValueError(f"bias must have shape ({co},) (one value per output channel), got {ba.shape}")
        dtypes.append(ba.dtype)
    dtype = compute_dtype(*dtypes)
    s = tuple_param(stride, "stride", nd, minimum=1)
    d = tuple_param(dilation, "dilation", nd, minimum=1)
    k = wa.shape[2:]
    pads = conv_padding(padding, nd, k, d, s)
    sizes = xa.shape[2:]
    outs = []
    for ax in range(nd):
        span = sizes[ax] + pads[ax][0] + pads[ax][1]
        reach = d[ax] * (k[ax] - 1) + 1  # the input span one output's taps cover
        if reach > span:
            raise ValueError(
                f"kernel size {k[ax]} (dilation {d[ax]}) can't be greater than the padded "
                f"input size {span} along spatial axis {ax}")
        outs.append((span - reach) // s[ax] + 1)
    return xa, wa, ba, dtype, s, d, pads, outs


def check_layer_x_ndim(shape, nd):
    if len(shape) != nd + 2:
        raise ValueError(f"x must be {nd + 2}-D (N, C_in, {'L' if nd == 1 else 'H, W'}), got shape {tuple(shape)}")


def conv_padding(padding, nd, kernel, dilation, stride):
    """torch's conv padding (int, tuple, 'valid', 'same') -> ((lo, hi) per axis)."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return pads
        raise ValueError(f"padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}")
    vals = tuple_param(padding, "padding", nd, minimum=0)
    return [(v, v) for v in vals]


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


def dask_pair_shapes(xshape, yshape) -> None:
    """sigcorr.dask's crosscorrelation pairs blocks of x and y: the same shape (no broadcasting)."""
    if tuple(xshape) != tuple(yshape):
        raise ValueError(f"x and y must have the same shape, got {tuple(xshape)} and {tuple(yshape)}")


# ---------------------------------------------------------------------------
# end
# ---------------------------------------------------------------------------
