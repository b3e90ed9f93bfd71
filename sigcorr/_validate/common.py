"""The shared checks: numeric arrays, the one dtype policy (:func:`compute_dtype`),
scalars, flags, axes."""

from __future__ import annotations

import numbers
import operator

import numpy as np

# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

_KINDS_NUMERIC = "biufc"


def as_numeric_array(x, name: str, *, allow_complex: bool = True, masked: str | None = None) -> np.ndarray:
    """``np.asarray(x)`` that refuses what cannot be computed on.

    Raises ``TypeError`` for object, string, bytes, void or datetime dtypes
    (and for complex when ``allow_complex`` is false).  Does not copy, but
    for a masked array with masked values.

    NumPy masked arrays, the one rule: where the caller reads NaN as missing
    (``masked="missing"``) the masked values become NaN in a float copy
    (float32 for data of up to 16 bits and float32, float64 above);
    elsewhere a masked array with masked values is refused (``np.asarray``
    would use them as data), the message naming the option that would leave
    them out if ``masked`` gives one (e.g. ``"nan_policy='omit'"``).  A
    masked array with nothing masked is its data.
    """
    if isinstance(x, np.ma.MaskedArray):
        x = unmask(x, name, masked)
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


def unmask(x: np.ma.MaskedArray, name: str, masked: str | None) -> np.ndarray:
    """A masked array's data, its masked values NaN where ``masked`` is
    ``"missing"`` (see :func:`as_numeric_array`)."""
    mask = np.ma.getmaskarray(x)
    data = np.ma.getdata(x)
    if not mask.any():
        return data
    if masked != "missing":
        how = f"they are left out (as NaN) only with {masked}; else " if masked else ""
        raise TypeError(f"{name} is a masked array with masked values, which would be used as data: "
                        f"{how}pass {name}.filled(value) or a plain array")
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric masked array, got dtype {data.dtype}")
    small = data.itemsize <= 2 or (data.dtype.kind == "f" and data.itemsize <= 4)
    out = data.astype(np.float32 if small else np.float64, copy=True)
    out[mask] = np.nan
    return out


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


def result_dtype(*dtypes) -> np.dtype:
    """The dtype convolve, correlate and their 2-D forms return: scipy's,
    ``np.result_type`` of the inputs (an integer or bool result too: it is
    computed in float64 and rounded back, :func:`to_result`), but float16
    comes back as float32 and long double as float64 (:func:`compute_dtype`
    computes them so)."""
    dt = np.result_type(*dtypes)
    return dt if dt.kind in "biu" else compute_dtype(dt)


def to_result(out: np.ndarray, dtype) -> np.ndarray:
    """``out`` (computed in :func:`compute_dtype`) in the :func:`result_dtype`
    ``dtype``, in one pass over it: an integer or bool result is rounded to
    the nearest integer and cast (bool: nonzero is True).  Exact while every
    sum stays below 2**53 in magnitude (float64 holds every integer up to
    there); beyond, the float64 sum is already rounded, and a value outside
    the integer dtype's range is cast as NumPy casts floats, as scipy's
    ``method='fft'`` does (8- and 16-bit results wrap around, as scipy's
    direct method; beyond the int32 or int64 range NumPy warns)."""
    dtype = np.dtype(dtype)
    if out.dtype == dtype:
        return out
    if dtype.kind not in "biu":
        return out.astype(dtype)
    res = np.empty(out.shape, dtype=dtype)
    np.rint(out, out=res, casting="unsafe")
    return res


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
