"""The safe range: the one home of the scale-free rule.

A normalized result (a normed match score, a normalized correlation or
autocorrelation, a period, a delay) does not depend on the data's scale, but
the sums of squares it is computed from do: in float64 they overflow from
about 1e154 and sink into subnormals (losing their digits) below about
1e-154; float32 reaches its limits far sooner.  So inputs whose largest finite
magnitude lies outside ``SAFE[dtype]`` are multiplied by a power of two that
brings it near 1 before they are computed on.  A power of two changes only the
exponent, so the scaled data are the same numbers; data inside the range are
not touched at all, so ordinary inputs give bit-identical results.  An
unnormalized result computed on scaled data is scaled back with the same
factor (:func:`unscale`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAFE", "ENERGY_SAFE", "extrema", "peak", "safe_exponent", "scaled", "unscale", "unsafe_energy", "rows_scaled"]

#: (lowest, highest) largest finite magnitude computed on as it is.  float64:
#: squares and sums of squares of any length stay normal and finite with a
#: wide margin; float32 images: window sums of squares of large templates too.
SAFE = {
    np.dtype(np.float64): (2.0 ** -300, 2.0 ** 300),
    np.dtype(np.float32): (2.0 ** -40, 2.0 ** 40),
}


#: (lowest, highest) sum of squares of a float64 row computed on as it is: a
#: lower one may hold squares that sank into subnormals (below 2**-1022, a
#: few digits left) or to 0, a higher one is near overflow (or is inf); the
#: product of two such energies (a cross-correlation's norm) stays normal too.  The
#: series families read this after their lag sums (which hold each row's
#: energy), so that ordinary data pay nothing for the rule; only the rows
#: outside are computed again, scaled (:func:`rows_scaled`).
ENERGY_SAFE = (2.0 ** -500, 2.0 ** 500)  # (the product of two stays normal)


def unsafe_energy(e: np.ndarray, power: int = 1) -> np.ndarray:
    """Which rows' sums of squares ``e`` lie outside ``ENERGY_SAFE`` (0, NaN
    and inf included: an all-zero row is computed again, at no harm); with
    ``power`` 2, outside its square root, for computations on products of
    energies' squares (GCC-PHAT's squared spectrum magnitudes)."""
    lo, hi = ENERGY_SAFE
    if power != 1:
        lo, hi = lo ** (1 / power), hi ** (1 / power)
    return ~((e >= lo) & (e <= hi))


def rows_scaled(y: np.ndarray, with_exponents: bool = False):
    """Each row of (B, n) ``y`` times its own power of two, 2**-k, its
    largest finite magnitude brought into [0.5, 1) (rows without one
    unchanged); a new array, and the k (B,) if ``with_exponents``."""
    finite = np.isfinite(y)
    p = np.where(finite, np.abs(y), 0.0).max(axis=1, initial=0.0)
    k = np.where(p > 0, np.frexp(p)[1], 0)
    out = np.ldexp(y, -k[:, None])
    return (out, k) if with_exponents else out


def extrema(a: np.ndarray):
    """(largest, smallest) value of each channel of (C, ...) ``a``, two (C,)
    arrays, or None when ``a`` holds a NaN or inf (or is empty).  Where a
    caller needs the largest magnitude of ``a - m`` (a centred image), these
    give it without another pass: rounding is monotonic, so that is
    ``max(hi - m, m - lo)`` computed in ``a``'s dtype."""
    if a.size == 0:
        return None
    axes = tuple(range(1, a.ndim))
    hi, lo = a.max(axis=axes), a.min(axis=axes)  # two passes without a temporary
    if np.isfinite(hi).all() and np.isfinite(lo).all():
        return hi, lo
    return None


_COMPUTE = object()  # peak's and safe_exponent's default: the extrema not given, computed


def peak(a: np.ndarray, ext=_COMPUTE) -> float:
    """The largest finite magnitude in ``a`` (0 if it has none); ``ext``:
    ``a``'s :func:`extrema` when the caller has them (None, as extrema
    says: ``a`` holds a non-finite value, so they are not computed again)."""
    if a.size == 0:
        return 0.0
    if ext is _COMPUTE:
        ext = extrema(a[None])  # (a view: reshape would copy a non-contiguous array)
    if ext is not None:
        return max(float(ext[0].max()), -float(ext[1].min()))
    if a.dtype.kind == "f":  # NaN samples (missing pixels): fmax skips them
        hi, lo = float(np.fmax.reduce(a, axis=None)), float(np.fmin.reduce(a, axis=None))
        if np.isfinite(hi) and np.isfinite(lo):
            return max(hi, -lo)
    finite = a[np.isfinite(a)]  # inf samples: the rare slow path
    return float(np.abs(finite).max()) if finite.size else 0.0


def safe_exponent(*arrays: np.ndarray, dtype=np.float64, ext=_COMPUTE) -> int:
    """k such that the arrays times 2**-k have their common largest finite
    magnitude in [0.5, 1); 0 when it already lies in ``SAFE[dtype]`` (or
    the arrays hold no nonzero finite value).  One factor for all the
    arrays, so quantities comparing them (``sqdiff_normed``) keep their
    meaning.  ``ext``: the first array's :func:`extrema`, when known (see :func:`peak`)."""
    p = max([peak(arrays[0], ext)] + [peak(a) for a in arrays[1:]])
    lo, hi = SAFE[np.dtype(dtype)]
    if p == 0 or lo <= p <= hi:
        return 0
    return int(np.frexp(p)[1])


def scaled(a: np.ndarray, k: int) -> np.ndarray:
    """``a * 2**-k`` in a new array (``a`` itself when k is 0); the input is
    never modified."""
    if k == 0:
        return a
    return np.ldexp(a, -k)


def unscale(result, k: int, power: int = 2):
    """An unnormalized result of data scaled by 2**-k, back in the data's
    units: times 2**(power*k) (``power`` 2 for sums of products); ``k`` an
    int or an array of them broadcasting against ``result`` (one per row)."""
    if np.ndim(k) == 0 and k == 0:
        return result
    with np.errstate(over="ignore"):  # inf is the true value beyond the dtype's range
        return np.ldexp(result, power * k)
