"""Start-up cost: what a fresh process pays before its first results.

For each public family, a fresh process times ``import sigcorr`` and the
first call:

* cold: an empty numba cache (a fresh install, CI run, container, cluster
  worker).  The call is answered by the kernel's scipy / numpy twin while the
  background compiler fills the cache (stopped after the measurement);
* cold, foreground: the same with ``SIGCORR_BACKGROUND_COMPILE=0`` (the call
  compiles its kernels first: what every first call cost before);
* warm: the cache filled (the kernels are loaded from it).

Then ``sigcorr demo`` right after install, compiling every kernel in one
process, and ``sigcorr warmup`` (parallel processes), each with an empty cache.

    python benchmarks/startup.py            # everything (several minutes)
    python benchmarks/startup.py --quick    # without the foreground column
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SETUP = """
import numpy as np
rng = np.random.default_rng(0)
x = rng.standard_normal(100_000)
img = rng.random((512, 512)).astype(np.float32)
series = np.sin(2 * np.pi * np.arange(512) / 23.0) + 0.3 * rng.standard_normal((200, 512))
x4 = rng.standard_normal((8, 3, 64, 64)).astype(np.float32)
w4 = rng.standard_normal((16, 3, 5, 5)).astype(np.float32)
"""
FAMILIES = {
    "convolve(x, k, method='direct'), 1-D float64, 1e5 x 64":
        ("", "sigcorr.convolve(x, x[:64], method='direct')"),
    "correlate float32 after a float64 call":
        ("sigcorr.correlate(x, x[:64], method='direct')",
         "sigcorr.correlate(x.astype(np.float32), x[:64].astype(np.float32), method='direct')"),
    "match_template float32, 512^2, 32^2": ("", "sigcorr.match_template(img, img[100:132, 200:232])"),
    "match_template float64, 512^2, 32^2":
        ("", "sigcorr.match_template(img.astype(float), img[100:132, 200:232].astype(float))"),
    "locate(..., pyramid_levels=2), 512^2, 64^2": ("", "sigcorr.locate(img, img[100:164, 200:264], pyramid_levels=2)"),
    "autocorrelation of 200 series x 512": ("", "sigcorr.autocorrelation(series, 256)"),
    "detect_period of 200 series x 512": ("", "sigcorr.detect_period(series)"),
    "max_pool2d + avg_pool2d, 8x3x64x64 float32": ("", "sigcorr.max_pool2d(x4, 2); sigcorr.avg_pool2d(x4, 3, 2, 1)"),
    "conv2d 8x3x64x64, 16 5x5 filters": ("", "sigcorr.conv2d(x4, w4, padding=2)"),
}
CHILD = """
import time
t0 = time.perf_counter()
import sigcorr
t_import = time.perf_counter() - t0
{setup}
{before}
t0 = time.perf_counter()
{call}
t_call = time.perf_counter() - t0
sigcorr._runtime.stop_background_compile(timeout=0)
print("RESULT", t_import, t_call)
"""


def _kill_background():
    # `sigcorr demo` exits and leaves its background compiler running (it
    # fills the cache for the next process): stop it between measurements
    subprocess.run(["pkill", "-f", "sigcorr._warmup --background"], capture_output=True)
    time.sleep(0.2)


def _env(cache, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SIGCORR_BACKGROUND_COMPILE",)}
    env["NUMBA_CACHE_DIR"] = cache
    env.update(extra)
    return env


def _first_call(before, call, cache, **extra):
    code = CHILD.format(setup=SETUP, before=before, call=call)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], env=_env(cache, **extra), capture_output=True, text=True,
                         check=True)
    wall = time.perf_counter() - t0
    _kill_background()
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")][-1]
    t_import, t_call = map(float, line.split()[1:])
    return t_import, t_call, wall


def _fresh_cache():
    return tempfile.mkdtemp(prefix="sigcorr-startup-")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the foreground-compile column")
    args = ap.parse_args(argv)
    _kill_background()
    warm_cache = _fresh_cache()
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", "import json, sigcorr; print(json.dumps(sigcorr.warmup(processes=1)))"],
                         env=_env(warm_cache), capture_output=True, text=True, check=True)
    one_process = time.perf_counter() - t0
    fill = json.loads(res.stdout.strip().splitlines()[-1])

    print("| first call in a fresh process | import sigcorr (s) | cold: first call (s) | cold: process (s) "
          + ("| cold, foreground compile (s) " if not args.quick else "") + "| warm: first call (s) |")
    print("| --- | ---: | ---: | ---: | " + ("---: | " if not args.quick else "") + "---: |")
    for name, (before, call) in FAMILIES.items():
        t_imp, t_cold, wall = _first_call(before, call, _fresh_cache(), SIGCORR_BACKGROUND_COMPILE="1")
        fg = ""
        if not args.quick:
            fg = f"{_first_call(before, call, _fresh_cache(), SIGCORR_BACKGROUND_COMPILE='0')[1]:.2f} | "
        t_warm = min(_first_call(before, call, warm_cache)[1] for _ in range(2))
        print(f"| {name} | {t_imp:.2f} | {t_cold:.2f} | {wall:.2f} | {fg}{t_warm:.2f} |", flush=True)

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sigcorr", "demo"], env=_env(_fresh_cache()), capture_output=True,
                   check=True)
    demo_cold = time.perf_counter() - t0
    _kill_background()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sigcorr", "demo"], env=_env(warm_cache), capture_output=True, check=True)
    demo_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sigcorr", "warmup"], env=_env(_fresh_cache()), capture_output=True,
                   check=True)
    warmup = time.perf_counter() - t0
    print()
    print("| whole command, fresh process | seconds |")
    print("| --- | ---: |")
    print(f"| `sigcorr demo`, empty cache (right after install) | {demo_cold:.2f} |")
    print(f"| `sigcorr demo`, warm cache | {demo_warm:.2f} |")
    print(f"| compile every kernel ({fill['kernels']}), one process | {one_process:.1f} "
          f"(compiling: {fill['seconds']:.1f}) |")
    print(f"| `sigcorr warmup` (every kernel, {os.cpu_count()} processes), empty cache | {warmup:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
