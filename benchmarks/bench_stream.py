"""Streams (issue 28): sigcorr.stream's objects fed a signal in chunks, beside
the chunk-by-chunk peer (scipy's lfilter with its state) or the offline call
on every window.

    python benchmarks/run_all.py stream
"""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

import sigcorr
from sigcorr import stream
from _harness import Row, best_times


def _feed(obj, x, step):
    obj.reset()
    for i in range(0, x.shape[-1], step):
        obj.push(x[..., i:i + step])
    obj.flush()


def rows(quick: bool = False) -> list[Row]:
    rep = 3 if quick else 5
    rng = np.random.default_rng(0)
    out = []

    # FIR streaming: 64 taps, 1,024-sample chunks, 10^6 samples
    x = rng.standard_normal(1_000_000)
    h = rng.standard_normal(64)
    fir = stream.Convolve(h, "full")

    def lfilter_loop():
        zi = np.zeros(h.size - 1)
        for i in range(0, x.size, 1024):
            _, zi = ss.lfilter(h, 1, x[i:i + 1024], zi=zi)

    ys = np.concatenate([fir.push(x[i:i + 1024]) for i in range(0, x.size, 1024)])
    fir.flush()
    np.testing.assert_allclose(ys, ss.lfilter(h, 1, x), rtol=1e-10, atol=1e-10)
    t = best_times({"s": lambda: _feed(fir, x, 1024), "p": lfilter_loop}, repeat=rep, burst=2)
    out.append(Row("stream.Convolve (FIR), 64 taps, 1,024-sample pushes, 1e6 samples", t["s"],
                   "scipy.signal.lfilter(h, 1, chunk, zi=zi) chunk by chunk", t["p"], "<= 0.5x", 0.5))

    # period tracking: window 2048, hop 512, 10^6 samples
    n = 250_000 if quick else 1_000_000
    tt = np.arange(n)
    y = np.sin(2 * np.pi * tt / (37.3 + 10 * np.sin(2 * np.pi * tt / n))) + 0.5 * rng.standard_normal(n)
    ends = np.arange(2048, n + 1, 512)

    def every_window():
        for e in ends:
            sigcorr.detect_period(y[e - 2048:e])

    tracker = stream.PeriodTracker(2048, 512)
    rows_ = np.concatenate([tracker.push(y[i:i + 65536]) for i in range(0, n, 65536)])
    for k in (0, len(ends) // 2, len(ends) - 1):
        res = sigcorr.detect_period(y[ends[k] - 2048:ends[k]])
        np.testing.assert_allclose(rows_[k, 1:], [res.period, res.strength], rtol=1e-10)
    t = best_times({"big": lambda: _feed(tracker, y, 65536), "hop": lambda: _feed(tracker, y, 512),
                    "p": every_window}, repeat=max(2, rep - 2), burst=1)
    scale = 1_000_000 / n
    out.append(Row(f"stream.PeriodTracker(2048, 512), 65,536-sample pushes, 1e6 samples{'' if n == 1e6 else ' (scaled)'}",
                   t["big"] * scale, "sigcorr.detect_period on every window", t["p"] * scale, "<= 0.3x", 0.3))
    out.append(Row("stream.PeriodTracker(2048, 512), 512-sample pushes (one window each), 1e6 samples",
                   t["hop"] * scale, "sigcorr.detect_period on every window", t["p"] * scale, "<= 0.3x", 0.3))

    # matching: a 100-sample template, 4,096-sample pushes, 10^6 samples, against the offline call
    tpl = x[5000:5100].copy()
    mt = stream.MatchTemplate(tpl)
    t = best_times({"s": lambda: _feed(mt, x, 4096), "p": lambda: sigcorr.match_template(x, tpl)},
                   repeat=rep, burst=2)
    out.append(Row("stream.MatchTemplate, 100 taps, ccoeff_normed, 4,096-sample pushes, 1e6 samples", t["s"],
                   "sigcorr.match_template on the whole signal", t["p"], "report"))

    # a long kernel: the pushes go to the FFT (overlap-save)
    hl = rng.standard_normal(2000)
    cl = stream.Correlate(hl, "valid")
    t = best_times({"s": lambda: _feed(cl, x, 65536), "p": lambda: sigcorr.correlate(x, hl, "valid")},
                   repeat=rep, burst=2)
    out.append(Row("stream.Correlate, 2,000 taps, 65,536-sample pushes, 1e6 samples", t["s"],
                   "sigcorr.correlate on the whole signal", t["p"], "report"))

    # real-time network matched filtering: 1,000 three-channel 4 s templates at 100 Hz,
    # moveouts up to 0.5 s, 1 s chunks, 60 s of data
    fs, T, C, m = 100, 1000, 3, 400
    data = rng.standard_normal((C, 60 * fs))
    tpl = rng.standard_normal((T, C, m))
    mv = rng.integers(0, fs // 2, (T, C))
    mf = stream.MatchedFilter(tpl, moveouts=mv)
    got = np.concatenate([mf.push(data[:, i:i + fs]) for i in range(0, data.shape[1], fs)] + [mf.flush()], axis=-1)
    np.testing.assert_allclose(got, sigcorr.matched_filter(data, tpl, moveouts=mv), rtol=1e-9, atol=1e-9)
    t = best_times({"s": lambda: _feed(mf, data, fs), "p": lambda: sigcorr.matched_filter(data, tpl, moveouts=mv)},
                   repeat=2, burst=1)
    out.append(Row("stream.MatchedFilter, 1,000 templates x 3 channels x 4 s at 100 Hz, moveouts, 1 s pushes, 60 s",
                   t["s"], "sigcorr.matched_filter on the whole 60 s", t["p"], "<= 1.2 s (real time x 50)"))
    return out
