"""``import sigcorr`` leaves the process as it was; the threading layer it
meets is respected and reported as it is."""

import os
import subprocess
import sys
import textwrap

import pytest

# the inputs of the child programs (run in fresh processes: no rng fixture
# there); any fixed draw does, they only need data to correlate
CHILD_SEED = 0

_MALLINFO = """
    import ctypes, platform

    class _Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                   "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _Info
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def mmapped_block():
        # whether malloc serves a fresh 8 MiB block by mmap (glibc's default
        # for a block that size in a process that has not freed one yet)
        before = libc.mallinfo2().hblkhd
        p = libc.malloc(8 << 20)
        grew = libc.mallinfo2().hblkhd - before
        libc.free(p)
        return grew >= (8 << 20)
"""


def _run(*parts, env=None):
    code = "\n".join(textwrap.dedent(p) for p in parts)
    full = {k: v for k, v in os.environ.items()
            if not (k.startswith("MALLOC_") or k in ("GLIBC_TUNABLES", "NUMBA_THREADING_LAYER"))}
    full.update(env or {})
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=full)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def _glibc():
    import platform

    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


# one fresh process answers every question about a plain ``import sigcorr``
# and its first call (each child costs a second or two of start-up)
_FRESH = """
    import sys
    import numba
    from numba.core.registry import CPUDispatcher
    config = {k: repr(v) for k, v in vars(numba.config).items() if k.isupper()}
    maps = open("/proc/self/maps").read() if sys.platform.startswith("linux") else ""
    import sigcorr, sigcorr._costs
    from numba.np.ufunc import parallel
    after = {k: repr(v) for k, v in vars(numba.config).items() if k.isupper()}
    print("CHANGED:", sorted(k for k in set(config) | set(after) if config.get(k) != after.get(k)))
    print("POOL:", parallel._is_initialized)
    new_tbb = "libtbb" in (open("/proc/self/maps").read() if maps else "") and "libtbb" not in maps
    print("TBB LOADED:", new_tbb)
    print("TBBPOOL:", "numba.np.ufunc.tbbpool" in sys.modules)
    compiled = [f"{name}.{attr.__name__}" for name, mod in list(sys.modules.items()) if name.startswith("sigcorr")
                for attr in vars(mod).values() if isinstance(attr, CPUDispatcher) and attr.signatures]
    print("COMPILED:", compiled)
    print("COSTS READ:", len(sigcorr._costs._current))
    print("LAYER BEFORE:", sigcorr._runtime.threading_info()["layer"])

    import numpy as np
    a = np.random.default_rng(CHILD_SEED).random((300, 300))
    sigcorr.correlate2d(a, a[:5, :5], "valid")
    info = sigcorr._runtime.threading_info()
    print("SAME LAYER:", info["layer"] == numba.threading_layer())
    print("SERIALIZED:", info["serialized"] == (info["layer"] == "workqueue"))
    print("CONFIG:", numba.config.THREADING_LAYER)
    if GLIBC:
        print("AFTER IMPORT AND A CALL, MMAP:", mmapped_block())
        print("TUNED:", sigcorr.tune_allocator())
        print("AFTER TUNING, MMAP:", mmapped_block())
"""


def test_a_fresh_import_and_first_call_leave_the_process_as_it_was():
    glibc = _glibc()
    out = _run(f"CHILD_SEED = {CHILD_SEED}\nGLIBC = {glibc}", _MALLINFO if glibc else "", _FRESH)
    # no Numba setting changed, no thread pool started, no threading library
    # loaded, nothing compiled and no cost file read by the import itself
    for line in ("CHANGED: []", "POOL: False", "TBB LOADED: False", "TBBPOOL: False",
                 "COMPILED: []", "COSTS READ: 0", "LAYER BEFORE: None"):
        assert line in out, (line, out)
    # the layer reported is the one Numba runs, and the user's setting stays
    for line in ("SAME LAYER: True", "SERIALIZED: True", "CONFIG: default"):
        assert line in out, (line, out)
    if glibc:  # malloc as glibc leaves it; tune_allocator is the opt-in
        assert "AFTER IMPORT AND A CALL, MMAP: True" in out, out
        assert "TUNED: True" in out, out
        assert "AFTER TUNING, MMAP: False" in out, out  # the check above can fail


@pytest.mark.skipif(not _glibc(), reason="glibc's malloc")
def test_tune_allocator_keeps_the_users_malloc_settings():
    out = _run(_MALLINFO, """
        import sigcorr
        print("TUNED:", sigcorr.tune_allocator())
        print("MMAP:", mmapped_block())
    """, env={"MALLOC_MMAP_THRESHOLD_": str(1 << 20)})
    assert "TUNED: False" in out
    assert "MMAP: True" in out


def test_a_pool_that_already_runs_is_respected():
    # another library starts Numba's pool first (the tbb wheel's library is
    # not findable then, so Numba takes OpenMP or workqueue)
    out = _run(f"CHILD_SEED = {CHILD_SEED}", """
        import numpy as np, numba
        from numba import njit, prange

        @njit(parallel=True)
        def other(x):
            s = 0.0
            for i in prange(x.size):
                s += x[i]
            return s

        other(np.ones(1000))
        first = numba.threading_layer()
        import sigcorr, scipy.signal
        a, b = np.random.default_rng(CHILD_SEED).random((2, 3000))
        ok = np.allclose(sigcorr.correlate(a, b[:20], method="direct"), scipy.signal.correlate(a, b[:20]))
        info = sigcorr._runtime.threading_info()
        print("KEPT:", numba.threading_layer() == first == info["layer"])
        print("SERIALIZED:", info["serialized"] == (first == "workqueue"))
        print("OK:", ok, other(np.ones(10)) == 10.0)
    """)
    assert "KEPT: True" in out
    assert "SERIALIZED: True" in out
    assert "OK: True True" in out


def test_the_users_workqueue_is_kept_and_calls_are_serialized():
    out = _run(f"CHILD_SEED = {CHILD_SEED}", """
        import threading
        import numpy as np, numba, sigcorr, scipy.signal
        a, b = np.random.default_rng(CHILD_SEED).random((2, 3000))
        want = scipy.signal.correlate(a, b[:20])
        bad = []

        def work():
            for _ in range(20):
                if not np.allclose(sigcorr.correlate(a, b[:20], method="direct"), want):
                    bad.append(1)

        ts = [threading.Thread(target=work) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("LAYER:", numba.threading_layer(), sigcorr._runtime.threading_info())
        print("BAD:", len(bad))
    """, env={"NUMBA_THREADING_LAYER": "workqueue"})
    assert "LAYER: workqueue {'layer': 'workqueue', 'serialized': True}" in out
    assert "BAD: 0" in out
