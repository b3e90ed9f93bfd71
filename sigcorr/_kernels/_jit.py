"""How sigcorr's kernels are compiled and cached.

``jit`` is ``numba.njit`` with two additions:

* **Declared signatures.**  A kernel called from Python lists the argument
  types the public API calls it with (``sigs=``).  Nothing is compiled at
  decoration time (that would compile on ``import sigcorr``); the list is what
  ``sigcorr warmup`` and the background compiler compile, and what
  ``sigcorr._runtime`` checks a call against before it decides between the
  compiled kernel and its reference (scipy / numpy) twin.  Plain ``njit``
  bodies called only from other kernels declare nothing: they are compiled
  into their callers, without an entry point for Python (they cannot be
  called from Python; their ``py_func`` can).
* **A cache that never fails.**  The compiled code is cached on disk like
  ``njit(cache=True)`` does, searching numba's usual places in numba's order
  (``NUMBA_CACHE_DIR``, ``__pycache__`` beside the sources, the user-wide
  cache directory), then a per-user folder in the temporary directory.
  Numba itself raises at decoration time when none of its places is
  writable (a read-only site-packages and no home directory): here that
  means a temporary cache, or, if not even that can be written, no cache,
  with one warning.  The cache class is sigcorr's own, so nothing changes
  for other numba users in the process.
"""

from __future__ import annotations

import os
import tempfile
import warnings

from numba import njit, types
from numba.core import caching

__all__ = ["jit", "REGISTRY", "cache_dir", "A1", "A2", "A3", "A4", "I8", "F4", "F8", "B1", "FLOATS"]

# name -> (dispatcher, [signature tuples]): every kernel called from Python
REGISTRY: dict = {}

# argument types (C-contiguous, writable arrays: what _validate hands kernels)
I8 = types.int64
F4 = types.float32
F8 = types.float64
B1 = types.boolean
C16 = types.complex128
FLOATS = (F4, F8)  # the real dtypes the public API computes in


def A1(dt):
    return types.Array(dt, 1, "C")


def A2(dt):
    return types.Array(dt, 2, "C")


def A3(dt):
    return types.Array(dt, 3, "C")


def A4(dt):
    return types.Array(dt, 4, "C")


def A5(dt):
    return types.Array(dt, 5, "C")


class _TempDirLocator(caching.UserProvidedCacheLocator):
    """The last resort: ``<tmp>/sigcorr-numba-cache-<uid>``."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(_temp_root(), self.get_suitable_cache_subpath(py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        return caching._SourceFileBackedLocatorMixin.from_function.__func__(cls, py_func, py_file)


def _temp_root():
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"sigcorr-numba-cache-{uid}")


class _Impl(caching.CompileResultCacheImpl):
    _locator_classes = [
        caching.UserProvidedCacheLocator,
        caching.InTreeCacheLocator,
        caching.UserWideCacheLocator,
        _TempDirLocator,
    ]


_warned = set()


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


class _Cache(caching.FunctionCache):
    """numba's function cache with sigcorr's locators; an I/O error while
    loading or saving costs a compile, never the call."""

    _impl_class = _Impl

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception:  # a corrupt or unreadable entry: compile instead
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError as exc:
            _warn_once(("save", self._cache_path),
                       f"sigcorr could not write its compiled kernels to {self._cache_path} ({exc}); "
                       "they will be compiled again in the next process. Set NUMBA_CACHE_DIR to a "
                       "writable folder to keep them.")


def _attach_cache(disp):
    try:
        disp._cache = _Cache(disp.py_func)
    except Exception as exc:  # not even the temporary folder is writable
        _warn_once("nocache",
                   f"sigcorr found no writable folder for its compiled kernels ({exc}); every "
                   "process compiles them again. Set NUMBA_CACHE_DIR to a writable folder.")
        return
    if disp._cache.cache_path.startswith(_temp_root()):
        _warn_once("temp",
                   "sigcorr's compiled kernels are cached in a temporary folder "
                   f"({_temp_root()}): neither the package folder nor the user cache is "
                   "writable. Set NUMBA_CACHE_DIR to keep them somewhere else.")


def jit(*, parallel=False, sigs=None, **options):
    """``numba.njit(cache=True, ...)`` with sigcorr's cache; ``sigs``: the
    argument-type tuples the kernel is called with from Python (registers it)."""

    if sigs is None:
        # Called only from other kernels: no Python or C entry point to
        # generate and emit (about 5% of the whole compile time).
        options.setdefault("no_cpython_wrapper", True)
        options.setdefault("no_cfunc_wrapper", True)

    # numpy's error model: a division by zero gives inf or nan (never raised:
    # a kernel's inputs are checked before it runs), so no branch to raise
    # from is compiled into every division
    options.setdefault("error_model", "numpy")

    def deco(func):
        disp = njit(parallel=parallel, **options)(func)
        _attach_cache(disp)
        if sigs is not None:
            disp.sigcorr_name = f"{func.__module__}.{func.__name__}"
            REGISTRY[disp.sigcorr_name] = (disp, [tuple(s) for s in sigs])
        return disp

    return deco


def cache_dir():
    """Where the kernels' cache files go (the folder of the first kernel's)."""
    for disp, _ in REGISTRY.values():
        path = getattr(disp._cache, "cache_path", None)
        if path:
            return path
    return None
