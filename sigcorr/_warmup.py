"""Compile every kernel into the on-disk cache.

Two users:

* ``sigcorr warmup`` / :func:`sigcorr.warmup`: the documented step for Docker
  images, CI caches and cluster workers; compiles in parallel processes.
* the background compiler (``python -m sigcorr._warmup --background``),
  started by ``sigcorr._runtime`` when a call finds its kernel missing from
  the cache: one niced process; a file lock in the cache folder lets only one
  such compiler run on a machine at a time (another one exits at once).

Each kernel is compiled for the argument types it declares (``sigs=`` in
``sigcorr._kernels._jit``), which are the ones the public API calls it with.
"""

from __future__ import annotations

import os
import sys
import time

# Heaviest first (measured compile seconds on a 2-core machine, rounded):
# spreading them over the processes longest-first balances the load.
_ORDER = (
    "sigcorr._kernels.direct.corr_padded",
    "sigcorr._kernels.acf_fft.lag_sums_fft",
    "sigcorr._kernels.windows.match_scores",
    "sigcorr._kernels.detect.detect",
    "sigcorr._kernels.windows.volume_scores",
    "sigcorr._kernels.windows.omit_scores",
    "sigcorr._kernels.layers.conv2d_unit",
    "sigcorr._kernels.lags.lag_window",
    "sigcorr._kernels.stream.track_push",
)


def registry() -> dict:
    """name -> (dispatcher, signatures) of every kernel called from Python."""
    from ._kernels import acf, acf_fft, detect, direct, irregular, lags, layers, memory, network, peaks, pool, stream, windows  # noqa: F401,E501
    from ._kernels import REGISTRY

    return REGISTRY


def _names(first=()):
    names = list(registry())
    rank = {n: i for i, n in enumerate(tuple(first) + _ORDER)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))


def compile_kernel(name: str) -> tuple[str, float]:
    """Compile (or load from the cache) every declared signature of one kernel."""
    disp, sigs = registry()[name]
    t0 = time.perf_counter()
    for sig in sigs:
        disp.compile(sig)
    return name, time.perf_counter() - t0


def _progress(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="kernel", desc="sigcorr warmup", file=sys.stderr)


def warmup(processes: int | None = None, *, progress: bool = False) -> dict:
    """Compile every kernel into the cache (or load it from there).

    Parameters
    ----------
    processes : int, optional
        Compiler processes; default the number of CPUs this process may use.
        1 compiles in this process.
    progress : bool
        Show a progress bar on stderr (needs ``tqdm``; else one line per kernel).

    Returns
    -------
    dict
        ``cache``: the cache folder (None when nothing can be cached),
        ``seconds``: the wall time, ``kernels``: how many were compiled.

    Examples
    --------
    >>> import sigcorr
    >>> info = sigcorr.warmup(processes=1)   # doctest: +SKIP
    >>> info["kernels"]                      # doctest: +SKIP
    21

    On a Dask cluster: ``client.run(sigcorr.warmup)``.
    """
    from ._kernels import cache_dir

    t0 = time.perf_counter()
    names = _names()
    if processes is None:
        processes = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    processes = max(1, min(int(processes), len(names)))
    bar = _progress(len(names), progress)

    def done(name, seconds):
        if bar is not None:
            bar.set_postfix_str(name.rsplit(".", 1)[1])
            bar.update()
        elif progress:
            print(f"  {name.rsplit('.', 1)[1]}: {seconds:.1f} s", file=sys.stderr, flush=True)

    if processes == 1:
        for name in names:
            done(*compile_kernel(name))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
            futures = [pool.submit(compile_kernel, name) for name in names]
            for fut in as_completed(futures):
                done(*fut.result())
        # this process loads them from the cache on first use
    if bar is not None:
        bar.close()
    return {"cache": cache_dir(), "seconds": time.perf_counter() - t0, "kernels": len(names)}


def _background(first):
    """The background compiler: niced, one per machine (a file lock)."""
    from ._kernels import cache_dir

    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass
    folder = cache_dir()
    if folder is None:
        return 0
    try:
        import fcntl

        lock = open(os.path.join(folder, "sigcorr-compile.lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # no fcntl (Windows): compile without the lock
        lock = None
    except OSError:  # another compiler runs
        return 0
    try:
        for name in _names(first):
            compile_kernel(name)
    finally:
        if lock is not None:
            lock.close()
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--background"]:
        raise SystemExit(_background(args[1:]))
    info = warmup(progress=True)
    print(f"compiled {info['kernels']} kernels in {info['seconds']:.1f} s into {info['cache']}")
