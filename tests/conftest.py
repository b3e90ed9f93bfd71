"""Session set-up: every kernel compiled once, up front; no stray signatures.

* The tests run in two pytest-xdist processes (``-n 2`` in pyproject.toml):
  most of their time is Python, subprocesses and Dask, not the kernels.
* The suite exercises the compiled kernels, so a call compiles in the
  foreground when its kernel is missing (``SIGCORR_BACKGROUND_COMPILE=0``),
  and every kernel is compiled before the first test by ``sigcorr.warmup``
  in parallel processes (or loaded from the cache when it is warm).  The
  cold path (reference twins, background compile) has its own tests in
  ``test_coldstart.py``, which turn it back on in child processes.
* Every kernel call made from the public API must match one of the
  signatures the kernel declares (``sigs=``): a call with another argument
  type would compile a specialization that ``sigcorr warmup`` does not
  provide.  ``ready`` is wrapped to check that on every call.
"""

import os

os.environ.setdefault("SIGCORR_BACKGROUND_COMPILE", "0")

import pytest  # noqa: E402


def pytest_sessionstart(session):
    # once, before any test; under pytest-xdist in the controller only, before
    # the workers start (they then load the kernels from the cache)
    if hasattr(session.config, "workerinput"):
        return
    import sigcorr

    sigcorr.warmup()


@pytest.fixture(autouse=True)
def _declared_signatures_only(monkeypatch):
    from sigcorr import _runtime
    from sigcorr._kernels._jit import REGISTRY

    declared = {id(disp): set(sigs) for disp, sigs in REGISTRY.values()}
    inner = _runtime.ready

    def checked(kernel, *args):
        sig = _runtime._signature(args)
        assert sig in declared.get(id(kernel), ()), (
            f"{getattr(kernel, 'sigcorr_name', kernel)} called with undeclared argument types {sig}")
        return inner(kernel, *args)

    monkeypatch.setattr(_runtime, "ready", checked)
