"""Max and average pooling with torch.nn.functional's results.

The last 1 (``*_pool1d``), 2 (``*_pool2d``) or 3 (``*_pool3d``) axes are
pooled; every leading axis is a batch axis of any length, so (N, C, H, W),
(C, H, W) and (H, W) all work (and (N, C, D, H, W) volumes for the 3-D
pools).  Output shapes, values, NaN propagation and indices are torch's,
including its ``ceil_mode`` rule for the last window and its limit on padding.
"""

from __future__ import annotations

import numpy as np

from . import _twins, _validate, _workspace
from ._kernels import pool as _kpool
from ._runtime import serialized_if_needed, output_array, run

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"]


def _whole_2x2(planes, out):
    """True if every 2x2 window lies inside the planes (ceil_mode can add a
    last, partial one, which the specialised 2x2 kernels do not handle)."""
    return 2 * out[0] <= planes.shape[1] and 2 * out[1] <= planes.shape[2]


def _as3d(arr, nd, dtype):
    lead = arr.shape[:arr.ndim - nd]
    P = int(np.prod(lead, dtype=np.int64))
    spatial = arr.shape[arr.ndim - nd:]
    if nd == 1:
        spatial = (1,) + spatial
    return _validate.as_kernel_array(arr, dtype).reshape((P,) + spatial), lead


def _max_planes(planes, k, s, p, d, out):
    """Values-only max pooling of (P, H, W) planes into a new (P, oh, ow) array."""
    res = output_array((planes.shape[0], out[0], out[1]), planes.dtype)
    if (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1]) == (2, 2, 2, 2, 0, 0, 1, 1) and _whole_2x2(planes, out):
        one = np.int64(1)  # (a 1-D window never matches: k[0] == 1)
        run(_kpool.max_pool_2x2, _twins.max_pool_2x2, planes, one, one, one, res)
    else:
        run(_kpool.max_pool_separable, _twins.max_pool_separable, planes, k[0], k[1], s[0], s[1], p[0], p[1],
            d[0], d[1], res)
    return res


