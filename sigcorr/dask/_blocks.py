"""The chunk machinery every ``sigcorr.dask`` family shares: inputs as Dask
arrays, chunks merged until they hold their halo, the "valid" result of a
block plus its right/bottom halo, padding at the true edges, and each task's
share of the cores."""

from __future__ import annotations

import functools
import math
import threading

import dask.array as da
import numpy as np

from .. import _costs, _validate
from .._runtime import threads


def task_threads() -> int:
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


def per_task(func):
    """``func`` run on :func:`task_threads` threads (Numba's count is per
    calling thread; scipy.fft's workers follow it)."""

    @functools.wraps(func)
    def task(*args, **kwargs):
        import numba

        n, before = task_threads(), numba.get_num_threads()
        if n >= before:
            return func(*args, **kwargs)
        numba.set_num_threads(n)
        try:
            return func(*args, **kwargs)
        finally:
            numba.set_num_threads(before)

    return task


def as_dask(x, chunks, name="x"):
    """``x`` as a Dask array of known chunk sizes (a NumPy input chunked by
    ``chunks``, "auto" without them; a Dask input rechunked if given)."""
    if isinstance(chunks, bool):
        raise TypeError(f"chunks must be a Dask chunk specification (int, tuple, 'auto', ...), got {chunks!r}")
    try:
        if isinstance(x, da.Array):
            if chunks is not None:
                x = x.rechunk(chunks)
            if any(math.isnan(c) for cs in x.chunks for c in cs):
                raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first")
            return x
        arr = _validate.as_numeric_array(x, name)
        return da.from_array(arr, chunks="auto" if chunks is None else chunks)
    except (ValueError, TypeError, ZeroDivisionError, KeyError) as exc:
        if "chunk" in str(exc) or name in str(exc):
            raise
        # (Dask's own words name the value, not the argument)
        raise ValueError(f"chunks: {chunks!r} is not a chunk specification for {name} of shape "
                         f"{tuple(x.shape)}: {exc}") from None


def in_memory(k, name):
    """``k`` (a kernel, template, mask, weight) as a NumPy array, computed if lazy."""
    if isinstance(k, da.Array):
        k = k.compute()
    return _validate.as_numeric_array(k, name)


def merge_small(sizes, least):
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


def rechunked(x, sizes):
    """``x`` rechunked to ``sizes`` ({axis: chunk sizes}) where they differ."""
    new = {ax: s for ax, s in sizes.items() if s != x.chunks[ax]}
    return x.rechunk(new) if new else x


def fit(x, halos):
    """Rechunk so that every chunk along each axis is at least its halo + 1."""
    return rechunked(x, {ax: merge_small(x.chunks[ax], halo + 1) for ax, halo in halos.items()})


def coarsen(x, halos):
    """Merge neighbouring chunks along the axes of ``halos`` until each block
    is ``dask_halo_blocks`` halos long, as far as ``dask_block_bytes`` allows
    (the rule and its reason: :mod:`sigcorr._costs`)."""
    costs = _costs.get()
    other = x.dtype.itemsize * math.prod(max(x.chunks[ax]) for ax in range(x.ndim) if ax not in halos)
    side = (costs.dask_block_bytes / other) ** (1.0 / max(1, len(halos)))
    sizes = {}
    for ax, halo in halos.items():
        least = min(costs.dask_halo_blocks * (halo + 1), int(side))
        sizes[ax] = merge_small(x.chunks[ax], least) if max(x.chunks[ax]) < least else x.chunks[ax]
    return rechunked(x, sizes)


def valid(x, halos, func, dtype, last_axis_chunks=None):
    """Blocks of func(block + right/bottom halo): the 'valid' result of an
    operation whose window spans halo + 1 samples along each axis of ``halos``
    (``last_axis_chunks``: the output's chunks along the last axis, if func
    changes its length)."""
    x = fit(x, halos)
    depth = {ax: (0, halos.get(ax, 0)) for ax in range(x.ndim)}
    chunks = tuple(cs[:-1] + (cs[-1] - halos.get(ax, 0),) for ax, cs in enumerate(x.chunks))
    if last_axis_chunks is not None:
        chunks = chunks[:-1] + (last_axis_chunks,)
    return da.map_overlap(per_task(func), x, depth=depth, boundary="none", trim=False, chunks=chunks,
                          dtype=dtype, meta=np.empty((0,) * x.ndim, dtype=dtype))


def pad(x, pads, mode="constant", value=0):
    """``da.pad`` of ``x`` by ``pads`` ((before, after) per axis); ``x``
    itself when there is nothing to add."""
    if not any(a or b for a, b in pads):
        return x
    if mode == "constant":
        return da.pad(x, pads, mode="constant", constant_values=value)
    return da.pad(x, pads, mode=mode)
