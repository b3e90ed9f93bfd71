"""sigcorr's own work buffers, reused from call to call.

A template match on a 1024 x 1024 image passes through several
megabyte-sized temporaries (the padded image, its tiles' spectra, the
product spectrum, the inverse transform).  Allocated fresh on every call,
each one is mapped from the system and its pages faulted in one by one,
which costs about as much as the arithmetic on them.  sigcorr therefore
keeps those temporaries, as OpenCV's buffer pool and torch's caching
allocator do, instead of asking the process's ``malloc`` to keep its heap
(``sigcorr.tune_allocator`` still offers that, as an explicit opt-in).

Rules that keep this safe:

* only temporaries that die inside one public call are taken from here, never
  an array returned to the caller;
* one *tag* per call site: the same tag hands back the same memory, so a call
  site never holds two buffers of one tag at once;
* buffers are per thread, so calls from several threads never share one;
* at most :data:`MAX_BYTES` per thread are kept; larger requests get a fresh
  array (their cost is dominated by the arithmetic anyway), and
  :func:`release` frees everything the calling thread holds.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["MAX_BYTES", "empty", "held_bytes", "release"]

#: the most a thread keeps between calls (bytes)
MAX_BYTES = 256 << 20
_ALIGN = 64  # one cache line: every row of a float buffer starts aligned
_local = threading.local()


def _pool() -> dict:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    return pool


def empty(tag: str, shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` from the
    calling thread's buffer ``tag`` (grown when too small).

    The contents are whatever the previous user of ``tag`` left there."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    pool = _pool()
    raw = pool.get(tag)
    if raw is None or raw.nbytes - _ALIGN < nbytes:
        if raw is not None:
            del pool[tag]
        if nbytes + _ALIGN + held_bytes() > MAX_BYTES:
            return np.empty(shape, dtype)
        raw = np.empty(nbytes + _ALIGN, np.uint8)
        pool[tag] = raw
    start = (-raw.ctypes.data) % _ALIGN
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def held_bytes() -> int:
    """Bytes the calling thread keeps."""
    return sum(raw.nbytes for raw in _pool().values())


def release() -> None:
    """Free every buffer the calling thread keeps."""
    _pool().clear()
