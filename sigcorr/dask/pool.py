"""Pooling (1-D to 3-D) and the ``conv1d`` / ``conv2d`` / ``conv3d`` layers on Dask arrays.

Pooling pads at the true edges, aligns the chunks to the stride (every block
starts at a window's start) and gives each block a halo where windows
overlap; average pooling then rescales the edge windows by torch's divisor
(:func:`sigcorr._kernels.pool.window_count`).  The layers take the batch
axis as blocks (the channels and spatial axes in one chunk).
"""

from __future__ import annotations

import dask.array as da
import numpy as np

import sigcorr

from .. import _validate
from .._kernels.pool import window_count
from . import _blocks

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "conv1d", "conv2d",
           "conv3d"]


def _pool(x, nd, kernel_size, stride, padding, dilation, ceil_mode, chunks, avg, count_include_pad=True):
    xd = _blocks.as_dask(x, chunks, "x")
    _validate.check_pool_ndim(xd.ndim, nd)
    count_include_pad = _validate.check_flag(count_include_pad, "count_include_pad")
    k, s, p, d, outs = _validate.pool_params(xd.shape, nd, kernel_size, stride, padding, dilation, ceil_mode)
    if avg and nd == 3:
        _validate.check_avg_pool3d_size(xd.shape, k)
    k, s, p, d, outs = k[len(k) - nd:], s[len(k) - nd:], p[len(k) - nd:], d[len(k) - nd:], outs[len(k) - nd:]
    axes = list(range(xd.ndim - nd, xd.ndim))
    dtype = _validate.compute_dtype(xd.dtype) if avg else xd.dtype
    fill = 0.0 if avg else (-np.inf if xd.dtype.kind == "f" else np.iinfo(xd.dtype).min)
    pads = [(0, 0)] * xd.ndim
    halos = {}
    reach = [slice(None)] * xd.ndim
    for i, ax in enumerate(axes):
        span = (k[i] - 1) * d[i] + 1
        need = (outs[i] - 1) * s[i] + span  # the padded input the windows reach
        pads[ax] = (p[i], max(0, need - xd.shape[ax] - p[i]))
        halos[ax] = max(0, span - s[i])
        reach[ax] = slice(None, need)
    xp = _blocks.pad(xd.astype(dtype) if avg else xd, pads, "constant", fill)[tuple(reach)]
    # chunks aligned to the stride: every block starts at a window's start
    new = {}
    for i, ax in enumerate(axes):
        step = s[i]
        per = max(1, -(-max(xp.chunks[ax]) // step))
        sizes, done = [], 0
        while done < outs[i]:
            o = min(per, outs[i] - done)
            sizes.append(o * step)
            done += o
        sizes[-1] = xp.shape[ax] - sum(sizes[:-1])
        new[ax] = _blocks.merge_small(tuple(sizes), halos[ax] + 1) if halos[ax] else tuple(sizes)
    xp = xp.rechunk(new)
    out_chunks = list(xp.chunks)
    for i, ax in enumerate(axes):
        c = list(xp.chunks[ax])
        c[:-1] = [v // s[i] for v in c[:-1]]
        c[-1] = outs[i] - sum(c[:-1])
        out_chunks[ax] = tuple(c)
    kw = dict(kernel_size=k, stride=s, padding=0)

    avg_f = (sigcorr.avg_pool1d, sigcorr.avg_pool2d, sigcorr.avg_pool3d)[nd - 1]
    max_f = (sigcorr.max_pool1d, sigcorr.max_pool2d, sigcorr.max_pool3d)[nd - 1]

    def block(b):
        if avg:
            return avg_f(b, **kw).astype(dtype, copy=False)
        return max_f(b, dilation=d, **kw)

    depth = {ax: (0, halos.get(ax, 0)) for ax in range(xp.ndim)}
    out = da.map_overlap(_blocks.per_task(block), xp, depth=depth, boundary="none", trim=False,
                         chunks=tuple(out_chunks), dtype=dtype, meta=np.empty((0,) * xp.ndim, dtype=dtype))
    if avg and not (count_include_pad and not ceil_mode):
        # torch's divisors at the edges: the whole-window average above times
        # the window size, over the samples (and padding) torch counts
        cnt = None
        for i in range(nd):
            n = xd.shape[axes[i]]
            c = np.array([window_count.py_func(o, k[i], s[i], p[i], n, count_include_pad)[2] for o in range(outs[i])],
                         dtype=np.float64) / k[i]
            cnt = c if cnt is None else np.multiply.outer(cnt, c)
        scale = np.where(cnt > 0, 1.0 / np.where(cnt > 0, cnt, 1.0), np.nan).astype(dtype)
        out = out * scale
    return out


def max_pool1d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, chunks=None):
    """:func:`sigcorr.max_pool1d` (values) of a chunked array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(6).standard_normal((4, 1000))
    >>> y = sigcorr.dask.max_pool1d(x, 5, 3, 2, chunks=(2, 128))
    >>> bool(np.array_equal(y.compute(), sigcorr.max_pool1d(x, 5, 3, 2)))
    True
    """
    return _pool(x, 1, kernel_size, stride, padding, dilation, ceil_mode, chunks, avg=False)


def max_pool2d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, chunks=None):
    """:func:`sigcorr.max_pool2d` (values) of a chunked array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(7).standard_normal((2, 3, 64, 64)).astype(np.float32)
    >>> y = sigcorr.dask.max_pool2d(x, 3, 2, 1, chunks=(1, 3, 20, 20))
    >>> bool(np.array_equal(y.compute(), sigcorr.max_pool2d(x, 3, 2, 1)))
    True
    """
    return _pool(x, 2, kernel_size, stride, padding, dilation, ceil_mode, chunks, avg=False)


def avg_pool1d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True, chunks=None):
    """:func:`sigcorr.avg_pool1d` of a chunked array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(8).standard_normal((3, 500))
    >>> y = sigcorr.dask.avg_pool1d(x, 4, 2, 1, count_include_pad=False, chunks=(3, 64))
    >>> bool(np.allclose(y.compute(), sigcorr.avg_pool1d(x, 4, 2, 1, count_include_pad=False)))
    True
    """
    return _pool(x, 1, kernel_size, stride, padding, 1, ceil_mode, chunks, avg=True,
                 count_include_pad=count_include_pad)


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True, chunks=None):
    """:func:`sigcorr.avg_pool2d` of a chunked array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(9).standard_normal((2, 50, 70))
    >>> y = sigcorr.dask.avg_pool2d(x, 2, chunks=(1, 16, 16))
    >>> bool(np.allclose(y.compute(), sigcorr.avg_pool2d(x, 2)))
    True
    """
    return _pool(x, 2, kernel_size, stride, padding, 1, ceil_mode, chunks, avg=True,
                 count_include_pad=count_include_pad)


