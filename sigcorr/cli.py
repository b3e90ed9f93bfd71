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
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import sys
from pathlib import Path

import numpy as np

from ._validate import MATCH_METHODS, template_fits
from .delay import crosscorrelation, estimate_delay
from .match import locate, match_template
from ._lagsums import residual_acf
from .period import detect_period, detect_periods

__all__ = ["main"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SAMPLE_IMAGE = DATA_DIR / "astronaut.png"
SAMPLE_TEMPLATE = DATA_DIR / "astronaut_face.png"
#: (row, col) of the top-left corner of ``astronaut_face.png`` in ``astronaut.png``.
SAMPLE_TEMPLATE_POSITION = (38, 92)
SAMPLE_SERIES = DATA_DIR / "sunspots.csv"

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif"}
EXTRA_HINT = 'pip install "sigcorr[cli]"'


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


# ---------------------------------------------------------------------------
# optional dependencies
# ---------------------------------------------------------------------------


def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise CliError(f"reading images needs Pillow, part of the cli extra: {EXTRA_HINT}") from None
    return Image


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CliError(f"--plot needs matplotlib, part of the cli extra: {EXTRA_HINT}") from None
    return plt


# ---------------------------------------------------------------------------
# reading inputs
# ---------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    if not path.exists():
        raise CliError(f"{path}: no such file")
    if not path.is_file():
        raise CliError(f"{path}: not a regular file")


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CliError(f"{path}: not a readable .npy file ({exc})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise CliError(f"{path}: expected a real numeric array, got dtype {getattr(arr, 'dtype', '?')}")
    return arr


def read_image(path) -> np.ndarray:
    """A 2-D float64 grayscale image from PNG/JPEG/TIFF (via Pillow) or ``.npy``."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".npy":
        arr = _load_npy(path)
        if arr.ndim != 2:
            raise CliError(f"{path}: an image must be a 2-D array, got shape {arr.shape}")
        return arr.astype(np.float64)
    Image = _pil_image()
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("I", "F") or img.mode.startswith("I;16"):
                arr = np.asarray(img, dtype=np.float64)  # keep 16/32-bit depth
            else:
                arr = np.asarray(img.convert("L"), dtype=np.float64)
    except (OSError, ValueError, SyntaxError) as exc:
        raise CliError(f"{path}: cannot read as an image ({exc})") from None
    if arr.ndim != 2:
        raise CliError(f"{path}: cannot read as a grayscale image (shape {arr.shape})")
    return arr


def _float_or_none(text: str):
    """float(text), NaN for an empty cell, None when not a number."""
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "null"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a text (CSV) file") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise CliError(f"{path}: no data")
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = []
    for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, skipinitialspace=True):
        if delimiter == " ":
            row = [cell for cell in row if cell != ""]
        rows.append(row)
    return rows


def read_series(path, column=None) -> tuple[np.ndarray, str]:
    """A 1-D float64 series and a description of where it came from.

    CSV: the first row is a header when any of its cells is neither a number
    nor a date; ``column`` picks a column by header name (or by 0-based
    index), else the last column whose cells are all numbers is used.  Empty
    or "nan" cells are missing samples (NaN).  ``.npy``: a 1-D array (or one
    row/column).  (:func:`read_timed_series` also reads a date/time column.)
    """
    x, label, _ = read_timed_series(path, column)
    return x, label


def _is_date(cell: str) -> bool:
    text = cell.strip()
    if not text or _float_or_none(text) is not None or not any(ch.isdigit() for ch in text):
        return False
    return _parse_times([text]) is not None


def _parse_times(cells):
    """``cells`` as datetime64[ns] (pandas' parser, which knows ISO 8601 and the
    common day/month layouts), or None when any of them is not a date."""
    import warnings

    try:
        import pandas as pd
    except ImportError:  # numpy's parser: ISO 8601 only
        try:
            return np.array([np.datetime64(c.strip().replace(" ", "T"), "ns") for c in cells])
        except ValueError:
            return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(pd.Series([c.strip() for c in cells]), errors="raise")
    except (ValueError, TypeError, OverflowError):
        return None
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.to_numpy(dtype="datetime64[ns]")


def read_timed_series(path, column=None):
    """:func:`read_series` plus the CSV's date/time column, if it has one:
    (x, label, times) with ``times`` a datetime64[ns] array beside ``x`` (or
    None).  The time column is the first one whose cells are all dates (not
    numbers: a column of years stays a number)."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".npy":
        if column is not None:
            raise CliError("--column applies to CSV files, not .npy")
        arr = _load_npy(path)
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.ravel()
        if arr.ndim != 1:
            raise CliError(f"{path}: a series must be a 1-D array, got shape {arr.shape}")
        return arr.astype(np.float64), f"{path.name}", None

    rows = _csv_rows(path)
    header = None
    if any(_float_or_none(cell) is None and not _is_date(cell) for cell in rows[0]):
        header, rows = [cell.strip() for cell in rows[0]], rows[1:]
    if not rows:
        raise CliError(f"{path}: no data rows")
    width = max(len(header) if header else 0, max(len(r) for r in rows))
    names = header if header else [str(i) for i in range(width)]

    def values(j):
        out = []
        for lineno, row in enumerate(rows, start=2 if header else 1):
            cell = row[j] if j < len(row) else ""
            v = _float_or_none(cell)
            if v is None:
                return None, (lineno, cell)
            out.append(v)
        return np.array(out, dtype=np.float64), None

    if column is not None:
        if column in names:
            j = names.index(column)
        elif column.lstrip("-").isdigit() and -width <= int(column) < width:
            j = int(column) % width
        else:
            known = ", ".join(repr(n) for n in names) if header else f"0..{width - 1} (no header)"
            raise CliError(f"{path}: no column {column!r}; columns are {known}")
        x, bad = values(j)
        if x is None:
            lineno, cell = bad
            raise CliError(f"{path}: non-numeric value {cell!r} in column {names[j]!r} at line {lineno}")
    else:
        for j in range(width - 1, -1, -1):
            x, bad = values(j)
            if x is not None:
                break
        else:
            raise CliError(f"{path}: no numeric column (every column holds non-numeric values)")
    label = f"{path.name}, column {names[j]!r}" if header else f"{path.name}, column {j}"
    times = None
    for i in range(width):
        cells = [row[i] if i < len(row) else "" for row in rows]
        if i != j and all(_is_date(c) for c in cells[:3]) and not any(_float_or_none(c) is not None for c in cells):
            times = _parse_times(cells)
            if times is not None:
                label += f", times from column {names[i]!r}"
                break
    return x, label, times


# ---------------------------------------------------------------------------
# sampling interval from timestamps
# ---------------------------------------------------------------------------

MONTH_SECONDS = 365.2425 * 86400 / 12  # the mean Gregorian month
_UNITS = (("weeks", 7 * 86400.0), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0))
_MAX_FILL = 10  # a regularized series may be at most this many times the rows given


@dataclasses.dataclass(frozen=True)
class Sampling:
    """The regular sampling interval found in a time column: ``months`` steps
    of calendar months (monthly, quarterly, yearly data), else ``seconds``."""

    seconds: float
    months: int = 0
    start: str = ""
    missing: int = 0  # samples inserted for gaps

    def describe(self) -> str:
        if self.months:
            step = {1: "1 month", 3: "1 quarter", 12: "1 year"}.get(self.months, f"{self.months} months")
        else:
            step = _step_text(self.seconds)
        gaps = f", {self.missing} missing in gaps" if self.missing else ""
        return f"one sample every {step} from {self.start}{gaps}"


def _months(times):
    """Month index (year * 12 + month) and whether every timestamp sits at the
    same day and time of its month (or at each month's last day)."""
    ym = times.astype("datetime64[M]")
    idx = ym.astype(np.int64)
    offset = times - ym.astype(times.dtype)  # time since the month's start
    same = bool(np.all(offset == offset[0]))
    last = (ym + 1).astype(times.dtype) - times  # time to the next month's start
    return idx, same or bool(np.all(last == last[0]))


def regularize(x, times, path_name="the file"):
    """(x on a regular grid with NaN in the gaps, Sampling) from the values and
    their timestamps; CliError (one line, a hint to resample) when the
    timestamps are not regular."""
    order = np.argsort(times, kind="stable")
    times, x = times[order], x[order]
    if np.isnat(times).any():
        raise CliError(f"{path_name}: an empty or invalid timestamp")
    ns = times.astype(np.int64)
    d = np.diff(ns)
    if d.size == 0:
        raise CliError(f"{path_name}: a single timestamp; at least two are needed")
    if np.any(d == 0):
        k = int(np.argmax(d == 0))
        raise CliError(f"{path_name}: the timestamp {_when(times[k])} appears twice; aggregate or resample the series "
                       "to one value per interval first (e.g. pandas' resample)")
    hint = "resample it to a regular interval first (e.g. pandas' DataFrame.resample(...).mean())"
    day = 86400 * 10 ** 9
    if d.min() >= 28 * day:
        idx, aligned = _months(times)
        steps = np.diff(idx)
        if aligned and steps.min() > 0:
            step = int(np.gcd.reduce(steps))
            k = (idx - idx[0]) // step
            return _fill(x, k, path_name, hint), Sampling(step * MONTH_SECONDS, step, _when(times[0]),
                                                         int(k[-1] + 1 - len(x)))
    step = int(np.min(d))
    if np.any(d % step):
        bad = int(np.argmax(d % step != 0))
        raise CliError(f"{path_name}: irregular sampling (steps of {natural_units(step / 1e9)} and "
                       f"{natural_units(d[bad] / 1e9)}, at {_when(times[bad])}); {hint}")
    k = (ns - ns[0]) // step
    return _fill(x, k, path_name, hint), Sampling(step / 1e9, 0, _when(times[0]),
                                                  int(k[-1] + 1 - len(x)))


def _fill(x, k, path_name, hint):
    n = int(k[-1]) + 1
    if n > _MAX_FILL * len(x):
        raise CliError(f"{path_name}: the timestamps leave more gaps than samples ({len(x)} samples "
                       f"over {n} intervals); {hint}")
    out = np.full(n, np.nan)
    out[k] = x
    return out


def natural_units(seconds, months=0) -> str:
    """A duration in the largest unit that shows it as 2 or more ("7.00 days",
    "52.2 weeks", "24.0 hours"); calendar months and years where the data
    are sampled by months ("12.0 months", "11.0 years")."""
    if not math.isfinite(seconds):
        return "-"
    if months:
        n = seconds / MONTH_SECONDS
        value, unit = (n / 12, "years") if n >= 24 else (n, "months")
    else:
        value, unit = seconds, "seconds"
        for name, size in _UNITS:
            if seconds >= 2 * size:
                value, unit = seconds / size, name
                break
    return f"{_sig3(value)} {unit}"


def _when(t) -> str:
    # a timestamp without the zeros it does not need: 2020-01-01, 2024-01-01 13:30
    text = np.datetime_as_string(t, unit="s").replace("T", " ")
    if text.endswith(" 00:00:00"):
        return text[:-9]
    return text[:-3] if text.endswith(":00") else text


def _step_text(seconds):
    # a sampling step in the largest unit that divides it: "1 day", "30 minutes"
    for name, size in _UNITS:
        n = seconds / size
        if n >= 1 and abs(n - round(n)) < 1e-9:
            n = int(round(n))
            return f"{n} {name if n != 1 else name[:-1]}"
    return f"{seconds:g} seconds"


def _sig3(v):
    # three significant digits, trailing zeros kept: 7.00, 12.0, 52.2, 168
    if v == 0:
        return "0"
    decimals = max(0, 2 - int(math.floor(math.log10(abs(v)))))
    return f"{v:.{decimals}f}"


# ---------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------


def _num(v):
    """A JSON-safe number: None (JSON null) for NaN and infinities."""
    v = float(v)
    return v if math.isfinite(v) else None


def _fmt(v, digits=4):
    """``v`` with at most ``digits`` decimals and no trailing zeros; "n/a" if not finite."""
    v = float(v)
    if not math.isfinite(v):
        return "n/a"
    if abs(v) >= 1e6:
        return f"{v:.{digits}g}"
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text  # a value that rounds to zero prints without a sign


# ---------------------------------------------------------------------------
# match
# ---------------------------------------------------------------------------


def _check_fits(image, template, name="template"):
    """The library's rule (``template_fits``), worded for the command line."""
    if not template_fits(image.shape, template.shape):
        raise CliError(
            f"{name} ({template.shape[0]}x{template.shape[1]}) is larger than the image "
            f"({image.shape[0]}x{image.shape[1]}) in at least one dimension"
        )


def run_match(image, template, *, method="ccoeff_normed", threshold=None, max_matches=1,
              min_distance=None, pyramid=0, subpixel=False):
    """Locate ``template`` in ``image``; returns the Matches."""
    _check_fits(image, template)
    return locate(image, template, method=method, threshold=threshold, max_matches=max_matches,
                  min_distance=min_distance, pyramid_levels=pyramid, subpixel=subpixel)


def match_record(matches, subpixel=False) -> dict:
    out = []
    for pos, score in zip(np.asarray(matches.positions), np.asarray(matches.scores)):
        position = [float(p) if subpixel else int(round(float(p))) for p in pos]
        out.append({"position": position, "score": _num(score)})
    return {"matches": out}


def match_table(record, image, template, method, source="") -> str:
    lines = [
        f"image {image.shape[0]}x{image.shape[1]}, template {template.shape[0]}x{template.shape[1]}"
        f", method {method}{source}",
    ]
    if not record["matches"]:
        lines.append("no match found (try a lower --threshold)")
        return "\n".join(lines)
    lines.append(f"{'rank':>4}  {'row':>8}  {'col':>8}  {'score':>10}")
    for i, m in enumerate(record["matches"], start=1):
        r, c = m["position"]
        score = "n/a" if m["score"] is None else f"{m['score']:.4f}"
        lines.append(f"{i:>4}  {_fmt(r, 2):>8}  {_fmt(c, 2):>8}  {score:>10}")
    return "\n".join(lines)


def plot_match(axes, image, template, matches, scores, method):
    from matplotlib.patches import Rectangle

    ax_img, ax_map = axes
    h, w = template.shape
    ax_img.imshow(image, cmap="gray", interpolation="nearest")
    positions = np.asarray(matches.positions, dtype=float).reshape(-1, 2)
    for i, (r, c) in enumerate(positions):
        color = "red" if i == 0 else "orange"
        ax_img.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor=color, linewidth=1.5))
        ax_img.text(c, r - 2, str(i + 1), color=color, fontsize=8, va="bottom")
    ax_img.set_title(f"image {image.shape[0]}x{image.shape[1]}: {len(positions)} match(es)")
    ax_img.set_axis_off()
    im = ax_map.imshow(scores, cmap="viridis", interpolation="nearest")
    if len(positions):
        ax_map.plot(positions[:, 1], positions[:, 0], "o", mfc="none", mec="red", ms=10, mew=1.5)
    ax_map.set_title(f"{method} score (top-left corner)")
    ax_map.figure.colorbar(im, ax=ax_map, fraction=0.046, pad=0.04)


