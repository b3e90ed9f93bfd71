"""Start-up cost: what a fresh process pays before its first results.

* baseline: ``import numpy, scipy.signal, numba``;
* warm: a fresh process, JIT cache already filled, importing sigcorr and making
  a first call of each family (must add <= 0.5 s over the baseline);
* cold: the same with an empty Numba cache directory (every kernel compiles).

    python benchmarks/startup.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

BASE = "import numpy, scipy.signal, numba"
FIRST_CALLS = """
import numpy as np, sigcorr
a = np.random.default_rng(0).standard_normal(1000)
sigcorr.correlate(a, a[:10], method="direct")
sigcorr.correlate(a.astype(np.float32), a[:10].astype(np.float32), method="direct")
sigcorr.convolve(a, a, method="fft")
"""
EXTRA = {
    "match": "sigcorr.match_template(np.ones((40, 40)) + np.eye(40), np.eye(5))",
    "period": "sigcorr.detect_period(np.sin(np.arange(500) / 5.0))",
    "pool": "sigcorr.max_pool2d(np.ones((1, 8, 8), np.float32), 2); sigcorr.avg_pool2d(np.ones((1, 8, 8), np.float32), 2)",
}


def _time(code: str, env: dict) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        best = min(best, time.perf_counter() - t0)
    return best


def _available(name: str, env: dict) -> bool:
    code = "import numpy as np, sigcorr\n" + EXTRA[name]
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0


def main() -> int:
    env = dict(os.environ)
    # the baseline imports first, so the difference is exactly what sigcorr adds
    code = BASE + "\n" + FIRST_CALLS + "\n".join(EXTRA[n] for n in EXTRA if _available(n, env))
    base = _time(BASE, env)
    with tempfile.TemporaryDirectory() as cache:
        cold_env = dict(env, NUMBA_CACHE_DIR=cache)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=cold_env)
        cold = time.perf_counter() - t0
        warm = _time(code, cold_env)  # the cache is now filled
    print("| start-up | seconds |")
    print("| --- | ---: |")
    print(f"| baseline: {BASE} | {base:.2f} |")
    print(f"| warm cache: baseline + import sigcorr + first call of each family | {warm:.2f} "
          f"(+{warm - base:.2f} over the baseline) |")
    print(f"| cold cache: the same, every kernel compiled first | {cold:.2f} (+{cold - base:.2f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
