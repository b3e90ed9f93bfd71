"""sigcorr on Dask arrays: the same functions, chunked, with the in-memory answers.

Needs the ``dask`` extra (``pip install "sigcorr[dask]"``).  Every function
takes a Dask array (or a NumPy array plus ``chunks=``) and returns a lazy Dask
array (or a small result), computed block by block by sigcorr's own in-memory
functions, so it runs unchanged on a ``dask.distributed`` cluster.

How each is chunked:

* ``convolve``, ``correlate``, ``convolve2d``, ``correlate2d``,
  ``match_template``: the zero padding (or the boundary: ``fill`` with any
  value, ``wrap``, ``symm``) is added once at the true edges of the array;
  then every block computes the "valid" result of itself plus a halo, on its
  right/bottom, of the kernel's extent minus one (``map_overlap`` with
  ``boundary="none"``, as dask-image does), so the edge blocks see the real
  boundary and no block sees made-up ghost cells.  Batch axes are plain blocks.
* ``find_matches``: the peaks of each block (with a halo of ``min_distance``),
  then one greedy suppression over all of them: the same matches as in memory.
* ``autocorrelation``: every block adds its lag sums over its own samples
  against the next ``max_lag`` ones; the blocks' partial sums are added, so
  one long series may be chunked in time.  NaN is missing, as in memory.
* ``detect_period``, ``detect_periods``, ``conv1d``, ``conv2d``: the series / batch axis as
  blocks (the time axis, and the channels, in one chunk).
* pooling: the padding at the true edges, chunks aligned to the stride, a
  halo where windows overlap.

Chunks smaller than a halo are merged with their neighbours automatically.
Each task runs sigcorr's parallel kernels on its share of the cores: the
threads sigcorr uses, divided by the tasks the scheduler runs at once (the
threads of a distributed worker, or of the local threaded scheduler), since
tasks that each start every core's worth of threads only contend.

Workers compile nothing on their first task when their kernels are in the
cache: ``client.run(sigcorr.warmup)`` compiles them once per machine.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

try:
    import dask.array as da
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError('sigcorr.dask needs Dask: pip install "sigcorr[dask]"') from exc

from . import _costs, _geometry, _validate
from ._runtime import threads
from . import delay as _delay
from .convolve import convolve as _convolve, correlate as _correlate
from . import layers as _layers
from . import match as _match
from .match import peaks as _peaks
from . import period as _period
from . import pool as _poolmod

__all__ = [
    "convolve", "correlate", "convolve2d", "correlate2d", "match_template", "find_matches",
    "autocorrelation", "crosscorrelation", "detect_period", "detect_periods", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "conv1d", "conv2d",
]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _task_threads() -> int:
    """Threads for one task: sigcorr's count split among the tasks that run
    at once (the worker's threads on a distributed cluster, the pool's on the
    local threaded scheduler, one on the synchronous scheduler)."""
    total = threads()
    try:
        from distributed import get_worker

        return max(1, total // max(1, int(get_worker().state.nthreads)))
    except (ImportError, ValueError, AttributeError):
        pass
    if threading.current_thread() is threading.main_thread():
        return total
    import dask
    import dask.system

    return max(1, total // max(1, int(dask.config.get("num_workers", None) or dask.system.CPU_COUNT)))


def _per_task(func):
    """``func`` run on :func:`_task_threads` threads (Numba's count is per
    calling thread; scipy.fft's workers follow it)."""

    @functools.wraps(func)
    def task(*args, **kwargs):
        import numba

        n, before = _task_threads(), numba.get_num_threads()
        if n >= before:
            return func(*args, **kwargs)
        numba.set_num_threads(n)
        try:
            return func(*args, **kwargs)
        finally:
            numba.set_num_threads(before)

    return task


def _as_dask(x, chunks, name="x"):
    if isinstance(x, da.Array):
        if chunks is not None:
            x = x.rechunk(chunks)
        if any(math.isnan(c) for cs in x.chunks for c in cs):
            raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first")
        return x
    arr = _validate.as_numeric_array(x, name)
    return da.from_array(arr, chunks="auto" if chunks is None else chunks)


def _in_memory(k, name):
    if isinstance(k, da.Array):
        k = k.compute()
    return _validate.as_numeric_array(k, name)


def _merge_small(sizes, least):
    """Chunk sizes along one axis with every chunk >= least (merging neighbours)."""
    out = []
    for c in sizes:
        if out and out[-1] < least:
            out[-1] += c
        else:
            out.append(c)
    if len(out) > 1 and out[-1] < least:
        last = out.pop()
        out[-1] += last
    return tuple(out)


def _rechunked(x, sizes):
    """``x`` rechunked to ``sizes`` ({axis: chunk sizes}) where they differ."""
    new = {ax: s for ax, s in sizes.items() if s != x.chunks[ax]}
    return x.rechunk(new) if new else x


def _fit(x, halos):
    """Rechunk so that every chunk along each axis is at least its halo + 1."""
    return _rechunked(x, {ax: _merge_small(x.chunks[ax], halo + 1) for ax, halo in halos.items()})


def _coarsen(x, halos):
    """Merge neighbouring chunks along the axes of ``halos`` until each block
    is ``dask_halo_blocks`` halos long, as far as ``dask_block_bytes`` allows
    (the rule and its reason: :mod:`sigcorr._costs`)."""
    costs = _costs.get()
    other = x.dtype.itemsize * math.prod(max(x.chunks[ax]) for ax in range(x.ndim) if ax not in halos)
    side = (costs.dask_block_bytes / other) ** (1.0 / max(1, len(halos)))
    sizes = {}
    for ax, halo in halos.items():
        least = min(costs.dask_halo_blocks * (halo + 1), int(side))
        sizes[ax] = _merge_small(x.chunks[ax], least) if max(x.chunks[ax]) < least else x.chunks[ax]
    return _rechunked(x, sizes)


def _valid(x, halos, func, dtype, last_axis_chunks=None):
    """Blocks of func(block + right/bottom halo): the 'valid' result of an
    operation whose window spans halo + 1 samples along each axis of ``halos``
    (``last_axis_chunks``: the output's chunks along the last axis, if func
    changes its length)."""
    x = _fit(x, halos)
    depth = {ax: (0, halos.get(ax, 0)) for ax in range(x.ndim)}
    chunks = tuple(cs[:-1] + (cs[-1] - halos.get(ax, 0),) for ax, cs in enumerate(x.chunks))
    if last_axis_chunks is not None:
        chunks = chunks[:-1] + (last_axis_chunks,)
    return da.map_overlap(_per_task(func), x, depth=depth, boundary="none", trim=False, chunks=chunks,
                          dtype=dtype, meta=np.empty((0,) * x.ndim, dtype=dtype))


def _pad(x, pads, mode="constant", value=0):
    if not any(a or b for a, b in pads):
        return x
    if mode == "constant":
        return da.pad(x, pads, mode="constant", constant_values=value)
    return da.pad(x, pads, mode=mode)


# ---------------------------------------------------------------------------
# convolution and correlation
# ---------------------------------------------------------------------------


def _conv_dask(in1, in2, mode, method, axes, chunks, flip):
    x = _as_dask(in1, chunks, "in1")
    k = _in_memory(in2, "in2")
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
    xp = _pad(x.astype(dtype), pads)
    halos = {ax: k.shape[ax] - 1 for ax in axes}

    def block(b):
        return _convolve(b, kk, "valid", method, axes=axes if batch else None).astype(dtype, copy=False)

    return _valid(xp, halos, block, dtype)


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
    x = _as_dask(in1, chunks, "in1")
    k = _in_memory(in2, "in2")
    mode = _validate.check_mode(mode)
    boundary = _validate.check_boundary(boundary)
    _validate.check_2d_pair(x, k)
    fv = _validate.check_fillvalue(fillvalue)
    if mode == "valid":
        return _conv_dask(x, k, mode, "auto", None, None, flip)
    pads = _geometry.boundary_pads(x.shape, k.shape, mode, flip)
    dtype = _validate.compute_dtype(x.dtype, k.dtype)
    if boundary == "fill":
        xp = _pad(x.astype(dtype), pads, "constant", _validate.fill_in(fv, dtype).item())
    else:
        xp = _pad(x.astype(dtype), pads, "wrap" if boundary == "wrap" else "symmetric")
    return _conv_dask(xp, k, "valid", "auto", None, None, flip)


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


# ---------------------------------------------------------------------------
# template matching
# ---------------------------------------------------------------------------


def match_template(image, template, method="ccoeff_normed", *, mask=None, pad_input=False, chunks=None):
    """:func:`sigcorr.match_template` on a chunked image (1-D, 2-D or colour
    (H, W, C), the channels in one chunk); the template and mask in memory.

    Each block is scored with the template's extent of its neighbours below
    and to the right.  Chunks shorter than 32 template extents are merged
    with their neighbours first (up to 64 MiB of image per block), since a
    block's FFT tiles transform that halo too: the result's chunks are the
    merged ones.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> img = np.random.default_rng(3).random((256, 256))
    >>> s = sigcorr.dask.match_template(img, img[100:116, 50:70], chunks=64)
    >>> bool(np.allclose(s.compute(), sigcorr.match_template(img, img[100:116, 50:70])))
    True
    """
    x = _as_dask(image, chunks, "image")
    t = _in_memory(template, "template")
    method = _validate.check_match_method(method)
    m = None if mask is None else _in_memory(mask, "mask")
    _validate.match_shapes(x.shape, t.shape)
    pad_input = _validate.check_flag(pad_input, "pad_input")
    spatial = x.ndim if x.ndim < 3 else 2
    if x.ndim == 3:
        x = x.rechunk({2: -1})
    dtype = _validate.compute_dtype(x.dtype, t.dtype, family="image")
    if pad_input:
        pads = [(t.shape[ax] // 2, t.shape[ax] - 1 - t.shape[ax] // 2) for ax in range(spatial)] + [(0, 0)] * (x.ndim - spatial)
        x = _pad(x, pads)
    halos = {ax: t.shape[ax] - 1 for ax in range(spatial)}
    x = _coarsen(x, halos)
    colour = x.ndim == 3  # (not x itself: dask tokenizes the function by pickling what it closes over)

    def block(b):
        s = _match.match_template(b, t, method, mask=m)
        return s[..., None] if colour else s

    if x.ndim == 3:
        return _valid(x, halos, block, dtype, last_axis_chunks=(1,))[..., 0]
    return _valid(x, halos, block, dtype)


def find_matches(scores, *, threshold=None, max_matches=None, min_distance=1, maximize=True, subpixel=False,
                 chunks=None):
    """:func:`sigcorr.find_matches` on a chunked score map: the peaks of every
    block (with a ``min_distance`` halo), then one suppression over them all.
    Returns :class:`sigcorr.Matches` (computed).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> s = np.zeros((200, 200)); s[5, 5] = 1.0; s[120, 77] = 0.9; s[121, 79] = 0.8
    >>> sigcorr.dask.find_matches(s, min_distance=3, chunks=50).positions.tolist()
    [[5.0, 5.0], [120.0, 77.0]]
    """
    x = _as_dask(scores, chunks, "scores")
    _validate.check_score_map(x.ndim, stack=False)
    threshold, max_matches, radius = _validate.peak_options(threshold, max_matches, min_distance)
    maximize = _validate.check_flag(maximize, "maximize")
    subpixel = _validate.check_flag(subpixel, "subpixel")
    ndim = x.ndim
    x2 = x[None, :] if ndim == 1 else x
    if x2.size == 0:
        return _match.find_matches(np.zeros((0,) * ndim, dtype=x.dtype))
    sign = 1.0 if maximize else -1.0
    floor = None
    if threshold is None:  # as peak_local_max: the map's minimum is no peak
        work = da.where(da.isfinite(x2), x2.astype(np.float64) * sign, np.inf)
        floor = float(work.min().compute())
    import dask

    radius_y = 0 if ndim == 1 else radius  # a 1-D map is one row: no halo across rows

    def peaks(b, y0, x0, oy, ox, hy, wx):
        # block b starts at (y0, x0) of the map; its own samples are
        # b[oy:oy + hy, ox:ox + wx] (the rest is the halo)
        work = b.astype(np.float64) * sign
        work = np.where(np.isfinite(work), work, -np.inf)
        pk = (work == _peaks.max_filter(work[None], radius, ndim != 1)[0]) & np.isfinite(work)
        pk &= (work >= sign * threshold) if threshold is not None else (work > floor)
        own = np.zeros_like(pk)
        own[oy:oy + hy, ox:ox + wx] = True
        _, ys, xs = _peaks.nonzero3((pk & own)[None])
        pos = np.stack([ys + y0, xs + x0], axis=1).astype(np.float64)
        if subpixel and len(ys):  # refined as in memory: the global position plus the offset
            pos = _peaks.refine(work, np.stack([ys, xs], axis=1), pos)
        return np.column_stack([ys + y0, xs + x0, work[ys, xs], b[ys, xs].astype(np.float64), pos])

    tasks = []
    H, W = x2.shape
    ys0 = np.cumsum((0,) + x2.chunks[0])
    xs0 = np.cumsum((0,) + x2.chunks[1])
    for i in range(len(x2.chunks[0])):
        for j in range(len(x2.chunks[1])):
            a0, a1 = max(0, ys0[i] - radius_y), min(H, ys0[i + 1] + radius_y)
            b0, b1 = max(0, xs0[j] - radius), min(W, xs0[j + 1] + radius)
            blk = x2[a0:a1, b0:b1]
            tasks.append(dask.delayed(_per_task(peaks))(blk, a0, b0, ys0[i] - a0, xs0[j] - b0,
                                             ys0[i + 1] - ys0[i], xs0[j + 1] - xs0[j]))
    parts = dask.compute(*tasks)
    cand = np.concatenate(parts, axis=0) if parts else np.zeros((0, 6))
    keep = _peaks.suppress(cand[:, 2], cand[:, :2], (H, W), radius, len(cand) if max_matches is None else max_matches)
    cand = cand[keep]
    pos = cand[:, 4:6]
    scores_out = cand[:, 3].astype(x.dtype)  # the map's own values and dtype, as in memory
    if ndim == 1:
        pos = pos[:, 1:]
    return _match.Matches(pos, scores_out)


# ---------------------------------------------------------------------------
# autocorrelation and periods
# ---------------------------------------------------------------------------


def autocorrelation(x, max_lag=None, *, demean=True, normalize=True, adjusted=False, axis=-1, method="auto",
                    chunks=None):
    """:func:`sigcorr.autocorrelation` of chunked series; the time axis may
    be chunked too (each block's lag sums against the next ``max_lag``
    samples, added over the blocks).  NaN samples are missing.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> x = np.random.default_rng(4).standard_normal(100_000)
    >>> r = sigcorr.dask.autocorrelation(x, 50, chunks=10_000)
    >>> bool(np.allclose(r.compute(), sigcorr.autocorrelation(x, 50)))
    True
    """
    xd = _as_dask(x, chunks, "x")
    _validate.check_nonempty(xd, "x")
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd.astype(np.float64), axis, -1)
    n = y.shape[-1]
    L, method = _validate.acf_options(max_lag, n, method, demean, normalize, adjusted)
    if len(y.chunks[-1]) == 1:  # whole series per block: the in-memory function, exactly
        out = y.map_blocks(_per_task(lambda b: _period.autocorrelation(b, L, demean=demean, normalize=normalize,
                                                             adjusted=adjusted, method=method)),
                           chunks=y.chunks[:-1] + ((L + 1,),), dtype=np.float64)
        return da.moveaxis(out, -1, axis)
    ok = da.isfinite(y)
    if demean:
        cnt = ok.sum(axis=-1, keepdims=True)
        mean = da.where(ok, y, 0.0).sum(axis=-1, keepdims=True) / da.maximum(cnt, 1)
        y = y - mean
    z = da.where(ok, y, 0.0)
    S = _partial_lag_sums(z, L)
    missing = ~ok.all()
    if adjusted:
        pairs = da.maximum(da.round(_partial_lag_sums(ok.astype(np.float64), L)), 1.0)
        plain = n / (n - np.arange(L + 1.0))
        S = da.where(missing, S * (pairs[..., :1] / pairs), S * plain)
    if normalize:
        s0 = S[..., :1]
        S = da.where(s0 == 0, 0.0, S / da.where(s0 == 0, 1.0, s0))
    return da.moveaxis(S, -1, axis)


def _partial_lag_sums(z, L):
    """sum_t z[..., t] z[..., t + k], k = 0..L, block by block along time:
    every block sums its own samples against themselves and the next L (its
    halo; L zeros past the end), and the blocks' sums are added."""
    lead = z.ndim - 1
    z = _fit(_pad(z, [(0, 0)] * lead + [(0, L)]), {lead: L})

    def block(b):
        own = b.shape[-1] - L  # every block carries exactly L samples after its own
        flat = b.reshape(-1, b.shape[-1])
        if own <= 0 or flat.shape[0] == 0:
            return np.zeros(b.shape[:-1] + (1, L + 1))
        sums = _correlate(flat, np.ascontiguousarray(flat[:, :own]), "valid", axes=-1)
        return sums.reshape(b.shape[:-1] + (1, L + 1))

    depth = {ax: 0 for ax in range(lead)}
    depth[lead] = (0, L)
    nb = len(z.chunks[-1])
    parts = da.map_overlap(_per_task(block), z, depth=depth, boundary="none", trim=False, new_axis=lead + 1,
                           chunks=z.chunks[:-1] + ((1,) * nb, (L + 1,)), dtype=np.float64,
                           meta=np.empty((0,) * (lead + 2)))
    return parts.sum(axis=lead)


def crosscorrelation(x, y, max_lag=None, *, demean=True, normalize=True, adjusted=False, two_sided=True, axis=-1,
                     chunks=None):
    """:func:`sigcorr.crosscorrelation` of chunked pairs of series (the pairs
    as blocks, the time axis in one chunk).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> rng = np.random.default_rng(14)
    >>> x, y = rng.standard_normal((2, 30, 400))
    >>> r = sigcorr.dask.crosscorrelation(x, y, 20, chunks=(8, 400))
    >>> bool(np.allclose(r.compute(), sigcorr.crosscorrelation(x, y, 20)))
    True
    """
    xd = _as_dask(x, chunks, "x")
    yd = _as_dask(y, chunks if chunks is not None else xd.chunks, "y")
    _validate.dask_pair_shapes(xd.shape, yd.shape)
    _validate.check_nonempty(xd, "x")
    axis = _validate.check_axis(axis, xd.ndim, f"{xd.ndim}-D x and y")
    xd = xd.rechunk({axis: -1})
    yd = yd.rechunk(xd.chunks)
    kw = dict(demean=demean, normalize=normalize, adjusted=adjusted, two_sided=two_sided, axis=axis)
    probe = _delay.crosscorrelation(np.zeros(xd.shape[axis]), np.arange(xd.shape[axis], dtype=float),
                                    max_lag, **{**kw, "axis": -1})
    out_chunks = tuple((probe.shape[0],) if ax == axis else c for ax, c in enumerate(xd.chunks))
    return da.map_blocks(_per_task(lambda a, b: _delay.crosscorrelation(a, b, max_lag, **kw)), xd, yd,
                         chunks=out_chunks, dtype=np.float64)


def detect_period(x, *, min_period=2, max_period=None, fs=1.0, axis=-1, chunks=None):
    """:func:`sigcorr.detect_period` of chunked series (the series axes as
    blocks, the time axis in one chunk).  Returns a :class:`sigcorr.PeriodResult`
    of lazy Dask arrays (``candidates`` None); a single series is computed
    right away.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> t = np.arange(500)
    >>> X = np.sin(2 * np.pi * t / 25.0) + 0.2 * np.random.default_rng(5).standard_normal((40, 500))
    >>> res = sigcorr.dask.detect_period(X, chunks=(10, 500))
    >>> bool(np.allclose(res.period.compute(), sigcorr.detect_period(X).period))
    True
    """
    xd = _as_dask(x, chunks, "x")
    if xd.ndim == 1:
        return _period.detect_period(xd.compute(), min_period=min_period, max_period=max_period, fs=fs)
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd, axis, -1).rechunk({xd.ndim - 1: -1})
    _validate.period_range(y.shape[-1], min_period, max_period, fs)  # errors now, not on compute

    def block(b):
        r = _period.detect_period(b, min_period=min_period, max_period=max_period, fs=fs)
        return np.stack([np.asarray(r.period, dtype=np.float64), np.asarray(r.strength, dtype=np.float64)], axis=-1)

    both = y.map_blocks(_per_task(block), chunks=y.chunks[:-1] + ((2,),), dtype=np.float64)
    return _period.PeriodResult(both[..., 0], both[..., 1], None)


def detect_periods(x, *, max_periods=3, min_period=2, max_period=None, fs=1.0, axis=-1, chunks=None):
    """:func:`sigcorr.detect_periods` of chunked series (the series axes as
    blocks, the time axis in one chunk).  Returns a :class:`sigcorr.Periods`
    of lazy Dask arrays of shape ``batch + (max_periods,)``; a single series
    is computed right away.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> t = np.arange(1000)
    >>> X = np.sin(2 * np.pi * t / 25.0) + 0.2 * np.random.default_rng(5).standard_normal((40, 1000))
    >>> res = sigcorr.dask.detect_periods(X, chunks=(10, 1000))
    >>> bool(np.array_equal(res.periods.compute(), sigcorr.detect_periods(X).periods, equal_nan=True))
    True
    """
    xd = _as_dask(x, chunks, "x")
    K = _validate.check_int(max_periods, "max_periods", minimum=1)
    if xd.ndim == 1:
        return _period.detect_periods(xd.compute(), max_periods=K, min_period=min_period, max_period=max_period,
                                      fs=fs)
    axis = _validate.check_axis(axis, xd.ndim, f"a {xd.ndim}-D x")
    y = da.moveaxis(xd, axis, -1).rechunk({xd.ndim - 1: -1})
    _validate.period_range(y.shape[-1], min_period, max_period, fs)  # errors now, not on compute

    def block(b):
        r = _period.detect_periods(b, max_periods=K, min_period=min_period, max_period=max_period, fs=fs)
        return np.stack([r.periods, r.strengths], axis=-1)

    both = y.map_blocks(_per_task(block), chunks=y.chunks[:-1] + ((K,), (2,)), new_axis=y.ndim, dtype=np.float64)
    return _period.Periods(both[..., 0], both[..., 1])


# ---------------------------------------------------------------------------
# pooling and convolution layers
# ---------------------------------------------------------------------------


def _pool(x, nd, kernel_size, stride, padding, dilation, ceil_mode, chunks, avg, count_include_pad=True):
    xd = _as_dask(x, chunks, "x")
    _validate.check_pool_ndim(xd.ndim, nd)
    count_include_pad = _validate.check_flag(count_include_pad, "count_include_pad")
    k, s, p, d, outs = _validate.pool_params(xd.shape, nd, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d, outs = k[2 - nd:], s[2 - nd:], p[2 - nd:], d[2 - nd:], outs[2 - nd:]
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
    xp = _pad(xd.astype(dtype) if avg else xd, pads, "constant", fill)[tuple(reach)]
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
        new[ax] = _merge_small(tuple(sizes), halos[ax] + 1) if halos[ax] else tuple(sizes)
    xp = xp.rechunk(new)
    out_chunks = list(xp.chunks)
    for i, ax in enumerate(axes):
        c = list(xp.chunks[ax])
        c[:-1] = [v // s[i] for v in c[:-1]]
        c[-1] = outs[i] - sum(c[:-1])
        out_chunks[ax] = tuple(c)
    kw = dict(kernel_size=k, stride=s, padding=0)

    def block(b):
        if avg:
            r = _poolmod.avg_pool1d(b, **kw) if nd == 1 else _poolmod.avg_pool2d(b, **kw)
            return r.astype(dtype, copy=False)
        return _poolmod.max_pool1d(b, dilation=d, **kw) if nd == 1 else _poolmod.max_pool2d(b, dilation=d, **kw)

    depth = {ax: (0, halos.get(ax, 0)) for ax in range(xp.ndim)}
    out = da.map_overlap(_per_task(block), xp, depth=depth, boundary="none", trim=False, chunks=tuple(out_chunks),
                         dtype=dtype, meta=np.empty((0,) * xp.ndim, dtype=dtype))
    if avg and not (count_include_pad and not ceil_mode):
        # torch's divisors at the edges: the whole-window average above times
        # the window size, over the samples (and padding) torch counts
        cnt = None
        for i in range(nd):
            lo = np.arange(outs[i]) * s[i] - p[i]
            hi = np.minimum(lo + k[i], xd.shape[axes[i]] + p[i])
            if count_include_pad:
                c = (hi - lo).astype(np.float64)
            else:
                c = (np.minimum(hi, xd.shape[axes[i]]) - np.maximum(lo, 0)).clip(0).astype(np.float64)
            c = c / k[i]
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


def _layer(x, weight, bias, stride, padding, dilation, nd, chunks):
    xd = _as_dask(x, chunks, "x")
    w = _in_memory(weight, "weight")
    b = None if bias is None else _in_memory(bias, "bias")
    _validate.check_layer_x_ndim(xd.shape, nd)
    xd = xd.rechunk({ax: -1 for ax in range(1, xd.ndim)})  # the batch axis as blocks
    f = _layers.conv1d if nd == 1 else _layers.conv2d
    probe = f(np.zeros((1,) + xd.shape[1:], dtype=xd.dtype), w, b, stride, padding, dilation)
    return xd.map_blocks(_per_task(lambda blk: f(blk, w, b, stride, padding, dilation)),
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
