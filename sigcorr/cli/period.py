"""``sigcorr period``: the dominant cycle of a series (CSV or ``.npy``).

The series' autocorrelation (its linear trend and spikes removed, as
:func:`sigcorr.detect_period` reads it) gives the period; a date/time column
sets the sampling interval and the periods print in natural units.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from .._lagsums import residual_acf
from .. import autocorrelation, detect_period, detect_periods
from ..stream import PeriodTracker
from ._io import (SAMPLE_SERIES, CliError, average_repeats, fmt, irregular_sampling, natural_units, num, pyplot,
                  read_timed_series, regularize, save_plot, serve, stdin_rows)

# The command's own rules, kept as they were (the library may take them over):
#: the shortest series searched: two cycles of the shortest period (2 samples)
MIN_SAMPLES = 4
#: the default shortest period, in samples whatever --fs is (the library's
#: ``min_period=2`` is in 1/fs units: at --fs 10 it would skip every period
#: under 20 samples)
MIN_PERIOD_SAMPLES = 2.0
ALL_PERIODS = 10  # --all: at most this many cycles


def _candidates(result, acf, fs):
    """The (period, strength) pairs of ``result.candidates``, chosen one excluded."""
    cand = getattr(result, "candidates", None)
    if cand is None:
        return []
    pairs = []
    arr = np.asarray(cand, dtype=float)
    if arr.ndim == 2 and arr.shape[1] >= 2:
        pairs = [(float(p), float(s)) for p, s in arr[:, :2]]
    else:
        for p in arr.ravel():
            lag = int(round(float(p) * fs))
            s = float(acf[lag]) if 0 <= lag < len(acf) else math.nan
            pairs.append((float(p), s))
    period = float(result.period)
    return [(p, s) for p, s in pairs if not (math.isfinite(period) and math.isclose(p, period))]


def _period_kwargs(x, fs, min_period, max_period):
    if len(x) < MIN_SAMPLES:
        raise CliError(f"the series has {len(x)} samples; at least {MIN_SAMPLES} are needed")
    kwargs = {"fs": fs, "min_period": MIN_PERIOD_SAMPLES / fs if min_period is None else min_period}
    if max_period is not None:
        kwargs["max_period"] = max_period
    return kwargs


def run_period(x, *, fs=1.0, min_period=None, max_period=None, times=None):
    """detect_period, plus the autocorrelation it reads the period from.

    Parameters
    ----------
    x : numpy.ndarray
        The series, NaN for missing samples.
    fs, min_period, max_period : float, optional
        As :func:`sigcorr.detect_period`, except that ``min_period``
        defaults to 2 samples whatever ``fs`` is.
    times : numpy.ndarray, optional
        Irregular sample times, in samples of the sampling step (the median
        interval): the period comes back in those units, and ``acf`` is the
        kernel autocorrelation at lags of one step.

    Returns
    -------
    result
        :func:`sigcorr.detect_period`'s result.
    acf : numpy.ndarray
        The autocorrelation of the series without its linear trend and
        spikes, lags 0 .. len(x) - 1: the curve the period is read from, for
        the table and the plot.

    Examples
    --------
    >>> import numpy as np
    >>> result, acf = run_period(np.sin(2 * np.pi * np.arange(200) / 25))
    >>> round(float(result.period), 1), acf.shape
    (25.0, (200,))
    """
    if times is not None:
        result = detect_period(x, times=times, lag_step=1.0, **_period_kwargs(x, 1.0, min_period, max_period))
        return result, np.asarray(autocorrelation(x, times=times, lag_step=1.0), dtype=float)
    result = detect_period(x, **_period_kwargs(x, fs, min_period, max_period))
    acf = np.asarray(residual_acf(x, len(x) - 1), dtype=float)
    return result, acf



def run_periods(x, *, fs=1.0, min_period=None, max_period=None, times=None):
    """Every cycle (up to ALL_PERIODS): [(period, strength), ...], strongest first."""
    if times is not None:
        res = detect_periods(x, max_periods=ALL_PERIODS, times=times, lag_step=1.0,
                             **_period_kwargs(x, 1.0, min_period, max_period))
    else:
        res = detect_periods(x, max_periods=ALL_PERIODS, **_period_kwargs(x, fs, min_period, max_period))
    return [(float(p), float(s)) for p, s in zip(res.periods, res.strengths) if math.isfinite(p)]


def _seconds(period, sampling):
    # a period in samples, in seconds (None: no timestamps, or no period)
    if sampling is None or not math.isfinite(period):
        return None
    return period * sampling.seconds


def period_record(result, sampling=None) -> dict:
    record = {"period": num(result.period), "strength": num(result.strength)}
    if sampling is not None:
        record["period_seconds"] = _seconds(float(result.period), sampling)
    return record


def periods_record(cycles, sampling=None) -> dict:
    out = []
    for p, s in cycles:
        item = {"period": num(p), "strength": num(s)}
        if sampling is not None:
            item["period_seconds"] = _seconds(p, sampling)
        out.append(item)
    return {"periods": out}


def period_table(result, acf, x, fs, source, n_candidates=5, sampling=None, cycles=None) -> str:
    """The period table: the chosen period and the next candidates (or, with
    ``cycles``, every cycle), in samples and in 1/fs units, or with
    ``sampling`` (timestamps) in natural units ("7.00 days")."""
    head = f"series: {source}, {len(x)} samples ({int(np.isnan(x).sum())} missing), "
    lines = [head + (sampling.describe() if sampling is not None else f"fs = {fmt(fs)}")]
    if cycles is not None:
        rows = [(str(i + 1), p, s) for i, (p, s) in enumerate(cycles)]
        if not rows:
            lines.append("no periodicity found")
    else:
        period = float(result.period)
        if not math.isfinite(period):
            lines.append("no periodicity found")
        rows = [] if not math.isfinite(period) else [("chosen", period, float(result.strength))]
        rows += [("", p, s) for p, s in _candidates(result, acf, fs)[:n_candidates]]
    if rows:
        unit = "period" if sampling is not None else "period [1/fs]"
        lines.append(f"{'':>6}  {'samples':>9}  {unit:>13}  {'strength':>8}")
        for tag, p, s in rows:
            when = natural_units(_seconds(p, sampling), sampling.months) if sampling is not None else fmt(p, 4)
            lines.append(f"{tag:>6}  {fmt(p * fs, 2):>9}  {when:>13}  {fmt(s, 3):>8}")
    return "\n".join(lines)


def plot_period(axes, x, fs, result, acf, source):
    ax_x, ax_acf = axes
    t = np.arange(len(x)) / fs
    ax_x.plot(t, x, lw=1, color="C0")
    period = float(result.period)
    if math.isfinite(period) and np.isfinite(x).any():
        # mark one cycle starting at the series' largest value (or earlier, so it fits)
        start = t[int(np.nanargmax(x))]
        if start + period > t[-1]:
            start = max(t[0], start - period)
        ax_x.axvspan(start, start + period, color="C1", alpha=0.25, label=f"one cycle: {fmt(period)}")
        for k in np.arange(math.ceil((t[0] - start) / period), (t[-1] - start) / period + 1):
            ax_x.axvline(start + k * period, color="C1", lw=0.6, ls="--")
        ax_x.legend(loc="upper right", fontsize=8)
    ax_x.set_xlabel("time [1/fs]" if fs != 1 else "sample")
    ax_x.set_title(source)
    lags = np.arange(len(acf)) / fs
    ax_acf.plot(lags, acf, lw=1, color="C0")
    ax_acf.axhline(0, color="0.6", lw=0.6)
    for p, s in _candidates(result, acf, fs):
        ax_acf.plot([p], [s], "o", color="C2", ms=5)
    if math.isfinite(period):
        ax_acf.axvline(period, color="C3", lw=1.2,
                       label=f"period {fmt(period)} (strength {fmt(float(result.strength), 3)})")
        ax_acf.plot([], [], "o", color="C2", ms=5, label="other candidates")
        ax_acf.legend(loc="upper right", fontsize=8)
    ax_acf.set_xlim(0, lags[-1] / 2 if len(lags) > 8 else lags[-1])
    ax_acf.set_xlabel("lag [1/fs]" if fs != 1 else "lag [samples]")
    ax_acf.set_title("autocorrelation (linear trend and spikes removed)")


def cmd_period(args) -> int:
    if args.follow:
        return cmd_period_follow(args)
    path = Path(args.file) if args.file else SAMPLE_SERIES
    x, source, times = read_timed_series(path, args.column)
    sampling = None
    steps = None  # irregular timestamps: the sample times in steps of their median interval
    if times is not None and args.fs is not None:  # --fs overrides the timestamps' interval
        x, _ = regularize(x, times, path.name)
    elif times is not None:
        x, times, repeated = average_repeats(x, times)
        if repeated:
            print(f"note: {repeated} repeated timestamps: the values at each timestamp were averaged",
                  file=sys.stderr)
        try:
            x, sampling = regularize(x, times, path.name)
        except CliError:  # irregular: the kernel autocorrelation on the timestamps
            seconds, sampling = irregular_sampling(times)
            steps = seconds / sampling.seconds
    fs = 1.0 if args.fs is None else args.fs
    plt = pyplot() if args.plot else None
    kwargs = {"fs": fs, "min_period": args.min_period, "max_period": args.max_period, "times": steps}
    result, acf = run_period(x, **kwargs)
    cycles = run_periods(x, **kwargs) if args.all else None
    if args.json:
        print(json.dumps(periods_record(cycles, sampling) if args.all else period_record(result, sampling)))
    else:
        print(period_table(result, acf, x, fs, source + ("" if args.file else " (sample data)"),
                           sampling=sampling, cycles=cycles))
    if plt is not None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 6.5))
        plot_period(axes, x, fs, result, acf, source)
        fig.tight_layout()
        save_plot(fig, args.plot)
    return 0


def cmd_period_follow(args) -> int:
    """``sigcorr period --follow``: a series read from stdin (one value per
    line, or a CSV row: ``--column`` picks the column, else the last), and
    every ``--hop`` samples the period of the last ``--window`` printed as
    soon as that window is complete: ``end<TAB>period<TAB>strength`` lines
    (``end``: one past the window's last sample; periods in 1/fs units,
    "n/a" where none is found), or JSON lines with ``--json``."""
    if args.file:
        raise CliError("--follow reads the series from stdin; give no FILE")
    fs = 1.0 if args.fs is None else args.fs
    window = args.window
    hop = args.hop if args.hop is not None else max(1, window // 4)
    kwargs = _period_kwargs(np.empty(max(window, MIN_SAMPLES)), fs, args.min_period, args.max_period)
    tracker = PeriodTracker(window, hop, **kwargs)

    def step(row):
        if args.json:
            return [json.dumps({"end": int(e), "period": num(p), "strength": num(s)}) + "\n"
                    for e, p, s in tracker.push(row)]
        return [f"{int(e)}\t{fmt(p)}\t{fmt(s, 3)}\n" for e, p, s in tracker.push(row)]

    serve(stdin_rows(sys.stdin, args.column if args.column is not None else -1), step)
    tracker.flush()
    return 0
