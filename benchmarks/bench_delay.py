"""Lag windows, the cross-correlation function and delay estimation (issue 14 targets)."""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    from statsmodels.tsa.stattools import ccf

    rep = 3 if quick else 5
    rng = np.random.default_rng(0)

    # one long pair, 201 lags, against scipy's full correlation then a slice
    a, b = rng.standard_normal(1_000_000), rng.standard_normal(1_000_000)
    n = b.size
    np.testing.assert_allclose(sigcorr.correlate(a, b, lags=100), ss.correlate(a, b)[n - 101:n + 100],
                               rtol=1e-9, atol=1e-9 * 2e3)
    t = best_times({"s": lambda: sigcorr.correlate(a, b, lags=100),
                    "p": lambda: ss.correlate(a, b)[n - 101:n + 100]}, repeat=rep)
    out = [Row("correlate 1e6 x 1e6 float64, lags=100", t["s"], "scipy.signal.correlate full, sliced",
               t["p"], "<= 0.05x", 0.05)]

    # the cross-correlation function of many pairs against statsmodels' ccf looped
    X = rng.standard_normal((10_000, 1024))
    Y = rng.standard_normal((10_000, 1024))

    def sm_loop():  # 1,000 pairs (lags 0..100 and, as ccf(y, x), 0..-100), scaled to 10,000
        for x, y in zip(X[:1000], Y[:1000]):
            ccf(x, y, adjusted=False, nlags=101)
            ccf(y, x, adjusted=False, nlags=101)

    r = sigcorr.crosscorrelation(X[:20], Y[:20], 100)
    np.testing.assert_allclose(r[:, 100:], [ccf(x, y, adjusted=False, nlags=101) for x, y in zip(X[:20], Y[:20])],
                               atol=1e-9)
    t = best_times({"s": lambda: sigcorr.crosscorrelation(X, Y, 100), "p": sm_loop}, repeat=rep)
    out.append(Row("crosscorrelation, 10,000 pairs x 1,024, max_lag 100 (lags -100..100)", t["s"],
                   "statsmodels ccf, both signs, looped (x10 of 1,000)", t["p"] * 10, ">= 20x faster", 0.05))
    def one_sided():
        return [ccf(x, y, adjusted=False, nlags=101) for x, y in zip(X[:1000], Y[:1000])]

    t = best_times({"s": lambda: sigcorr.crosscorrelation(X, Y, 100, two_sided=False), "p": one_sided},
                   repeat=rep)
    out.append(Row("crosscorrelation, 10,000 pairs x 1,024, lags 0..100 (two_sided=False)", t["s"],
                   "statsmodels ccf looped (x10 of 1,000)", t["p"] * 10, ">= 20x faster", 0.05))

    # delay estimation beside the cross-correlation of the same pairs
    P = rng.standard_normal((1000, 4096))
    Q = np.roll(P, 5, axis=1) + 0.3 * rng.standard_normal((1000, 4096))
    t = best_times({"s": lambda: sigcorr.estimate_delay(Q, P),
                    "p": lambda: sigcorr.crosscorrelation(Q, P)}, repeat=rep)
    out.append(Row("estimate_delay, 1,000 pairs x 4,096 (every lag)", t["s"],
                   "sigcorr.crosscorrelation (same pairs)", t["p"], "<= 1.5x", 1.5))
    t = best_times({"s": lambda: sigcorr.estimate_delay(Q, P, weighting="phat"),
                    "p": lambda: sigcorr.crosscorrelation(Q, P)}, repeat=rep)
    out.append(Row("estimate_delay phat, 1,000 pairs x 4,096", t["s"],
                   "sigcorr.crosscorrelation (same pairs)", t["p"], "<= 1.5x", 1.5))
    t = best_times({"s": lambda: sigcorr.estimate_delay(Q, P, max_lag=100),
                    "p": lambda: sigcorr.crosscorrelation(Q, P, 100)}, repeat=rep)
    out.append(Row("estimate_delay, 1,000 pairs x 4,096, max_lag 100", t["s"],
                   "sigcorr.crosscorrelation (same pairs, max_lag 100)", t["p"], "<= 1.5x", 1.5))
    return out
