"""``sigcorr delay``: by how much one series lags behind another.

A and B are CSV or ``.npy`` files, or ``FILE:COLUMN`` for a column of a CSV;
the delay is the sub-sample peak of their cross-correlation (``--phat``:
GCC-PHAT), as :func:`sigcorr.estimate_delay` finds it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

# ``phat`` under another name: plot_delay's flag of that name chooses the curve
from .._lagsums import phat as phat_correlation
from .._lagsums import phat_inputs
from .. import crosscorrelation, estimate_delay
from ._io import CliError, fmt, num, pyplot, read_series, save_plot


def _series_arg(text, column):
    """``PATH`` or ``PATH:COLUMN`` (when PATH:COLUMN is not itself a file)."""
    path = Path(text)
    if not path.exists() and ":" in text:
        head, col = text.rsplit(":", 1)
        if Path(head).exists() and col:
            return read_series(head, col)
    return read_series(path, column)


def read_pair(a, b, column=None):
    """The two series of ``sigcorr delay``: two files, or two columns
    (``FILE:COL``); cut to the shorter length."""
    x, sx = _series_arg(a, column)
    y, sy = _series_arg(b, column)
    n = min(x.size, y.size)
    if n < 2:
        raise CliError(f"the series need at least 2 samples each, got {x.size} and {y.size}")
    note = "" if x.size == y.size else f" (both cut to their first {n} samples)"
    return x[:n], y[:n], sx, sy, note


def delay_record(result, fs) -> dict:
    return {"delay": num(result.delay), "delay_samples": num(result.delay * fs),
            "peak": num(result.peak), "confidence": num(result.confidence)}


def plot_delay(ax, x, y, fs, result, phat, source):
    n = x.size
    k = result.delay * fs
    half = int(min(n - 1, max(20, 8 * abs(k) if abs(k) < 5 else 50)))
    c = int(np.clip(round(k), -(n - 1), n - 1))
    lo, hi = max(-(n - 1), c - half), min(n - 1, c + half)
    if phat:
        L = max(abs(lo), abs(hi))
        # the curve estimate_delay peaks on (its handling of missing samples too)
        X, Y, _, _ = phat_inputs(np.asarray(x, np.float64)[None], np.asarray(y, np.float64)[None])
        r = phat_correlation(X, Y, L)[0]
        r = r[lo + L:hi + L + 1]
    else:
        L = max(abs(lo), abs(hi))
        r = crosscorrelation(x, y, L)[lo + L:hi + L + 1]
    lags = np.arange(lo, hi + 1) / fs
    ax.plot(lags, r, ".-", lw=1, ms=3, label="GCC-PHAT" if phat else "cross-correlation")
    ax.axvline(result.delay, color="C3", lw=1, ls="--", label=f"delay {fmt(result.delay, 4)}")
    ax.set_xlabel("lag [1/fs]" if fs != 1 else "lag [samples]")
    ax.set_title(f"{source}: correlation around its peak (positive: the first series comes later)")
    ax.legend(loc="upper right", fontsize=8)


def cmd_delay(args) -> int:
    x, y, sx, sy, note = read_pair(args.a, args.b, args.column)
    plt = pyplot() if args.plot else None
    result = estimate_delay(x, y, fs=args.fs, max_lag=args.max_lag, weighting="phat" if args.phat else None)
    if args.json:
        print(json.dumps(delay_record(result, args.fs)))
    else:
        unit = "" if args.fs == 1 else f" = {fmt(result.delay, 6)} (1/fs units, fs = {fmt(args.fs, 6)})"
        print(f"{sx} vs {sy}{note}, {'GCC-PHAT' if args.phat else 'cross-correlation'}:")
        print(f"  delay       {fmt(result.delay * args.fs, 3)} samples{unit}"
              f"  (positive: the first series comes later)")
        print(f"  peak        {fmt(result.peak, 4)}")
        print(f"  confidence  {fmt(result.confidence, 2) if math.isfinite(result.confidence) else 'inf'}"
              "  (peak / next peak)")
    if plt is not None:
        fig, ax = plt.subplots(1, 1, figsize=(9, 4))
        plot_delay(ax, x, y, args.fs, result, args.phat, f"{sx} vs {sy}")
        fig.tight_layout()
        save_plot(fig, args.plot)
    return 0