def _max_pool(x, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    arr = _validate.pool_input(x, nd)
    k, s, p, d, out = _validate.pool_params(arr.shape, nd, kernel_size, stride, padding, dilation, ceil_mode)
    in_dtype = arr.dtype
    work = _validate.compute_dtype(in_dtype)  # the result is returned in in_dtype
    if nd == 3:
        res, idx = _max_pool3(arr, work, k, s, p, d, out, return_indices)
    else:
        planes, lead = _as3d(arr, nd, work)
        idx = None
        if not return_indices:
            # the 2 x 2 kernel for nd == 2 only (a 1-D window has one row)
            res = _max_planes(planes, k, s, p, d, out)
        else:
            # outputs allocated here: numpy backs large arrays with huge pages
            res = output_array((planes.shape[0], 1, out[0], out[1]), work)
            idx = output_array(res.shape, np.int64)
            run(_kpool.max_pool, _twins.max_pool, planes[:, None], 1, k[0], k[1], 1, s[0], s[1], 0, p[0], p[1],
                1, d[0], d[1], True, res, idx)
        shape = lead + tuple(out[2 - nd:])
        res = res.reshape(shape)
        idx = None if idx is None else idx.reshape(shape)
    if res.dtype != in_dtype:
        res = res.astype(in_dtype)
    return (res, idx) if return_indices else res


def _max_pool3(arr, work, k, s, p, d, out, return_indices):
    """Volumes: with indices the window loop of ``max_pool``; values only in
    two passes: whole, disjoint depth windows first (elementwise maxima of
    slices), then the planes; other depth windows after the planes (the
    largest array through the 2-D kernels, the 2 x 2 one included), as the
    rows of (P, D, oh * ow) planes with a one-column window."""
    vols, lead = _as3d(arr, 3, work)
    P, D, H, W = vols.shape
    shape = lead + tuple(out)
    if return_indices:
        res = output_array((P,) + tuple(out), work)
        idx = output_array(res.shape, np.int64)
        run(_kpool.max_pool, _twins.max_pool, vols, k[0], k[1], k[2], s[0], s[1], s[2], p[0], p[1], p[2],
            d[0], d[1], d[2], True, res, idx)
        return res.reshape(shape), idx.reshape(shape)
    if (p[0], d[0], s[0]) == (0, 1, k[0]) and out[0] * k[0] <= D:
        # whole, disjoint depth windows (max_pool3d(x, 2)'s): the depth
        # first, as elementwise maxima of whole slices (contiguous, NaN
        # propagated as torch does), halving what the planes' kernel reads
        kd = k[0]
        if tuple(k[1:]) + tuple(s[1:]) + tuple(p[1:]) + tuple(d[1:]) == (2, 2, 2, 2, 0, 0, 1, 1) and _whole_2x2(vols[0], out[1:]):
            # max_pool3d(x, (kd, 2, 2)): the depth windows and the planes' in one pass
            res = output_array((P * out[0], out[1], out[2]), work)
            run(_kpool.max_pool_2x2, _twins.max_pool_2x2, vols.reshape(P * D, H, W), np.int64(kd), np.int64(D),
                np.int64(out[0]), res)
            return res.reshape(shape), None
        depth = _workspace.empty("pool3d:depth", (P, out[0], H, W), work)  # dies in this call
        if kd == 1:
            np.copyto(depth, vols[:, :out[0]])
        else:
            np.maximum(vols[:, 0:out[0] * kd:kd], vols[:, 1:out[0] * kd:kd], out=depth)
        for e in range(2, kd):
            np.maximum(depth, vols[:, e:out[0] * kd:kd], out=depth)
        res = _max_planes(depth.reshape(P * out[0], H, W), k[1:], s[1:], p[1:], d[1:], out[1:])
        return res.reshape(shape), None
    flat = _max_planes(vols.reshape(P * D, H, W), k[1:], s[1:], p[1:], d[1:], out[1:])
    depth = flat.reshape(P, D, out[1] * out[2])
    res = _max_planes(depth, (k[0], 1), (s[0], 1), (p[0], 0), (d[0], 1), (out[0], out[1] * out[2]))
    return res.reshape(shape), None


def _avg_pool(x, nd, kernel_size, stride, padding, ceil_mode, count_include_pad):
    arr = _validate.pool_input(x, nd)
    k, s, p, d, out = _validate.pool_params(arr.shape, nd, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = bool(_validate.check_flag(count_include_pad, "count_include_pad"))
    dtype = _validate.compute_dtype(arr.dtype)
    planes, lead = _as3d(arr, nd, dtype)
    if nd == 3:
        _validate.check_avg_pool3d_size(arr.shape, k)
        # the planes, then the depth axis (a one-column window): torch's
        # divisor is the product of the two passes' counts
        P, D, H, W = planes.shape
        flat = _avg_planes(planes.reshape(P * D, H, W), k[1:], s[1:], p[1:], out[1:], count_include_pad)
        res = _avg_planes(flat.reshape(P, D, out[1] * out[2]), (k[0], 1), (s[0], 1), (p[0], 0),
                          (out[0], out[1] * out[2]), count_include_pad)
        return res.reshape(lead + tuple(out))
    res = _avg_planes(planes, k, s, p, out, count_include_pad)
    return res.reshape(lead + tuple(out[2 - nd:]))


def _avg_planes(planes, k, s, p, out, count_include_pad):
    """Average pooling of (P, H, W) planes into a new (P, oh, ow) array (a
    1-D window, k[0] == 1, never takes the 2 x 2 kernel)."""
    res = output_array((planes.shape[0], out[0], out[1]), planes.dtype)
    if (k[0], k[1], s[0], s[1], p[0], p[1]) == (2, 2, 2, 2, 0, 0) and _whole_2x2(planes, out):
        run(_kpool.avg_pool_2x2, _twins.avg_pool_2x2, planes, res)
    else:
        run(_kpool.avg_pool, _twins.avg_pool, planes, k[0], k[1], s[0], s[1], p[0], p[1], count_include_pad, res)
    return res


@serialized_if_needed
def max_pool1d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last axis, as ``torch.nn.functional.max_pool1d``.

    Parameters
    ----------
    x : array_like, (..., L)
        Every leading axis is a batch axis.  float32/float64 (and integer
        types, computed exactly in float64 and returned in their own dtype).
    kernel_size, stride, padding, dilation : int
        ``stride=None`` means ``kernel_size``; padding (implicit -inf) at most
        half the kernel size (torch's rule, whatever the dilation).
    ceil_mode : bool
        Round the output length up (torch's rule: a last window that would
        start in the right padding is dropped).
    return_indices : bool
        Also return the position of each maximum along the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.max_pool1d(np.array([1.0, 3.0, 2.0, 5.0, 4.0]), 2)
    array([3., 5.])
    >>> sigcorr.max_pool1d(np.array([1.0, 3.0, 2.0, 5.0, 4.0]), 2, ceil_mode=True, return_indices=True)
    (array([3., 5., 4.]), array([1, 3, 4]))
    """
    return _max_pool(x, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@serialized_if_needed
def max_pool2d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last two axes, as ``torch.nn.functional.max_pool2d``.

    Parameters as :func:`max_pool1d`, each an int or an (h, w) pair.  NaN
    propagates as in torch; indices are flat positions within each input
    plane (row * W + column).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> sigcorr.max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> sigcorr.max_pool2d(x, 3, stride=2, padding=1).shape
    (1, 1, 2, 2)
    """
    return _max_pool(x, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@serialized_if_needed
def avg_pool1d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True):
    """Average pooling over the last axis, as ``torch.nn.functional.avg_pool1d``.

    Integer input gives float64.  ``count_include_pad`` decides whether the
    zero padding counts in the divisor.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.avg_pool1d(np.array([1.0, 3.0, 2.0, 6.0]), 2)
    array([2., 4.])
    """
    return _avg_pool(x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


@serialized_if_needed
def avg_pool2d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True):
    """Average pooling over the last two axes, as ``torch.nn.functional.avg_pool2d``.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.avg_pool2d(np.arange(16.0).reshape(4, 4), 2)
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    return _avg_pool(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad)


@serialized_if_needed
def max_pool3d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last three axes, as ``torch.nn.functional.max_pool3d``.

    Parameters as :func:`max_pool1d`, each an int or a (d, h, w) triple.
    NaN propagates as in torch; indices are flat positions within each input
    volume ((z * H + row) * W + column).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> x = np.arange(64.0).reshape(1, 1, 4, 4, 4)
    >>> sigcorr.max_pool3d(x, 2)[0, 0]
    array([[[21., 23.],
            [29., 31.]],
    <BLANKLINE>
           [[53., 55.],
            [61., 63.]]])
    >>> values, indices = sigcorr.max_pool3d(x, 3, stride=2, padding=1, return_indices=True)
    >>> indices.shape, int(indices[0, 0, 1, 1, 1])
    ((1, 1, 2, 2, 2), 63)
    """
    return _max_pool(x, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@serialized_if_needed
def avg_pool3d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True):
    """Average pooling over the last three axes, as ``torch.nn.functional.avg_pool3d``.

    Parameters as :func:`avg_pool1d`, each an int or a (d, h, w) triple;
    integer input gives float64.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> sigcorr.avg_pool3d(np.arange(8.0).reshape(2, 2, 2), 2)
    array([[[3.5]]])
    """
    return _avg_pool(x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad)
