"""How well the cost model chooses: the time ``method="auto"`` loses against
the faster method, with the built-in prices and with this machine's
calibrated ones (``sigcorr calibrate``), on shapes near the break-even.

    python benchmarks/bench_costs.py [COSTS.json] [--quick]

COSTS.json defaults to the user cache (``sigcorr._costs.cache_path()``).  Both
methods are timed on every shape (best of several rounds, interleaved), so
the verdict is as noisy as the machine is busy: run it twice.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import sigcorr
from sigcorr import _costs, _lagsums


def _best(func, rounds):
    func()
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t)
    return best


def _conv_cases(rng, quick):
    sizes = [(10_000, 64), (10_000, 200), (100_000, 100), (100_000, 300), (30_000, 1000), (2000, 500)]
    squares = [(256, 9), (256, 15), (512, 11), (512, 17), (128, 31)]
    if quick:
        sizes, squares = sizes[:3], squares[:2]
    for dt in (np.float32, np.float64):
        for n, m in sizes:
            yield f"convolve {n} x {m} {np.dtype(dt).name}", rng.standard_normal(n).astype(dt), \
                rng.standard_normal(m).astype(dt), "full"
        for s, k in squares:
            yield f"convolve {s}^2 x {k}^2 {np.dtype(dt).name} same", rng.standard_normal((s, s)).astype(dt), \
                rng.standard_normal((k, k)).astype(dt), "same"


def _acf_cases(rng, quick):
    shapes = [(1, 10_000, 200), (1, 5000, 2000), (16, 2000, 300), (16, 5000, 100), (64, 1000, 200),
              (256, 500, 400)]
    for B, n, L in shapes[:3] if quick else shapes:
        yield f"autocorrelation {B} x {n}, {L} lags", rng.standard_normal((B, n)), L


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    files = [a for a in args if not a.startswith("--")]
    path = files[0] if files else _costs.cache_path()
    models = {"defaults": _costs.DEFAULTS, "calibrated": _costs.load(path)}
    if models["calibrated"] == _costs.DEFAULTS:
        print(f"no calibrated prices for this machine in {path}: run `sigcorr calibrate` first")
        return 1
    rounds = 3 if quick else 7
    rng = np.random.default_rng(0)
    lost = {name: 0.0 for name in models}
    best_total = 0.0
    print(f"{'case':44s} {'direct':>9s} {'fft':>9s}  " + "  ".join(f"{n:>10s}" for n in models))
    rows = []
    for label, a, k, mode in _conv_cases(rng, quick):
        t = {m: _best(lambda m=m, a=a, k=k, mode=mode: sigcorr.convolve(a, k, mode, method=m), rounds)
             for m in ("direct", "fft")}
        picks = {}
        for name, model in models.items():
            with _costs.pinned(model):
                picks[name] = sigcorr.choose_conv_method(a, k, mode)
        rows.append((label, t, picks))
    for label, y, L in _acf_cases(rng, quick):
        t = {m: _best(lambda m=m, y=y, L=L: sigcorr.autocorrelation(y, L, method=m), rounds)
             for m in ("direct", "fft")}
        picks = {}
        for name, model in models.items():
            with _costs.pinned(model):
                picks[name] = "direct" if _lagsums.plan(*y.shape, L, "auto") == "direct" else "fft"
        rows.append((label, t, picks))
    for label, t, picks in rows:
        fastest = min(t.values())
        best_total += fastest
        for name, pick in picks.items():
            lost[name] += t[pick] - fastest
        print(f"{label:44s} {t['direct'] * 1e3:7.3f}ms {t['fft'] * 1e3:7.3f}ms  "
              + "  ".join(f"{picks[n]:>10s}" for n in models))
    print(f"\nall cases at the faster method: {best_total * 1e3:.1f} ms; time lost by the choice: "
          + ", ".join(f"{n} {v * 1e3:.1f} ms" for n, v in lost.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