def max_pool3d(x, kernel_size, stride=None, padding=0, *, dilation=1, ceil_mode=False, chunks=None):
    """:func:`sigcorr.max_pool3d` (values) of a chunked array (a volume's
    chunks, zarr's say, pooled at the true edges).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(14).standard_normal((2, 30, 28, 26)).astype(np.float32)
    >>> y = sigcorr.dask.max_pool3d(x, 3, 2, 1, chunks=(1, 10, 10, 10))
    >>> bool(np.array_equal(y.compute(), sigcorr.max_pool3d(x, 3, 2, 1)))
    True
    """
    return _pool(x, 3, kernel_size, stride, padding, dilation, ceil_mode, chunks, avg=False)


def avg_pool3d(x, kernel_size, stride=None, padding=0, *, ceil_mode=False, count_include_pad=True, chunks=None):
    """:func:`sigcorr.avg_pool3d` of a chunked array.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(15).standard_normal((20, 22, 24))
    >>> y = sigcorr.dask.avg_pool3d(x, 3, 2, 1, count_include_pad=False, chunks=(8, 8, 8))
    >>> bool(np.allclose(y.compute(), sigcorr.avg_pool3d(x, 3, 2, 1, count_include_pad=False)))
    True
    """
    return _pool(x, 3, kernel_size, stride, padding, 1, ceil_mode, chunks, avg=True,
                 count_include_pad=count_include_pad)


def _layer(x, weight, bias, stride, padding, dilation, nd, chunks):
    xd = _blocks.as_dask(x, chunks, "x")
    w = _blocks.in_memory(weight, "weight")
    b = None if bias is None else _blocks.in_memory(bias, "bias")
    _validate.check_layer_x_ndim(xd.shape, nd)
    xd = xd.rechunk({ax: -1 for ax in range(1, xd.ndim)})  # the batch axis as blocks
    f = (sigcorr.conv1d, sigcorr.conv2d, sigcorr.conv3d)[nd - 1]
    probe = f(np.zeros((1,) + xd.shape[1:], dtype=xd.dtype), w, b, stride, padding, dilation)
    return xd.map_blocks(_blocks.per_task(lambda blk: f(blk, w, b, stride, padding, dilation)),
                         chunks=(xd.chunks[0],) + tuple((c,) for c in probe.shape[1:]), dtype=probe.dtype)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, *, chunks=None):
    """:func:`sigcorr.conv1d` of a chunked batch (N as blocks).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(10).standard_normal((8, 2, 100))
    >>> w = np.random.default_rng(11).standard_normal((3, 2, 5))
    >>> bool(np.allclose(sigcorr.dask.conv1d(x, w, chunks=(3, 2, 100)).compute(), sigcorr.conv1d(x, w)))
    True
    """
    return _layer(x, weight, bias, stride, padding, dilation, 1, chunks)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, *, chunks=None):
    """:func:`sigcorr.conv2d` of a chunked batch (N as blocks).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(12).standard_normal((6, 3, 32, 32)).astype(np.float32)
    >>> w = np.random.default_rng(13).standard_normal((4, 3, 3, 3)).astype(np.float32)
    >>> y = sigcorr.dask.conv2d(x, w, padding=1, chunks=(2, 3, 32, 32))
    >>> bool(np.allclose(y.compute(), sigcorr.conv2d(x, w, padding=1), atol=1e-5))
    True
    """
    return _layer(x, weight, bias, stride, padding, dilation, 2, chunks)


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, *, chunks=None):
    """:func:`sigcorr.conv3d` of a chunked batch (N as blocks).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(16).standard_normal((4, 2, 10, 10, 10))
    >>> w = np.random.default_rng(17).standard_normal((3, 2, 3, 3, 3))
    >>> y = sigcorr.dask.conv3d(x, w, padding=1, chunks=(2, 2, 10, 10, 10))
    >>> bool(np.allclose(y.compute(), sigcorr.conv3d(x, w, padding=1)))
    True
    """
    return _layer(x, weight, bias, stride, padding, dilation, 3, chunks)
