"""How sigcorr's kernels meet the process: threads, memory, compiling.

``import sigcorr`` changes nothing outside sigcorr: no Numba setting, no
library loaded, no ``malloc`` tuning, no compile.

Threads.  Numba runs parallel kernels on one *threading layer* per process,
chosen when its thread pool starts (the first parallel kernel, of sigcorr or
of anyone else).  sigcorr never sets ``numba.config.THREADING_LAYER``: the
user's choice (``NUMBA_THREADING_LAYER`` or the config) is kept, and so is a
pool that already runs.  What it does, on its first kernel call and only if
the pool has not started: the ``tbb`` wheel from PyPI puts ``libtbb.so.12``
under ``<prefix>/lib``, off the loader's path, so Numba would not find it;
sigcorr loads that library (``RTLD_LOCAL``: its symbols are not exported to
anyone) and lets Numba's own priority order (tbb, omp, workqueue) choose.
TBB is safe from many Python threads and across ``fork()``; GNU OpenMP, the
next choice, kills forked children; ``workqueue`` aborts when two threads
launch kernels at once.  So sigcorr serializes its public calls with a
process-wide lock exactly when the layer in use is ``workqueue``, and
:func:`threading_info` reports the layer Numba actually runs.

One thread count (:func:`threads`): Numba's, which follows the CPU affinity
mask, ``NUMBA_NUM_THREADS`` and ``numba.set_num_threads`` (per calling
thread, as Dask workers set it).  scipy.fft's ``workers`` use the same count.

Memory.  Large temporaries live in sigcorr's own reusable buffers
(``sigcorr._workspace``).  :func:`tune_allocator` is an explicit opt-in that
retunes glibc's ``malloc`` for the whole process, for workloads that allocate
large arrays of their own around sigcorr's calls.  Kernel outputs:
:func:`output_array` faults a large one in over the threads,
:func:`output_apart` places one half a page from the input its kernel reads.

Compiled or not (``ready``): a kernel whose code for the call's argument
types is neither in memory nor in the on-disk cache is not compiled in the
caller's process (that takes seconds).  The caller answers from the kernel's
reference twin (``sigcorr._twins``: scipy / numpy, as fast as those
libraries) while one background process, niced, compiles every kernel into
the cache (``sigcorr._warmup``); later calls load the compiled code from the
cache as soon as it is there.  ``SIGCORR_BACKGROUND_COMPILE=0`` turns this off:
then the first call compiles in the foreground, as plain numba does.  Where
no cache folder can be written, compiling in the background would be lost
work, so the foreground compile is used as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
import subprocess
import sys
import threading
import time

from numba._dispatcher import compute_fingerprint as _fingerprint

__all__ = [
    "background_compile_enabled", "output_apart", "output_array", "ready", "run", "serialized_if_needed", "stop_background_compile",
    "threading_info", "threads", "tune_allocator",
]

_state = {"prepared": False, "layer": None, "serialize": False, "allocator": None}
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_HEAP_SLACK = 32 << 20
_LOCK = threading.RLock()
_PREPARE_LOCK = threading.Lock()


def _tbb_candidates():
    names = ("libtbb.so.12", "libtbb.so")
    prefixes = []
    for p in (sys.prefix, sys.base_prefix, os.environ.get("CONDA_PREFIX")):
        if p and p not in prefixes:
            prefixes.append(p)
    for prefix in prefixes:
        for name in names:
            yield os.path.join(prefix, "lib", name)


def _load_tbb() -> bool:
    """Load the tbb wheel's library (found by path, ``RTLD_LOCAL``) so that
    Numba's ``tbbpool`` extension, which needs ``libtbb.so.12``, can load."""
    for path in _tbb_candidates():
        if not os.path.exists(path):
            continue
        try:
            ctypes.CDLL(path)
        except OSError:
            continue
        return True
    return False


def _pool_started() -> bool:
    from numba.np.ufunc import parallel

    return bool(parallel._is_initialized)


def _user_layer():
    """The layer the user asked for, or None for Numba's default."""
    import numba

    chosen = os.environ.get("NUMBA_THREADING_LAYER") or str(getattr(numba.config, "THREADING_LAYER", "default"))
    chosen = chosen.strip().lower()
    return None if chosen in ("", "default", "none") else chosen


def _prepare_threading():
    """Before sigcorr's first kernel: let Numba find the tbb wheel (if the
    pool has not started and the user did not choose), and decide whether
    calls must be serialized.  Changes no Numba setting."""
    if _state["prepared"]:
        return
    with _PREPARE_LOCK:
        if _state["prepared"]:
            return
        if _pool_started():
            _observe_layer()
        else:
            chosen = _user_layer()
            tbb = False
            if chosen is None or chosen.startswith("tbb") or chosen in ("safe", "threadsafe", "forksafe"):
                tbb = _load_tbb()
            # until the pool runs (and is observed), assume the unsafe layer
            # wherever it may be the one Numba picks
            _state["serialize"] = chosen == "workqueue" or (chosen is None and not tbb)
        _state["prepared"] = True


