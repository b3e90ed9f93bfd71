"""Network matched filtering (issue 27): ``sigcorr.matched_filter`` against
the loops its users write today: ObsPy's ``correlate_template`` per template
and channel with numpy stacking, and sigcorr's own per-channel
``match_template`` stacks with numpy stacking (the gap rule done by hand).

``python benchmarks/bench_network.py`` prints the speed rows;
``--memory`` the peak-RSS growth of 100 templates x 3 channels x 1 hour at
100 Hz (child processes, one per candidate); ``--scale`` EQcorrscan's
benchmark set-up (3 channels x 8.64 M samples x 100 templates of 300).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import numpy as np

import sigcorr
from _harness import Row, best_times


def case(T, C, N, m, dtype=np.float32, seed=0, max_moveout=50):
    """Noise data (C, N), T templates cut from it at random times, moveouts."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((C, N)).astype(dtype)
    mv = rng.integers(0, max_moveout + 1, (T, C))
    starts = rng.integers(0, N - m - max_moveout, T)
    tpl = np.stack([np.stack([data[c, s + mv[t, c]:s + mv[t, c] + m] for c in range(C)])
                    for t, s in enumerate(starts)])
    return data, tpl, mv


def obspy_loop(data, tpl, mv):
    """ObsPy's correlate_template per template and channel, stacked by numpy
    (the loop EQcorrscan users and scripts write)."""
    from obspy.signal.cross_correlation import correlate_template

    T, C, m = tpl.shape
    n_out = data.shape[1] - m - int(mv.max()) + 1
    out = np.empty((T, n_out), dtype=data.dtype)
    for t in range(T):
        acc = np.zeros(n_out)
        for c in range(C):
            r = correlate_template(data[c], tpl[t, c], mode="valid", normalize="full", method="auto")
            acc += r[mv[t, c]:mv[t, c] + n_out]
        out[t] = acc / C
    return out


def match_loop(data, tpl, mv):
    """sigcorr.match_template per channel (the templates of that channel as
    one stack), stacked by numpy with the gap rule (NaN drops a channel)."""
    T, C, m = tpl.shape
    n_out = data.shape[1] - m - int(mv.max()) + 1
    num = np.zeros((T, n_out))
    den = np.zeros((T, n_out))
    rows = np.arange(T)[:, None]
    for c in range(C):
        r = sigcorr.match_template(data[c], tpl[:, c])  # (T, N - m + 1)
        sh = r[rows, mv[:, c][:, None] + np.arange(n_out)]
        ok = np.isfinite(sh)
        num += np.where(ok, sh, 0)
        den += ok
    with np.errstate(invalid="ignore"):
        return (num / den).astype(data.dtype)


def rows(quick: bool = False) -> list[Row]:
    rep = 3 if quick else 5
    data, tpl, mv = case(20, 6, 100_000, 400)
    mine = sigcorr.matched_filter(data, tpl, moveouts=mv)
    assert np.abs(mine - match_loop(data, tpl, mv)).max() < 2e-4
    funcs = {
        "s": lambda: sigcorr.matched_filter(data, tpl, moveouts=mv),
        "mt": lambda: match_loop(data, tpl, mv),
    }
    try:
        assert np.abs(mine - obspy_loop(data, tpl, mv)).max() < 2e-4
        funcs["ob"] = lambda: obspy_loop(data, tpl, mv)
    except ImportError:
        pass
    times = best_times(funcs, repeat=rep)
    what = "matched_filter 20 templates x 6 channels x 100,000 float32, m=400, moveouts <= 50"
    out = [Row(what, times["s"], "sigcorr match_template per channel + numpy stacking", times["mt"], "<= 0.7x", 0.7)]
    if "ob" in times:
        out.append(Row(what, times["s"], "obspy correlate_template loop + numpy stacking", times["ob"], "<= 0.1x", 0.1))
    return out


def _child_memory(which):
    """Peak RSS growth (bytes) of one candidate in this (fresh) process."""
    data, tpl, mv = case(100, 3, 360_000, 300, seed=1)
    if which == "s":  # load the kernels before measuring
        sigcorr.matched_filter(data[:, :5000], tpl[:2], moveouts=mv[:2])
    else:
        match_loop(data[:, :5000], tpl[:2], mv[:2])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    out = sigcorr.matched_filter(data, tpl, moveouts=mv) if which == "s" else match_loop(data, tpl, mv)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(peak - base, data.nbytes + out.nbytes, dt)


def memory():
    """Peak-RSS growth of matched_filter and of the per-channel loop on
    100 templates x 3 channels x 1 hour at 100 Hz (m=300, float32)."""
    res = {}
    for which in ("s", "mt"):
        out = subprocess.run([sys.executable, __file__, "--child-memory", which], capture_output=True, text=True,
                             check=True).stdout.split()
        res[which] = [float(v) for v in out]
    grow, io, dt = res["s"]
    print(f"matched_filter: peak RSS +{grow / 2**20:.0f} MiB = {grow / io:.2f} x (input + output = "
          f"{io / 2**20:.0f} MiB), {dt:.2f} s; target <= 1.5 x")
    grow2, _, dt2 = res["mt"]
    print(f"match_template per channel + numpy stacking: +{grow2 / 2**20:.0f} MiB = {grow2 / io:.2f} x, {dt2:.2f} s")


def scale(fraction=1.0):
    """EQcorrscan's set-up: 3 channels x one day at 100 Hz x 100 templates of
    300 samples, float32 (a fraction of the day with ``fraction`` < 1)."""
    n = int(8_640_000 * fraction)
    data, tpl, mv = case(100, 3, n, 300, seed=2)
    sigcorr.matched_filter(data[:, :20000], tpl, moveouts=mv)  # kernels loaded, plans made
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    out = sigcorr.matched_filter(data, tpl, moveouts=mv)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"3 channels x {n:,} samples x 100 templates of 300 (float32): {dt:.1f} s, peak RSS "
          f"{peak / 2**30:.2f} GiB (+{(peak - base) / 2**30:.2f} GiB; input {data.nbytes / 2**30:.2f} GiB, "
          f"output {out.nbytes / 2**30:.2f} GiB)")


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(__file__))
    if args[:1] == ["--child-memory"]:
        _child_memory(args[1])
    elif args[:1] == ["--memory"]:
        memory()
    elif args[:1] == ["--scale"]:
        scale(float(args[1]) if len(args) > 1 else 1.0)
    else:
        from _harness import format_table

        print(format_table(rows(quick="--quick" in args)))