def _save(fig, out):
    try:
        fig.savefig(out, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise CliError(f"{out}: cannot write the plot ({exc.strerror or exc})") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def cmd_match(args) -> int:
    if args.template:
        return cmd_match_many(args)
    if args.jsonl:
        raise CliError("--jsonl goes with --template (many images); use --json for IMAGE TEMPLATE")
    if len(args.inputs) not in (0, 2):
        raise CliError("give both IMAGE and TEMPLATE, or neither (to use the sample data), "
                       "or images with --template T")
    args.image, args.template = args.inputs if args.inputs else (None, None)
    image_path = Path(args.image) if args.image else SAMPLE_IMAGE
    template_path = Path(args.template) if args.template else SAMPLE_TEMPLATE
    image, template = read_image(image_path), read_image(template_path)
    plt = _pyplot() if args.plot else None
    if args.scales is not None or args.angles is not None:
        _check_fits(image, template)
        matches = locate(image, template, method=args.method, threshold=args.threshold,
                         max_matches=args.max_matches, min_distance=args.min_distance,
                         pyramid_levels=args.pyramid, subpixel=args.subpixel,
                         scales=args.scales, angles=args.angles)
        if args.json:
            print(json.dumps(many_record(matches, args.subpixel, True)))
            return 0
    else:
        matches = run_match(image, template, method=args.method, threshold=args.threshold,
                            max_matches=args.max_matches, min_distance=args.min_distance,
                            pyramid=args.pyramid, subpixel=args.subpixel)
    record = match_record(matches, args.subpixel)
    if args.json:
        print(json.dumps(record))
    else:
        source = "" if args.image else " (sample data)"
        print(match_table(record, image, template, args.method, source))
    if plt is not None:
        scores = match_template(image, template, args.method)
        fig, axes = plt.subplots(1, 2, figsize=(11, 5))
        plot_match(axes, image, template, matches, scores, args.method)
        _save(fig, args.plot)
    return 0


def expand_inputs(patterns) -> list[str]:
    """Paths in order: a pattern with glob characters (quoted past the shell,
    or on a shell that does not expand) becomes its sorted matches, or stays
    as given when nothing matches (it then gets its own error line)."""
    import glob

    out = []
    for p in patterns:
        found = sorted(glob.glob(p, recursive=True)) if any(ch in p for ch in "*?[") else []
        out.extend(found or [p])
    return out


def many_record(matches, subpixel, search) -> dict:
    """JSON record of one image's matches: position (top-left), center, score,
    template index, and scale/angle when they were searched."""
    out = []
    for i in range(len(matches)):
        pos = [float(p) if (subpixel or search) else int(round(float(p))) for p in matches.positions[i]]
        m = {"position": pos, "center": [float(c) for c in matches.centers[i]],
             "score": _num(matches.scores[i]), "template": int(matches.template[i])}
        if search:
            m["scale"] = float(matches.scales[i])
            m["angle"] = float(matches.angles[i])
        out.append(m)
    return {"matches": out}


_WORKER = {}


def _read_for_search(path):
    """``read_image``, in float32 for image files (8/16-bit and float32 pixels
    are exact in it; the search then runs in float32, as OpenCV's)."""
    arr = read_image(path)
    return arr if Path(path).suffix.lower() == ".npy" else arr.astype(np.float32)


def _worker_init(templates, options):
    # one compute thread per worker process: the processes share the cores
    import numba


    numba.set_num_threads(1)  # also scipy.fft's workers: sigcorr uses one thread count
    _WORKER.update(templates=templates, options=options)


def _try_read(path):
    try:
        return _read_for_search(path)
    except (CliError, ValueError, TypeError, OSError, MemoryError) as exc:
        return exc


def _match_one(path, templates=None, options=None, image=None):
    """One image's JSON record, or its error: never raises (a bad file must
    not stop the others).  ``image``: the image already read (or the error
    reading it raised)."""
    templates = templates if templates is not None else _WORKER["templates"]
    options = options if options is not None else _WORKER["options"]
    try:
        image = _read_for_search(path) if image is None else image
        if isinstance(image, Exception):
            raise image
        for k, t in enumerate(templates):
            _check_fits(image, t, f"template {k}")
        search = options["scales"] is not None or options["angles"] is not None
        kw = dict(method=options["method"], threshold=options["threshold"], max_matches=options["max_matches"],
                  min_distance=options["min_distance"], pyramid_levels=options["pyramid"],
                  subpixel=options["subpixel"], scales=options["scales"], angles=options["angles"])
        if len({t.shape for t in templates}) == 1:
            matches = locate(image, np.stack(templates), **kw)
            record = many_record(matches, options["subpixel"], search)
        else:  # templates of several sizes: searched one by one, merged best first
            found = []
            for k, t in enumerate(templates):
                rec = many_record(locate(image, t, **kw), options["subpixel"], search)
                for m in rec["matches"]:
                    m["template"] = k
                found.extend(rec["matches"])
            maximize = not options["method"].startswith("sqdiff")
            found.sort(key=lambda m: -np.inf if m["score"] is None else (-m["score"] if maximize else m["score"]))
            record = {"matches": found[:options["max_matches"]]}
        return {"file": str(path), **record}
    except CliError as exc:
        return {"file": str(path), "error": str(exc)}
    except (ValueError, TypeError, OSError, MemoryError) as exc:
        return {"file": str(path), "error": str(exc) or type(exc).__name__}


def _progress(total):
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="image", desc="sigcorr match", file=sys.stderr)


