"""The ``sigcorr`` command: template matching and period detection on files.

``sigcorr match IMAGE TEMPLATE`` finds a template in an image (PNG, JPEG or
TIFF read as grayscale, or ``.npy``), ``sigcorr match IMAGES... --template T
[--template T2 ...]`` many images (globs, optional worker processes, one
line per image, a bad file reported on its own line); ``sigcorr period FILE`` finds the
dominant cycle of a series (CSV with or without a header, or ``.npy``);
``sigcorr delay A B`` estimates the delay between two series (files or CSV
columns); ``sigcorr demo`` runs match and period on the sample data shipped in
``sigcorr/data``.
Left-out inputs default to that sample data.  ``--json`` prints strict JSON,
``--plot OUT.png`` draws what was found (matplotlib, Agg backend).

Pillow and matplotlib belong to the ``cli`` extra and are imported only when
needed.  Every error a user can cause ends in one line on stderr and exit
status 1 (2 for usage errors, from argparse), never in a traceback.

Layout: the parser and :func:`main` here; files, time units and number
formatting in ``_io``; one module per command (``match``, ``period``,
``delay``; ``tools``: demo, warmup, calibrate).  The commands import
``_io`` and never this module.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from .._validate import MATCH_METHODS, check_threshold
from ._io import (
    SAMPLE_IMAGE,
    SAMPLE_SERIES,
    SAMPLE_TEMPLATE,
    SAMPLE_TEMPLATE_POSITION,
    CliError,
    read_image,
    read_series,
    read_timed_series,
)
from .delay import cmd_delay
from .detect import cmd_detect
from .match import cmd_match
from .period import cmd_period, run_period
from .tools import cmd_calibrate, cmd_demo, cmd_warmup

__all__ = [
    "SAMPLE_IMAGE",
    "SAMPLE_SERIES",
    "SAMPLE_TEMPLATE",
    "SAMPLE_TEMPLATE_POSITION",
    "CliError",
    "build_parser",
    "main",
    "read_image",
    "read_series",
    "read_timed_series",
    "run_period",
]


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _threshold(text):
    """A score threshold, refused as the library refuses it (NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    try:
        return check_threshold(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _range_arg(kind):
    """``A:B:N`` (scales: N values from A to B) or ``A:B:STEP`` (angles: A, A + STEP, ... < B)."""
    def parse(text):
        parts = text.split(":")
        try:
            a, b, c = (float(x) for x in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'A:B:N' if kind == 'scales' else 'A:B:STEP'}, got {text!r}") from None
        if not all(math.isfinite(v) for v in (a, b, c)):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
        if kind == "scales":
            if a <= 0 or b <= 0 or c < 1 or c != int(c):
                raise argparse.ArgumentTypeError(f"expected scales A, B > 0 and a count N >= 1, got {text!r}")
            return np.linspace(a, b, int(c))
        if c <= 0 or b <= a:
            raise argparse.ArgumentTypeError(f"expected A < B and a step > 0, got {text!r}")
        return np.arange(a, b, c)

    return parse


def _int_at_least(lo):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"expected an integer >= {lo}, got {v}")
        return v

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``sigcorr`` command's argument parser, one sub-parser per command.

    Returns
    -------
    argparse.ArgumentParser
        Each sub-command's arguments carry its function as ``func``.

    Examples
    --------
    >>> args = build_parser().parse_args(["period", "x.csv", "--fs", "10"])
    >>> args.command, args.file, args.fs, args.func.__name__
    ('period', 'x.csv', 10.0, 'cmd_period')
    """
    parser = argparse.ArgumentParser(
        prog="sigcorr",
        description="Template matching and period detection on your files, "
        "on sigcorr's parallel Numba kernels.",
        epilog="Run 'sigcorr demo' to see both on the embedded sample data.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{match,period,delay,detect,demo,warmup,calibrate}")

    p = sub.add_parser("match", help="find a template in an image",
                       description="Find TEMPLATE in IMAGE (PNG/JPEG/TIFF read as grayscale, or .npy). "
                       "Positions are the [row, col] of the match's top-left corner, best first. "
                       "A 3-D .npy array or a multi-page TIFF stack is a volume, searched with a 3-D "
                       "template ([z, row, col] positions). "
                       "Without IMAGE and TEMPLATE, runs on the embedded sample photograph. "
                       "'sigcorr match IMAGES... --template T [--template T2 ...]' searches many images "
                       "(globs allowed; --workers N for worker processes), one line per image (--jsonl: JSON lines), "
                       "a progress bar on a terminal's stderr; an unreadable image gets its own error "
                       "line and the others are still searched.")
    p.add_argument("inputs", nargs="*", metavar="IMAGE",
                   help="IMAGE TEMPLATE (default: embedded sample), or with --template any number of "
                   "images and globs ('frames/*.png')")
    p.add_argument("--template", action="append", metavar="T",
                   help="template file; repeat for several templates (then every IMAGE is searched "
                   "for all of them, one line per image)")
    p.add_argument("--jsonl", action="store_true",
                   help='with --template: print one JSON line per image, {"file": ..., "matches": [...]} '
                   'or {"file": ..., "error": ...}')
    p.add_argument("--scales", type=_range_arg("scales"), default=None, metavar="A:B:N",
                   help="also search N template scales from A to B (e.g. 0.5:2:16)")
    p.add_argument("--angles", type=_range_arg("angles"), default=None, metavar="A:B:STEP",
                   help="also search template rotations from A to B degrees by STEP (e.g. 0:360:15)")
    p.add_argument("--workers", type=_int_at_least(1), default=None, metavar="N",
                   help="worker processes for many images, one compute thread each (default: 1, this "
                   "process, whose search already uses every core; worth it on many cores and small images)")
    p.add_argument("--method", choices=MATCH_METHODS, default="ccoeff_normed",
                   help="score, as cv2.matchTemplate (default: %(default)s)")
    p.add_argument("--threshold", type=_threshold, default=None,
                   help="keep matches scoring at least T (at most T for sqdiff methods)")
    p.add_argument("--max-matches", type=_int_at_least(1), default=1, metavar="K",
                   help="report up to K matches (default: %(default)s)")
    p.add_argument("--min-distance", type=_int_at_least(1), default=None, metavar="D",
                   help="suppression half-width between matches (default: half the template's smaller side)")
    p.add_argument("--pyramid", type=_int_at_least(0), default=0, metavar="L",
                   help="search a 2**L-times downsampled image first (default: 0)")
    p.add_argument("--subpixel", action="store_true", help="refine positions by a parabola fit")
    p.add_argument("--json", action="store_true", help='print {"matches": [{"position": [row, col], "score": s}, ...]}')
    p.add_argument("--plot", metavar="OUT.png", help="save the image with the matches and the score map")
    p.add_argument("--stream", action="store_true",
                   help="match the 1-D --template T against a series read from stdin (one value, or one CSV "
                   "row of channels, per line), printing each window's score as soon as its last sample "
                   "arrives: 'index<TAB>score...' lines (--jsonl: JSON lines); --threshold keeps the passing ones")
    p.add_argument("--column", metavar="NAME", default=None,
                   help="with --stream: the stdin CSV column (header name or 0-based index; default every column)")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("period", help="find the dominant cycle of a series",
                       description="Find the period of a series from its autocorrelation. FILE is a CSV "
                       "(header optional; --column picks a column, else the last numeric one; empty cells "
                       "are missing samples; a date/time column sets the sampling interval, its gaps become "
                       "missing samples and periods are printed in days, weeks, months...) or a 1-D .npy. "
                       "Without FILE, runs on yearly sunspot numbers.")
    p.add_argument("file", nargs="?", metavar="FILE", help="CSV or .npy file (default: embedded sample)")
    p.add_argument("--column", metavar="NAME", help="CSV column by header name (or 0-based index)")
    p.add_argument("--fs", type=_positive_float, default=None, metavar="HZ",
                   help="sampling frequency; periods are reported in 1/fs units (default: 1, or the "
                   "interval of a date/time column, which --fs overrides)")
    p.add_argument("--min-period", type=_positive_float, default=None, metavar="P",
                   help="shortest period considered, in 1/fs units (samples with timestamps; default: 2 samples)")
    p.add_argument("--max-period", type=_positive_float, default=None, metavar="P",
                   help="longest period considered, in 1/fs units (samples with timestamps)")
    p.add_argument("--all", action="store_true", help="list every cycle of the series, strongest first")
    p.add_argument("--json", action="store_true",
                   help='print {"period": p, "strength": s} (null: no period), plus "period_seconds" with '
                   'timestamps; with --all {"periods": [{"period": p, "strength": s, "period_seconds": t}, ...]}')
    p.add_argument("--plot", metavar="OUT.png", help="save the series and its autocorrelation")
    p.add_argument("--follow", action="store_true",
                   help="read the series from stdin (one value or CSV row per line) and print, every --hop "
                   "samples, the period of the last --window samples as soon as that window is complete: "
                   "'end<TAB>period<TAB>strength' lines (--json: JSON lines)")
    p.add_argument("--window", type=_int_at_least(4), default=256, metavar="W",
                   help="with --follow: samples per window (default: %(default)s)")
    p.add_argument("--hop", type=_int_at_least(1), default=None, metavar="H",
                   help="with --follow: samples between windows (default: a quarter window)")
    p.set_defaults(func=cmd_period)

    p = sub.add_parser("delay", help="estimate the delay between two series",
                       description="Estimate by how much series A lags behind series B (positive: A comes "
                       "later), to a fraction of a sample, from the peak of their cross-correlation. A and B "
                       "are CSV or .npy files, or FILE:COLUMN for a column of a CSV (two columns of one "
                       "file: data.csv:left data.csv:right); series of different lengths are cut to the "
                       "shorter.")
    p.add_argument("a", metavar="A", help="the first series (FILE or FILE:COLUMN)")
    p.add_argument("b", metavar="B", help="the second series (FILE or FILE:COLUMN)")
    p.add_argument("--column", metavar="NAME", help="CSV column of both files (default: the last numeric one)")
    p.add_argument("--fs", type=_positive_float, default=1.0, metavar="HZ",
                   help="sampling frequency; the delay is also reported in 1/fs units (default: 1)")
    p.add_argument("--max-lag", type=_int_at_least(0), default=None, metavar="L",
                   help="search lags -L..L samples (default: every lag)")
    p.add_argument("--phat", action="store_true", help="GCC-PHAT weighting (broadband signals, coloured noise)")
    p.add_argument("--json", action="store_true",
                   help='print {"delay": d, "delay_samples": k, "peak": r, "confidence": c}')
    p.add_argument("--plot", metavar="OUT.png", help="save the correlation around its peak")
    p.set_defaults(func=cmd_delay)

    p = sub.add_parser("detect", help="network matched-filter detections in multichannel data",
                       description="Slide multichannel templates (each channel at its moveout) over DATA and "
                       "report every time a template's network score (the weighted mean of its channels' "
                       "normalized correlations) stands K median absolute deviations above its median. DATA is "
                       "a (channels, samples) .npy, a CSV with one column per channel, or miniSEED (with ObsPy: "
                       'pip install "sigcorr[seismo]"); NaN or empty cells and miniSEED gaps are missing '
                       "samples. One line per detection, by time; --jsonl prints JSON lines "
                       '{"template": t, "sample": i, "score": s, "mad": k, "time": ...} (time: UTC for '
                       "miniSEED, seconds with --fs).")
    p.add_argument("data", metavar="DATA", help="the data: .npy (C, N), CSV columns or miniSEED")
    p.add_argument("--templates", required=True, metavar="T.npy", help="templates (T, C, m) (or one (C, m))")
    p.add_argument("--moveouts", metavar="M.npy", help="integer moveouts (T, C) in samples (default 0)")
    p.add_argument("--weights", metavar="W.npy", help="channel weights (T, C) (default 1)")
    p.add_argument("--mad", type=_positive_float, default=8.0, metavar="K",
                   help="detect at K x the median absolute deviation of each template's scores (default: %(default)s)")
    p.add_argument("--threshold", type=_threshold, default=None,
                   help="detect at this network score instead of --mad")
    p.add_argument("--min-distance", type=_int_at_least(1), default=None, metavar="D",
                   help="samples between two detections of a template (default: the template's length)")
    p.add_argument("--step", type=_int_at_least(1), default=1, metavar="S",
                   help="score every S-th sample only (default: %(default)s)")
    p.add_argument("--fs", type=_positive_float, default=None, metavar="HZ",
                   help="sampling rate, to report times in seconds (miniSEED: from the file, times in UTC)")
    p.add_argument("--jsonl", action="store_true", help="one JSON line per detection")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("demo", help="run match and period on the embedded sample data",
                       description="Find a face cut from a NASA photograph of Eileen Collins in that "
                       "photograph, and the solar cycle in yearly sunspot numbers.")
    p.add_argument("--json", action="store_true", help="print both results as one JSON object")
    p.add_argument("--plot", metavar="OUT.png", help="save a figure of both results")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("warmup", help="compile every kernel into the cache",
                       description="Compile every kernel into numba's on-disk cache, in parallel "
                       "processes, so that no later process waits for a compile: the step for Docker "
                       "images, CI caches and cluster workers. Prints where the cache is (move it with "
                       "NUMBA_CACHE_DIR) and how long it took.")
    p.add_argument("--processes", type=_int_at_least(1), default=None, metavar="N",
                   help="compiler processes (default: the CPUs this process may use)")
    p.add_argument("--json", action="store_true", help='print {"cache": ..., "seconds": s, "kernels": k}')
    p.set_defaults(func=cmd_warmup)

    from ..calibrate import add_arguments

    p = sub.add_parser("calibrate", help="re-measure the cost model on this machine",
                       description="Time the operations whose prices choose between the direct and FFT "
                       "paths, store them in the user cache (costs.json) and print what changed.")
    add_arguments(p)
    p.set_defaults(func=cmd_calibrate)
    return parser


def main(argv=None) -> int:
    """Run the ``sigcorr`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``sigcorr`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0, 1 for an error the user can fix (one line on
        stderr), 2 for a usage error, 130 when interrupted.

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_SERIES
    >>> main(["period", str(SAMPLE_SERIES), "--json"])  # doctest: +ELLIPSIS
    {"period": 10.66..., "strength": 0.67...}
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("sigcorr: error: choose a command: match, period, delay, detect, demo, warmup or calibrate",
              file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except CliError as exc:
        message = str(exc)
    except (ValueError, TypeError, OSError) as exc:
        message = str(exc) or type(exc).__name__
    except KeyboardInterrupt:
        return 130
    print(f"sigcorr {args.command}: error: {message}", file=sys.stderr)
    return 1