def _observe_layer():
    """Read the layer Numba runs (once its pool has started)."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # pragma: no cover - the pool has not started after all
        return None
    _state["layer"] = layer
    _state["serialize"] = layer == "workqueue"
    return layer


def threads() -> int:
    """The number of threads sigcorr's work uses: Numba's thread count for
    the calling thread (CPU affinity, ``NUMBA_NUM_THREADS``,
    ``numba.set_num_threads``), also passed to scipy.fft as ``workers``."""
    _prepare_threading()
    import numba

    return max(1, numba.get_num_threads())


def threading_info() -> dict:
    """The threading layer Numba runs (None before its pool starts) and
    whether sigcorr serializes its calls: ``{'layer': ..., 'serialized': ...}``."""
    if _state["layer"] is None and _pool_started():
        _observe_layer()
    return {"layer": _state["layer"], "serialized": _state["serialize"]}


def _guard():
    if not _state["prepared"]:
        _prepare_threading()
    elif _state["layer"] is None and _pool_started():
        _observe_layer()
    if _state["serialize"]:
        return _LOCK
    return contextlib.nullcontext()


def serialized_if_needed(func):
    """Decorator for every public function that may launch a parallel kernel.

    It holds a re-entrant process-wide lock for the call when Numba's layer is
    ``workqueue`` (which aborts on concurrent launches); otherwise it adds
    only a function call."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _guard():
            return func(*args, **kwargs)

    return wrapper


def tune_allocator() -> bool:
    """Retune glibc's ``malloc`` for large temporaries, process-wide (opt-in).

    Keeps 32 MiB of slack at the heap top and serves blocks below 32 MiB from
    the heap (``mallopt(M_TOP_PAD)``, ``mallopt(M_MMAP_THRESHOLD)``), so that
    arrays of a few megabytes, freed and allocated again call after call, reuse
    pages instead of being mapped and faulted in anew.  sigcorr's own
    temporaries do not need it (they live in reusable buffers); it helps
    pipelines that allocate such arrays themselves (the returned score maps,
    your own intermediates).  Cost: the process may keep up to 32 MiB more
    memory, and the setting applies to every library in the process and
    cannot be undone.  It is skipped (returns False) off glibc and when the
    user tunes malloc through ``MALLOC_*`` or ``GLIBC_TUNABLES``.

    Returns
    -------
    bool
        Whether the setting was applied (now or by an earlier call).

    Examples
    --------
    >>> import sigcorr
    >>> sigcorr.tune_allocator() in (True, False)
    True
    """
    with _LOCK:
        if _state["allocator"] is not None:
            return _state["allocator"]
        _state["allocator"] = False
        if any(k.startswith("MALLOC_") for k in os.environ) or "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
            return False  # the user tunes malloc: keep their settings
        if not sys.platform.startswith("linux"):
            return False
        import platform

        if platform.libc_ver()[0] != "glibc":
            return False
        try:
            libc = ctypes.CDLL(None)
            ok = libc.mallopt(_M_MMAP_THRESHOLD, _HEAP_SLACK) == 1 and libc.mallopt(_M_TOP_PAD, _HEAP_SLACK) == 1
        except (OSError, AttributeError):
            ok = False
        _state["allocator"] = ok
        return ok


_PREFAULT_BYTES = 1 << 22


_PAGE = 4096
_LINE = 64  # a cache line
_APART_BYTES = 1 << 16