def cmd_match_many(args) -> int:
    """``sigcorr match IMAGES... --template T [...]``: one line per image."""
    if args.plot:
        raise CliError("--plot draws one image: use it with IMAGE TEMPLATE")
    if not args.inputs:
        raise CliError("give the images to search (files or globs) with --template")
    templates = [_read_for_search(Path(t)) for t in args.template]
    paths = expand_inputs(args.inputs)
    options = dict(method=args.method, threshold=args.threshold, max_matches=args.max_matches,
                   min_distance=args.min_distance, pyramid=args.pyramid, subpixel=args.subpixel,
                   scales=args.scales, angles=args.angles)

    workers = min(args.workers or 1, len(paths))
    bar = _progress(len(paths))
    failed = 0

    def emit(rec):
        nonlocal failed
        if "error" in rec:
            failed += 1
        if args.jsonl or args.json:
            print(json.dumps(rec), flush=True)
        elif "error" in rec:
            print(f"sigcorr match: error: {rec['file']}: {rec['error']}", file=sys.stderr, flush=True)
        else:
            best = ", ".join(
                f"({_fmt(m['position'][0], 2)}, {_fmt(m['position'][1], 2)}) "
                f"{'n/a' if m['score'] is None else format(m['score'], '.4f')} t{m['template']}"
                + (f" x{m['scale']:.3f} {m['angle']:.1f}deg" if "scale" in m else "")
                for m in rec["matches"]) or "no match"
            print(f"{rec['file']}: {best}", flush=True)
        if bar is not None:
            bar.update(1)

    try:
        if workers <= 1:
            # the search runs on every core already; a thread reads and
            # decodes the next images meanwhile (Pillow releases the GIL)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as reader:
                ahead = [reader.submit(_try_read, p) for p in paths[:4]]
                for i, p in enumerate(paths):
                    image = ahead[i].result()
                    if i + 4 < len(paths):
                        ahead.append(reader.submit(_try_read, paths[i + 4]))
                    ahead[i] = None
                    emit(_match_one(p, templates, options, image))
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # spawn: numba's and the FFTs' thread pools do not survive a fork
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                     initargs=(templates, options)) as ex:
                for rec in ex.map(_match_one, paths, chunksize=max(1, min(16, len(paths) // (4 * workers)))):
                    emit(rec)
    finally:
        if bar is not None:
            bar.close()
    return 1 if failed else 0


# ---------------------------------------------------------------------------
# period
# ---------------------------------------------------------------------------


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
    if len(x) < 4:
        raise CliError(f"the series has {len(x)} samples; at least 4 are needed")
    # the shortest period defaults to 2 samples whatever fs is
    kwargs = {"fs": fs, "min_period": 2.0 / fs if min_period is None else min_period}
    if max_period is not None:
        kwargs["max_period"] = max_period
    return kwargs


def run_period(x, *, fs=1.0, min_period=None, max_period=None):
    """detect_period, plus the autocorrelation it reads the period from (of
    the series without its linear trend and spikes) for the table and the plot."""
    result = detect_period(x, **_period_kwargs(x, fs, min_period, max_period))
    acf = np.asarray(residual_acf(x, len(x) - 1), dtype=float)
    return result, acf


ALL_PERIODS = 10  # --all: at most this many cycles


def run_periods(x, *, fs=1.0, min_period=None, max_period=None):
    """Every cycle (up to ALL_PERIODS): [(period, strength), ...], strongest first."""
    res = detect_periods(x, max_periods=ALL_PERIODS, **_period_kwargs(x, fs, min_period, max_period))
    return [(float(p), float(s)) for p, s in zip(res.periods, res.strengths) if math.isfinite(p)]


def _seconds(period, sampling):
    # a period in samples, in seconds (None: no timestamps, or no period)
    if sampling is None or not math.isfinite(period):
        return None
    return period * sampling.seconds


def period_record(result, sampling=None) -> dict:
    record = {"period": _num(result.period), "strength": _num(result.strength)}
    if sampling is not None:
        record["period_seconds"] = _seconds(float(result.period), sampling)
    return record


def periods_record(cycles, sampling=None) -> dict:
    out = []
    for p, s in cycles:
        item = {"period": _num(p), "strength": _num(s)}
        if sampling is not None:
            item["period_seconds"] = _seconds(p, sampling)
        out.append(item)
    return {"periods": out}


def period_table(result, acf, x, fs, source, n_candidates=5, sampling=None, cycles=None) -> str:
    """The period table: the chosen period and the next candidates (or, with
    ``cycles``, every cycle), in samples and in 1/fs units, or with
    ``sampling`` (timestamps) in natural units ("7.00 days")."""
    head = f"series: {source}, {len(x)} samples ({int(np.isnan(x).sum())} missing), "
    lines = [head + (sampling.describe() if sampling is not None else f"fs = {_fmt(fs)}")]
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
            when = natural_units(_seconds(p, sampling), sampling.months) if sampling is not None else _fmt(p, 4)
            lines.append(f"{tag:>6}  {_fmt(p * fs, 2):>9}  {when:>13}  {_fmt(s, 3):>8}")
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
        ax_x.axvspan(start, start + period, color="C1", alpha=0.25, label=f"one cycle: {_fmt(period)}")
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
                       label=f"period {_fmt(period)} (strength {_fmt(float(result.strength), 3)})")
        ax_acf.plot([], [], "o", color="C2", ms=5, label="other candidates")
        ax_acf.legend(loc="upper right", fontsize=8)
    ax_acf.set_xlim(0, lags[-1] / 2 if len(lags) > 8 else lags[-1])
    ax_acf.set_xlabel("lag [1/fs]" if fs != 1 else "lag [samples]")
    ax_acf.set_title("autocorrelation (linear trend and spikes removed)")


def cmd_period(args) -> int:
    path = Path(args.file) if args.file else SAMPLE_SERIES
    x, source, times = read_timed_series(path, args.column)
    sampling = None
    if times is not None:
        x, sampling = regularize(x, times, path.name)
        if args.fs is not None:  # --fs overrides the timestamps' interval
            sampling = None
    fs = 1.0 if args.fs is None else args.fs
    plt = _pyplot() if args.plot else None
    kwargs = {"fs": fs, "min_period": args.min_period, "max_period": args.max_period}
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
        _save(fig, args.plot)
    return 0


# ---------------------------------------------------------------------------
# delay
# ---------------------------------------------------------------------------


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
    return {"delay": _num(result.delay), "delay_samples": _num(result.delay * fs),
            "peak": _num(result.peak), "confidence": _num(result.confidence)}


def plot_delay(ax, x, y, fs, result, phat, source):
    from ._lagsums import phat, phat_inputs

    n = x.size
    k = result.delay * fs
    half = int(min(n - 1, max(20, 8 * abs(k) if abs(k) < 5 else 50)))
    c = int(np.clip(round(k), -(n - 1), n - 1))
    lo, hi = max(-(n - 1), c - half), min(n - 1, c + half)
    if phat:
        L = max(abs(lo), abs(hi))
        # the curve estimate_delay peaks on (its handling of missing samples too)
        X, Y = phat_inputs(np.asarray(x, np.float64)[None], np.asarray(y, np.float64)[None])
        r = phat(X, Y, L)[0]
        r = r[lo + L:hi + L + 1]
    else:
        L = max(abs(lo), abs(hi))
        r = crosscorrelation(x, y, L)[lo + L:hi + L + 1]
    lags = np.arange(lo, hi + 1) / fs
    ax.plot(lags, r, ".-", lw=1, ms=3, label="GCC-PHAT" if phat else "cross-correlation")
    ax.axvline(result.delay, color="C3", lw=1, ls="--", label=f"delay {_fmt(result.delay, 4)}")
    ax.set_xlabel("lag [1/fs]" if fs != 1 else "lag [samples]")
    ax.set_title(f"{source}: correlation around its peak (positive: the first series comes later)")
    ax.legend(loc="upper right", fontsize=8)


def cmd_delay(args) -> int:
    x, y, sx, sy, note = read_pair(args.a, args.b, args.column)
    plt = _pyplot() if args.plot else None
    result = estimate_delay(x, y, fs=args.fs, max_lag=args.max_lag, weighting="phat" if args.phat else None)
    if args.json:
        print(json.dumps(delay_record(result, args.fs)))
    else:
        unit = "" if args.fs == 1 else f" = {_fmt(result.delay, 6)} (1/fs units, fs = {_fmt(args.fs, 6)})"
        print(f"{sx} vs {sy}{note}, {'GCC-PHAT' if args.phat else 'cross-correlation'}:")
        print(f"  delay       {_fmt(result.delay * args.fs, 3)} samples{unit}"
              f"  (positive: the first series comes later)")
        print(f"  peak        {_fmt(result.peak, 4)}")
        print(f"  confidence  {_fmt(result.confidence, 2) if math.isfinite(result.confidence) else 'inf'}"
              "  (peak / next peak)")
    if plt is not None:
        fig, ax = plt.subplots(1, 1, figsize=(9, 4))
        plot_delay(ax, x, y, args.fs, result, args.phat, f"{sx} vs {sy}")
        fig.tight_layout()
        _save(fig, args.plot)
    return 0


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def cmd_demo(args) -> int:
    plt = _pyplot() if args.plot else None
    image, template = read_image(SAMPLE_IMAGE), read_image(SAMPLE_TEMPLATE)
    matches = run_match(image, template)
    m_record = match_record(matches)
    x, source = read_series(SAMPLE_SERIES)
    result, acf = run_period(x)
    p_record = period_record(result)
    if args.json:
        print(json.dumps({**m_record, **p_record}))
    else:
        found = tuple(m_record["matches"][0]["position"]) if m_record["matches"] else None
        verdict = "correct" if found == SAMPLE_TEMPLATE_POSITION else "WRONG"
        print(f"== match: a {template.shape[0]}x{template.shape[1]} crop of a NASA photograph "
              f"(cut at {SAMPLE_TEMPLATE_POSITION}) found at {found}: {verdict}")
        print(match_table(m_record, image, template, "ccoeff_normed"))
        print()
        print("== period: yearly sunspot numbers 1700-2008 (the solar cycle is about 11 years)")
        print(period_table(result, acf, x, 1.0, source))
    if plt is not None:
        fig = plt.figure(figsize=(11, 10))
        grid = fig.add_gridspec(3, 2, height_ratios=[2.2, 1, 1])
        plot_match([fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])],
                   image, template, matches, match_template(image, template), "ccoeff_normed")
        plot_period([fig.add_subplot(grid[1, :]), fig.add_subplot(grid[2, :])],
                    x, 1.0, result, acf, source + " (year index from 1700)")
        fig.tight_layout()
        _save(fig, args.plot)
    return 0


