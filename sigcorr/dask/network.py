"""``matched_filter`` on a long archive chunked in time.

Every block of samples is scored with the next ``m - 1 + max(moveouts)``
samples (its halo) by the in-memory :func:`sigcorr.matched_filter`; block
boundaries sit on multiples of ``step``, so each block's decimated outputs
are exactly its share of the in-memory ones.  The channels are one chunk.
"""

from __future__ import annotations

import dask.array as da
import numpy as np

import sigcorr

from .. import _validate
from . import _blocks

__all__ = ["matched_filter"]


def _aligned(sizes, step, least):
    """Chunk sizes along time whose boundaries are multiples of ``step``
    (each moved down to one) and each at least ``least`` long (neighbours
    merged; the last one takes what is left)."""
    ends = np.cumsum(sizes)
    total = int(ends[-1])
    cuts = sorted({int(e) // step * step for e in ends[:-1]} - {0})
    bounds = [0] + [c for c in cuts if c < total] + [total]
    return _blocks.merge_small(tuple(int(b - a) for a, b in zip(bounds[:-1], bounds[1:])), least)


def matched_filter(data, templates, *, moveouts=None, weights=None, method="ccoeff_normed", step=1, chunks=None):
    """:func:`sigcorr.matched_filter` on chunked data (C, N) (or (N,)): a lazy
    (T, ceil(N_out / step)) Dask array equal to the in-memory result.

    The templates, moveouts and weights are in memory.  Time chunks are
    merged until each holds its halo (``m - 1 + max(moveouts)`` samples)
    and their boundaries moved onto multiples of ``step``; the channels are
    one chunk.  A day per task from a zarr archive on a
    ``dask.distributed`` cluster: ``chunks=(-1, 8_640_000)``.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(5).standard_normal((3, 5000))
    >>> tpl = x[None, :, 1200:1260]
    >>> s = sigcorr.dask.matched_filter(x, tpl, chunks=(3, 1000))
    >>> s.shape, bool(np.allclose(s.compute(), sigcorr.matched_filter(x, tpl)))
    ((1, 4941), True)
    """
    x = _blocks.as_dask(data, chunks, "data")
    _validate.check_network_method(method)
    step = _validate.check_int(step, "step", minimum=1)
    t = _blocks.in_memory(templates, "templates")
    tpl, mv, w, n_out = _validate.network_shapes(x.shape, t, moveouts, weights)
    if x.ndim == 1:
        x = x[None]
    dtype = _validate.compute_dtype(x.dtype, family="image")
    T, _, m = tpl.shape
    halo = m - 1 + int(mv.max())
    x = x.rechunk({0: -1})
    x = _blocks.rechunked(x, {1: _aligned(x.chunks[1], step, halo + 1)})
    sizes = x.chunks[1]
    out_chunks = tuple(c // step for c in sizes[:-1]) + (-(-(sizes[-1] - halo) // step),)

    def block(b):
        return sigcorr.matched_filter(b, tpl, moveouts=mv, weights=w, step=step)

    return da.map_overlap(_blocks.per_task(block), x, depth={0: 0, 1: (0, halo)}, boundary="none", trim=False,
                          chunks=((T,), out_chunks), dtype=dtype, meta=np.empty((0, 0), dtype=dtype))