def output_apart(shape, dtype, src, lead=0):
    """``np.empty`` for an output that a kernel writes while it reads ``src``,
    placed half a page (mod 4096 bytes) away from ``src``.  A CPU that sees a
    load at the same address mod 4096 as a recent store waits for the store
    ("4K aliasing").  When the output's rows and ``src``'s differ in length
    by a multiple of 4096 bytes (a 'same' correlation), every output row is
    the same distance mod 4096 from its source rows, so where the heap puts
    the output decides for every row: 32-160 bytes ahead of ``src`` made the
    direct 7x7 kernel on 2048^2 float32 15-50% slower.  Within that, the
    array starts so that the element ``lead`` items in (where the kernel's
    vector passes over each row begin, after its edge columns) lies on a
    64-byte line: the passes' loads and stores of the output rows then split
    no cache line (the 7x7 'same' kernel on 2048^2 float32: 3.5 against 3.8
    ms with those rows 28 bytes into a line).  The array is a view of a
    buffer one page and one line longer (``.base`` is that buffer)."""
    import numpy as np

    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _APART_BYTES:
        return np.empty(shape, dtype)
    raw = np.empty(nbytes + _PAGE + _LINE, np.uint8)
    start = (src.ctypes.data + _PAGE // 2 - raw.ctypes.data) % _PAGE
    start += (-(raw.ctypes.data + start + lead * dtype.itemsize)) % _LINE
    start -= start % dtype.alignment
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def output_array(shape, dtype=float):
    """``np.empty`` for a kernel's output, its pages faulted in here.  numpy
    backs large arrays with transparent huge pages; when the threads of a
    parallel kernel take the first-touch faults of such an array in the
    middle of their work, the faults stall them (the fill can take twice as
    long).  Touching one byte per page first, huge page by huge page over the
    threads, costs a small fraction of that."""
    import numpy as np

    from ._kernels.memory import touch_pages

    out = np.empty(shape, dtype)
    if out.nbytes >= _PREFAULT_BYTES:
        buf = out.reshape(-1).view(np.uint8)
        # uncompiled, there is nothing to do instead: the writer takes the faults
        if ready(touch_pages, buf, 4096):
            touch_pages(buf, 4096)
    return out


# ---------------------------------------------------------------------------
# compiled or not: the kernel, or its reference twin and a background compile
# ---------------------------------------------------------------------------

_OFF = ("0", "false", "no", "off")
_RETRY_S = 0.2  # how often a call re-reads the cache index of a missing kernel
_bg = {"proc": None, "tries": {}, "failed": False}
_known = set()  # (kernel, argument fingerprints) whose code is loaded


def background_compile_enabled() -> bool:
    """False when ``SIGCORR_BACKGROUND_COMPILE`` is 0/false/no/off (or when
    this process could not start a child process)."""
    if _bg["failed"]:
        return False
    return os.environ.get("SIGCORR_BACKGROUND_COMPILE", "1").strip().lower() not in _OFF


def _signature(args):
    from numba.core.typing.typeof import Purpose, typeof

    return tuple(typeof(a, Purpose.argument) for a in args)


def _load_cached(kernel, sig) -> bool:
    """Load ``kernel``'s code for ``sig`` from the on-disk cache, if it is
    there (what ``Dispatcher.compile`` does first, without compiling after)."""
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        if sig in kernel.overloads:
            return True
        cres = kernel._cache.load_overload(sig, kernel.targetctx)
        if cres is None:
            return False
        kernel._cache_hits[sig] += 1
        if not cres.objectmode:
            kernel.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        kernel.add_overload(cres)
        return True


def ready(kernel, *args) -> bool:
    """Whether ``kernel(*args)`` runs compiled code without compiling now.

    True when the code for these argument types is loaded, or loads from the
    cache, or when the call should compile in the foreground (background
    compiling turned off, or no cache to compile into).  Otherwise starts the
    background compile and returns False: the caller uses the reference twin.
    """
    try:  # numba's C fingerprint of the argument types: a cheap key once known
        fast = (kernel, tuple(map(_fingerprint, args)))
    except Exception:  # pragma: no cover - a type numba fingerprints differently
        fast = None
    if fast in _known:
        return True
    sig = _signature(args)
    if sig in kernel.overloads:
        _known.add(fast)
        return True
    from numba.core.caching import NullCache

    if not background_compile_enabled() or isinstance(kernel._cache, NullCache):
        return True
    key = (kernel, sig)
    now = time.monotonic()
    if now - _bg["tries"].get(key, -1.0) >= _RETRY_S or _background_finished():
        _bg["tries"][key] = now
        if _load_cached(kernel, sig):
            _known.add(fast)
            return True
    start_background_compile(getattr(kernel, "sigcorr_name", None))
    return False


def run(kernel, reference, *args):
    """``kernel(*args)`` if :func:`ready`, else ``reference(*args)`` (its
    scipy / numpy twin, same arguments and results)."""
    if not _state["prepared"]:
        _prepare_threading()
    if ready(kernel, *args):
        return kernel(*args)
    return reference(*args)


def _background_finished() -> bool:
    proc = _bg["proc"]
    return proc is not None and proc.poll() is not None


def start_background_compile(first=None):
    """Start ``python -m sigcorr._warmup --background`` unless one started by
    this process still runs.  It compiles every kernel into the cache (the
    kernel named ``first`` first), niced, and exits at once if another
    process already holds the compile lock."""
    with _LOCK:
        proc = _bg["proc"]
        if proc is not None and proc.poll() is None:
            return proc
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sigcorr._warmup", "--background"] + ([first] if first else []),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True,
            )
        except OSError:  # no child processes allowed: compile in the foreground instead
            _bg["failed"] = True
            return None
        _bg["proc"] = proc
        return proc


def stop_background_compile(timeout=None):
    """Wait for (``timeout`` None) or stop this process's background compile."""
    proc = _bg["proc"]
    if proc is None:
        return
    if timeout is None:
        proc.wait()
    else:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _bg["proc"] = None