# ---------------------------------------------------------------------------
# warmup
# ---------------------------------------------------------------------------


def cmd_warmup(args) -> int:
    from ._warmup import warmup

    info = warmup(args.processes, progress=True)
    where = info["cache"] or "nowhere (no writable cache folder: set NUMBA_CACHE_DIR)"
    if args.json:
        print(json.dumps(info))
    else:
        print(f"sigcorr warmup: {info['kernels']} kernels compiled in {info['seconds']:.1f} s; cache: {where}")
    return 0


def cmd_calibrate(args) -> int:
    from . import calibrate

    return calibrate.run(args)


# ---------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


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
    parser = argparse.ArgumentParser(
        prog="sigcorr",
        description="Template matching and period detection on your files, "
        "on sigcorr's parallel Numba kernels.",
        epilog="Run 'sigcorr demo' to see both on the embedded sample data.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{match,period,delay,demo,warmup,calibrate}")

    p = sub.add_parser("match", help="find a template in an image",
                       description="Find TEMPLATE in IMAGE (PNG/JPEG/TIFF read as grayscale, or .npy). "
                       "Positions are the [row, col] of the match's top-left corner, best first. "
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
    p.add_argument("--threshold", type=float, default=None,
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

    from .calibrate import add_arguments

    p = sub.add_parser("calibrate", help="re-measure the cost model on this machine",
                       description="Time the operations whose prices choose between the direct and FFT "
                       "paths, store them in the user cache (costs.json) and print what changed.")
    add_arguments(p)
    p.set_defaults(func=cmd_calibrate)
    return parser


def main(argv=None) -> int:
    """Run the ``sigcorr`` command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("sigcorr: error: choose a command: match, period, delay, demo, warmup or calibrate", file=sys.stderr)
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


if __name__ == "__main__":
    raise SystemExit(main())
