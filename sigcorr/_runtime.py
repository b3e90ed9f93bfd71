"""Process-wide runtime settings for the Numba kernels.

Numba's parallel kernels run on a *threading layer*.  On Linux the default
choice is GNU OpenMP, which kills forked children ("fork() called from a
process already using GNU OpenMP"), and the fallback ``workqueue`` layer aborts
when two Python threads launch parallel kernels at once.  TBB is safe in both
situations, so sigcorr selects it when it can:

* an explicit ``NUMBA_THREADING_LAYER`` (environment) or a value already set in
  ``numba.config.THREADING_LAYER`` by the user is never overridden;
* the ``tbb`` wheel from PyPI installs ``libtbb.so.12`` under ``<prefix>/lib``,
  which is not on the loader path, so Numba reports TBB unavailable until the
  library is loaded; we load it with ``ctypes`` (``RTLD_GLOBAL``) first;
* if TBB cannot be loaded, we choose ``workqueue`` (fork-safe) and serialize
  the calls of sigcorr's public functions with a process-wide lock, so that
  concurrent use from threads stays correct, only not concurrent.

Large temporaries (FFT spectra, score maps: megabytes each) are allocated and
freed on every call.  With glibc's default settings the heap top is returned
to the system after each call and faulted back in, page by page, on the next
one: on these machines that costs about a third of a 1024 x 1024 template
match.  ``configure_allocator`` therefore keeps 32 MiB of slack at the heap
top and serves blocks below 32 MiB from the heap (glibc's ``mallopt``
``M_TOP_PAD`` and ``M_MMAP_THRESHOLD``; the process keeps at most that much
more memory).  It is skipped when ``SIGCORR_MALLOC_TUNING=0`` or when the
user tunes malloc through ``MALLOC_*_`` or ``GLIBC_TUNABLES``, and off glibc.

Compiled or not (``ready``): a kernel whose code for the call's argument
types is neither in memory nor in the on-disk cache is not compiled in the
caller's process (that takes seconds).  The caller answers from the kernel's
reference twin (``sigcorr._reference``: scipy / numpy, as fast as those
libraries) while one background process, niced, compiles every kernel into
the cache (``sigcorr._warmup``); later calls load the compiled code from the
cache as soon as it is there.  ``SIGCORR_BACKGROUND_COMPILE=0`` turns this off:
then the first call compiles in the foreground, as plain numba does.  Where
no cache folder can be written, compiling in the background would be lost
work, so the foreground compile is used as well.

Nothing here compiles anything on ``import sigcorr``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import subprocess
import sys
import threading
import time

from numba._dispatcher import compute_fingerprint as _fingerprint

__all__ = [
    "api", "background_compile_enabled", "configure_allocator", "configure_threading",
    "output_array", "ready", "run", "stop_background_compile", "threading_info",
]

_state = {"layer": None, "serialize": False, "configured": False, "allocator": None}
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_HEAP_SLACK = 32 << 20
_LOCK = threading.RLock()


def _tbb_candidates():
    names = ("libtbb.so.12", "libtbb.so")
    prefixes = []
    for p in (sys.prefix, sys.base_prefix, os.environ.get("CONDA_PREFIX")):
        if p and p not in prefixes:
            prefixes.append(p)
    for prefix in prefixes:
        for name in names:
            yield os.path.join(prefix, "lib", name)
    # last resort: the dynamic loader's own search path
    yield from names


def _load_tbb() -> bool:
    for path in _tbb_candidates():
        if os.path.sep in path and not os.path.exists(path):
            continue
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        return True
    return False


def _numba_tbb_usable() -> bool:
    try:
        from numba.np.ufunc import tbbpool  # noqa: F401
    except Exception:
        return False
    return True


def configure_threading() -> str | None:
    """Choose Numba's threading layer (once); return the layer requested.

    Returns ``None`` when the user's own choice is kept.
    """
    if _state["configured"]:
        return _state["layer"]
    _state["configured"] = True
    import numba

    user_choice = os.environ.get("NUMBA_THREADING_LAYER")
    current = getattr(numba.config, "THREADING_LAYER", "default")
    if user_choice or current not in ("default", None, ""):
        _state["layer"] = None
        # The user chose: only 'workqueue' is unsafe for concurrent calls.
        chosen = (user_choice or current).lower()
        _state["serialize"] = chosen == "workqueue"
        return None
    if _load_tbb() and _numba_tbb_usable():
        numba.config.THREADING_LAYER = "tbb"
        _state["layer"] = "tbb"
    else:
        numba.config.THREADING_LAYER = "workqueue"
        _state["layer"] = "workqueue"
        _state["serialize"] = True
    return _state["layer"]


def configure_allocator() -> bool:
    """Keep heap slack for large temporaries (glibc only, once); True if applied."""
    if _state["allocator"] is not None:
        return _state["allocator"]
    _state["allocator"] = False
    if os.environ.get("SIGCORR_MALLOC_TUNING", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
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


def output_array(shape, dtype=float):
    """``np.empty`` for a kernel's output, its pages faulted in here.  numpy
    backs large arrays with transparent huge pages; when the threads of a
    parallel kernel take the first-touch faults of such an array in the
    middle of their work, the faults stall them (on these machines a 41 MB
    autocorrelation output took 98 ms to fill instead of 40 ms).  Touching
    one byte per page first, huge page by huge page over the threads, costs
    about 3 ms for 41 MB (one thread: about 5 ms)."""
    import numpy as np

    from ._kernels.memory import touch_pages

    out = np.empty(shape, dtype)
    if out.nbytes >= _PREFAULT_BYTES:
        from . import _reference

        run(touch_pages, _reference.touch_pages, out.reshape(-1).view(np.uint8), 4096)
    return out


def threading_info() -> dict:
    """What sigcorr chose: ``{'requested': ..., 'serialized': ...}``."""
    return {"requested": _state["layer"], "serialized": _state["serialize"]}


def _guard():
    if _state["serialize"]:
        return _LOCK
    return contextlib.nullcontext()


def api(func):
    """Decorator for every public function that may launch a parallel kernel.

    With a thread-safe layer it adds nothing but a function call; with the
    serialized fallback it holds a re-entrant process-wide lock for the call.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _guard():
            return func(*args, **kwargs)

    return wrapper


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
