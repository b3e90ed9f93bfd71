"""Autocorrelation and period detection beside statsmodels (issue 4 targets; detect_periods: issue 12)."""

from __future__ import annotations

import numpy as np

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    from statsmodels.tsa.stattools import acf

    rep = 3 if quick else 5
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_000, 1024))
    sub = X[:1000]  # statsmodels looped over 1,000 series, scaled to 10,000

    def sm_loop():
        for x in sub:
            acf(x, nlags=512, fft=True)

    np.testing.assert_allclose(sigcorr.autocorrelation(X[:20], 512),
                               np.array([acf(x, nlags=512, fft=True) for x in X[:20]]), atol=1e-9)
    t = best_times({"s": lambda: sigcorr.autocorrelation(X, 512), "p": sm_loop}, repeat=rep)
    out = [Row("autocorrelation, 10,000 x 1,024, max_lag 512", t["s"],
               "statsmodels acf(fft=True) looped (x10 of 1,000)", t["p"] * 10, ">= 20x faster", 0.05)]

    y = rng.standard_normal(1_000_000)
    t = best_times({"s": lambda: sigcorr.autocorrelation(y, 1000),
                    "p": lambda: acf(y, nlags=1000, fft=True)}, repeat=rep)
    out.append(Row("autocorrelation, 1,000,000 samples, max_lag 1000", t["s"],
                   "statsmodels acf(fft=True)", t["p"], ">= 2x faster", 0.5))

    t = best_times({"s": lambda: sigcorr.detect_period(X),
                    "p": lambda: sigcorr.autocorrelation(X, 512)}, repeat=rep)
    out.append(Row("detect_period, 10,000 x 1,024", t["s"], "sigcorr.autocorrelation (same series)",
                   t["p"], "<= 2x", 2.0))

    t = best_times({"s": lambda: sigcorr.detect_periods(X),
                    "p": lambda: sigcorr.autocorrelation(X, 512)}, repeat=rep)
    out.append(Row("detect_periods (3 cycles), 10,000 x 1,024", t["s"], "sigcorr.autocorrelation (same series)",
                   t["p"], "<= 3x", 3.0))

    # seasonal series (a cycle of 24 plus one of 168, trend, noise): the candidates' work is not skipped
    t24 = np.arange(1024)
    Y = (np.sin(2 * np.pi * t24 / 24) + (t24 % 168 < 48) + 0.002 * t24
         + 0.5 * rng.standard_normal((10_000, 1024)))
    t = best_times({"s": lambda: sigcorr.detect_periods(Y),
                    "p": lambda: sigcorr.autocorrelation(Y, 512)}, repeat=rep)
    out.append(Row("detect_periods, 10,000 x 1,024 seasonal (24 + 168)", t["s"],
                   "sigcorr.autocorrelation (same series)", t["p"], "<= 3x", 3.0))
    return out


def extra(quick: bool = False) -> str:
    from period_accuracy import table

    return table(n_series=300 if quick else 1000)
