"""``convolve``, ``correlate``, ``convolve2d``, ``correlate2d`` on Dask
arrays: the padding (or the 2-D boundary) added once at the true edges, then
every block's "valid" result of itself plus a halo of the kernel's extent
minus one (batch axes are plain blocks)."""

from __future__ import annotations

import sigcorr

from .. import _geometry, _validate
from . import _blocks

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d"]


def _conv_dask(in1, in2, mode, method, axes, chunks, flip, out_dtype=None):
    x = _blocks.as_dask(in1, chunks, "in1")
    k = _blocks.in_memory(in2, "in2")
    mode = _validate.check_mode(mode)
    method = _validate.check_method(method)
    _validate.check_same_ndim(x, k)
    _validate.check_nonempty(x, "in1")
    _validate.check_nonempty(k, "in2")
    axes = _validate.conv_axes(axes, x.shape, k.shape)
    _validate.dask_conv_shapes(x.shape, k.shape, axes, mode)
    batch = [ax for ax in range(x.ndim) if ax not in axes]
    dtype = _validate.compute_dtype(x.dtype, k.dtype)
    pads = [(0, 0)] * x.ndim
    for ax in axes:
        n, m = x.shape[ax], k.shape[ax]
        s0, length = _geometry.out_slices(n, m, mode)
        pads[ax] = (m - 1 - s0, length - n + s0)
    # correlation: reverse (and conjugate) in2, then everything is a convolution
    kk = k[tuple(slice(None, None, -1) if ax in axes else slice(None) for ax in range(k.ndim))] if flip else k
    if flip and kk.dtype.kind == "c":
        kk = kk.conj()
    xp = _blocks.pad(x.astype(dtype), pads)
    halos = {ax: k.shape[ax] - 1 for ax in axes}

    if out_dtype is None:  # integers and bools rounded back, as in memory
        out_dtype = _validate.result_dtype(x.dtype, k.dtype)

    def block(b):
        return _validate.to_result(sigcorr.convolve(b, kk, "valid", method, axes=axes if batch else None), out_dtype)

    return _blocks.valid(xp, halos, block, out_dtype)


def convolve(in1, in2, mode="full", method="auto", axes=None, *, chunks=None):
    """:func:`sigcorr.convolve` of a chunked ``in1`` with an in-memory ``in2``.

    ``in2`` (the kernel) must fit in memory and have length 1 along the batch
    axes (those not in ``axes``).  Returns a lazy Dask array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(0).standard_normal(10_000)
    >>> y = sigcorr.dask.convolve(x, np.hanning(31), mode="same", chunks=1000)
    >>> bool(np.allclose(y.compute(), sigcorr.convolve(x, np.hanning(31), mode="same")))
    True
    """
    return _conv_dask(in1, in2, mode, method, axes, chunks, flip=False)


def correlate(in1, in2, mode="full", method="auto", axes=None, *, chunks=None):
    """:func:`sigcorr.correlate` of a chunked ``in1`` with an in-memory ``in2``.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> img = np.random.default_rng(0).random((300, 200))
    >>> y = sigcorr.dask.correlate(img, img[:5, :7], mode="same", chunks=64)
    >>> bool(np.allclose(y.compute(), sigcorr.correlate(img, img[:5, :7], mode="same")))
    True
    """
    return _conv_dask(in1, in2, mode, method, axes, chunks, flip=True)


def _boundary2d(in1, in2, mode, boundary, fillvalue, chunks, flip):
    x = _blocks.as_dask(in1, chunks, "in1")
    k = _blocks.in_memory(in2, "in2")
    mode = _validate.check_mode(mode)
    boundary = _validate.check_boundary(boundary)
    _validate.check_2d_pair(x, k)
    fv = _validate.check_fillvalue(fillvalue)
    if mode == "valid":
        return _conv_dask(x, k, mode, "auto", None, None, flip)
    if boundary != "fill" and (k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]):
        # (a wrap or mirror pad wider than the array would repeat it: not
        # done block by block; such an array is small enough for memory)
        raise ValueError(f"sigcorr.dask: with boundary={boundary!r}, in1, the chunked array, must be at least as "
                         f"large as in2, got shapes {tuple(x.shape)} and {tuple(k.shape)}; for a smaller array "
                         "use the in-memory function on np.asarray(in1)")
    pads = _geometry.boundary_pads(x.shape, k.shape, mode, flip)
    dtype = _validate.compute_dtype(x.dtype, k.dtype)
    out_dtype = _validate.result_dtype(x.dtype, k.dtype)
    if boundary == "fill":
        xp = _blocks.pad(x.astype(dtype), pads, "constant", _validate.fill_in(fv, dtype, out_dtype).item())
    else:
        xp = _blocks.pad(x.astype(dtype), pads, "wrap" if boundary == "wrap" else "symmetric")
    return _conv_dask(xp, k, "valid", "auto", None, None, flip, out_dtype)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, chunks=None):
    """:func:`sigcorr.convolve2d` of a chunked 2-D ``in1``, every boundary
    applied at the true edges.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> img = np.random.default_rng(1).random((120, 90))
    >>> y = sigcorr.dask.convolve2d(img, np.ones((3, 4)), "same", "wrap", chunks=40)
    >>> bool(np.allclose(y.compute(), sigcorr.convolve2d(img, np.ones((3, 4)), "same", "wrap")))
    True
    """
    return _boundary2d(in1, in2, mode, boundary, fillvalue, chunks, flip=False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, chunks=None):
    """:func:`sigcorr.correlate2d` of a chunked 2-D ``in1``.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> img = np.random.default_rng(2).random((100, 100))
    >>> y = sigcorr.dask.correlate2d(img, img[:4, :4], "same", "symm", chunks=30)
    >>> bool(np.allclose(y.compute(), sigcorr.correlate2d(img, img[:4, :4], "same", "symm")))
    True
    """
    return _boundary2d(in1, in2, mode, boundary, fillvalue, chunks, flip=True)
