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

Nothing here compiles anything; it runs once, on ``import sigcorr``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading

__all__ = ["api", "configure_threading", "threading_info"]

_state = {"layer": None, "serialize": False, "configured": False}
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
