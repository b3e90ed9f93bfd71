"""Files and units for the ``sigcorr`` command: everything the commands share.

Reading inputs (``.npy``, images through Pillow, CSV with or without a
header, date/time columns), putting a timestamped series on a regular grid
(:func:`regularize`), durations in natural units ("7.00 days"), number
formatting for tables and JSON, the paths of the embedded sample data and
the loaders of the optional dependencies (Pillow, matplotlib: the ``cli``
extra).  Every error a user can cause is a :class:`CliError`, which the
command prints as one line.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
import sys
from pathlib import Path

import numpy as np

# the sample data ship inside the package: sigcorr/data, beside this subpackage
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
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


def pil_image():
    """Pillow's ``Image`` module, or CliError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise CliError(f"reading images needs Pillow, part of the cli extra: {EXTRA_HINT}") from None
    return Image


def pyplot():
    """matplotlib's ``pyplot`` on the Agg backend (files, no display), or CliError naming the extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CliError(f"--plot needs matplotlib, part of the cli extra: {EXTRA_HINT}") from None
    return plt


def save_plot(fig, out):
    """Write ``fig`` to ``out`` and close it; CliError (one line) when the file cannot be written."""
    try:
        fig.savefig(out, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise CliError(f"{out}: cannot write the plot ({exc.strerror or exc})") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


# ---------------------------------------------------------------------------
# reading inputs
# ---------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    if not path.exists():
        if any(ch in str(path) for ch in "*?["):
            raise CliError(f"{path}: no file matches this pattern")
        raise CliError(f"{path}: no such file")
    if not path.is_file():
        raise CliError(f"{path}: not a regular file")


def file_error(path, exc) -> str:
    """The message of an error about ``path`` for a line or record that
    already names the file: the error's text without its leading
    ``"PATH: "`` (every CliError about a file starts with it), so the file
    is named once."""
    text = str(exc) or type(exc).__name__
    head = f"{path}: "
    return text[len(head):] if text.startswith(head) and len(text) > len(head) else text


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CliError(f"{path}: not a readable .npy file ({exc})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise CliError(f"{path}: expected a real numeric array, got dtype {getattr(arr, 'dtype', '?')}")
    return arr


def read_image(path) -> np.ndarray:
    """A 2-D float64 grayscale image from PNG/JPEG/TIFF (via Pillow) or ``.npy``.

    Parameters
    ----------
    path : str or Path
        An image file (colour is converted to grayscale; 16- and 32-bit
        pixels keep their depth) or a 2-D ``.npy`` array.

    Returns
    -------
    numpy.ndarray
        The image, float64.  A missing or unreadable file raises
        :class:`CliError` with a one-line message.

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_IMAGE, read_image
    >>> image = read_image(SAMPLE_IMAGE)
    >>> image.shape, image.dtype
    ((256, 256), dtype('float64'))
    """
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".npy":
        arr = _load_npy(path)
        if arr.ndim != 2:
            raise CliError(f"{path}: an image must be a 2-D array, got shape {arr.shape}")
        return arr.astype(np.float64)
    Image = pil_image()
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


def read_match_input(path) -> np.ndarray:
    """``read_image``, or a volume: a 3-D ``.npy`` array, or a TIFF stack of
    several pages (read with tifffile when installed, else page by page with
    Pillow, each page grayscale), as a (D, H, W) float64 array.

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_IMAGE
    >>> from sigcorr.cli._io import read_match_input
    >>> read_match_input(SAMPLE_IMAGE).shape
    (256, 256)
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = _load_npy(path)
        if arr.ndim not in (2, 3):
            raise CliError(f"{path}: an image must be a 2-D array or a volume a 3-D one, got shape {arr.shape}")
        return arr.astype(np.float64)
    if suffix in (".tif", ".tiff"):
        pages = _tiff_pages(path)
        if pages is not None and pages.ndim == 3 and pages.shape[0] > 1:
            return pages
    return read_image(path)


def _tiff_pages(path: Path):
    """Every page of a TIFF file as a (D, H, W) float64 stack, or None when it
    cannot be read as one (then it is read as a single image)."""
    try:
        import tifffile
    except ImportError:
        tifffile = None
    if tifffile is not None:
        try:
            arr = np.asarray(tifffile.imread(path), dtype=np.float64)
        except Exception:  # noqa: BLE001 - any reader failure: fall back to Pillow
            arr = None
        if arr is not None and arr.ndim == 3:
            return arr
    Image = pil_image()
    try:
        with Image.open(path) as img:
            n = getattr(img, "n_frames", 1)
            if n < 2:
                return None
            pages = []
            for k in range(n):
                img.seek(k)
                page = img if (img.mode in ("I", "F") or img.mode.startswith("I;16")) else img.convert("L")
                pages.append(np.asarray(page, dtype=np.float64))
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CliError(f"{path}: cannot read as an image ({exc})") from None
    if len({p.shape for p in pages}) != 1:
        raise CliError(f"{path}: the TIFF pages differ in size, not a volume")
    return np.stack(pages)


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

    Parameters
    ----------
    path : str or Path
        CSV: the first row is a header when any of its cells is neither a
        number nor a date; empty or "nan" cells are missing samples (NaN).
        ``.npy``: a 1-D array (or one row/column).
    column : str, optional
        A CSV column by header name (or by 0-based index); default the last
        column whose cells are all numbers.

    Returns
    -------
    x : numpy.ndarray
        The series, float64.
    label : str
        The file and column it came from.  (:func:`read_timed_series` also
        reads a date/time column.)

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_SERIES, read_series
    >>> x, label = read_series(SAMPLE_SERIES)
    >>> x.shape, label
    ((309,), "sunspots.csv, column 'sunspots'")
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
    """:func:`read_series` plus the CSV's date/time column, if it has one.

    Parameters
    ----------
    path, column
        As :func:`read_series`.

    Returns
    -------
    x, label
        As :func:`read_series`.
    times : numpy.ndarray or None
        datetime64[ns] beside ``x``, from the first column whose cells are
        all dates (not numbers: a column of years stays a number); None
        without one.

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_SERIES, read_timed_series
    >>> x, label, times = read_timed_series(SAMPLE_SERIES)
    >>> times is None  # its years are numbers
    True
    """
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
        worst = None  # (numbers in the column, column, its first non-numeric cell)
        for j in range(width - 1, -1, -1):
            x, bad = values(j)
            if x is not None:
                break
            count = sum(_float_or_none(row[j] if j < len(row) else "") is not None for row in rows)
            if worst is None or count > worst[0]:
                worst = (count, j, bad)
        else:
            count, j, (lineno, cell) = worst
            what = "a number column but for" if count else "every column holds non-numeric values, e.g."
            raise CliError(f"{path}: no numeric column ({what} {cell!r} in column {names[j]!r} at line {lineno}; "
                           "fix the cell, or leave it empty for a missing sample)")
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
    irregular: bool = False  # irregular timestamps: ``seconds`` is their median interval

    def describe(self) -> str:
        if self.irregular:
            return f"irregular timestamps from {self.start}, median interval {_step_text(self.seconds)}"
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
    """Put a timestamped series on its regular grid, NaN in the gaps.

    Parameters
    ----------
    x : numpy.ndarray
        The values.
    times : numpy.ndarray
        Their timestamps, datetime64 (any order).
    path_name : str
        The file, for the messages.

    Returns
    -------
    x : numpy.ndarray
        The values on the grid, NaN where a timestamp is missing.
    sampling : Sampling
        The grid's step (calendar months for monthly, quarterly and yearly
        data) and start.  Timestamps that are not regular raise
        :class:`CliError` (one line, with a hint to resample).

    Examples
    --------
    >>> import numpy as np
    >>> times = np.array(["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T03:00"], dtype="datetime64[ns]")
    >>> y, sampling = regularize(np.array([1.0, 2.0, 3.0]), times)
    >>> y.tolist()
    [1.0, 2.0, nan, 3.0]
    >>> sampling.describe()
    'one sample every 1 hour from 2024-01-01, 1 missing in gaps'
    """
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


def average_repeats(x, times):
    """Values at the same timestamp averaged (NaN ones left out): ``(x,
    times, repeated)``, sorted by time, ``repeated`` the rows merged away.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["2024-01-01", "2024-01-02", "2024-01-01"], dtype="datetime64[ns]")
    >>> y, tt, k = average_repeats(np.array([1.0, 5.0, 3.0]), t)
    >>> y.tolist(), k
    ([2.0, 5.0], 1)
    """
    order = np.argsort(times, kind="stable")
    times, x = times[order], x[order]
    uniq, start = np.unique(times, return_index=True)
    if uniq.size == times.size:
        return x, times, 0
    ok = np.isfinite(x)
    sums = np.add.reduceat(np.where(ok, x, 0.0), start)
    counts = np.add.reduceat(ok.astype(np.int64), start)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, uniq, int(times.size - uniq.size)


def irregular_sampling(times):
    """(seconds from the first timestamp, Sampling) of sorted irregular
    timestamps: the sampling step is their median interval."""
    ns = times.astype(np.int64)
    seconds = (ns - ns[0]) / 1e9
    d = np.diff(seconds)
    d = d[d > 0]
    step = float(np.median(d)) if d.size else 1.0
    return seconds, Sampling(step, 0, _when(times[0]), 0, True)


def _fill(x, k, path_name, hint):
    n = int(k[-1]) + 1
    if n > _MAX_FILL * len(x):
        raise CliError(f"{path_name}: the timestamps leave more gaps than samples ({len(x)} samples "
                       f"over {n} intervals); {hint}")
    out = np.full(n, np.nan)
    out[k] = x
    return out


def natural_units(seconds, months=0) -> str:
    """A duration in the largest unit that shows it as 2 or more.

    Parameters
    ----------
    seconds : float
        The duration ("-" when not finite).
    months : int
        Non-zero when the data are sampled by calendar months: the duration
        is then told in months, or years from 24 months on.

    Returns
    -------
    str
        Three significant digits and the unit ("7.00 days", "52.2 weeks",
        "24.0 hours", "12.0 months", "11.0 years").

    Examples
    --------
    >>> natural_units(7 * 86400), natural_units(11 * 365.2425 * 86400, months=12)
    ('7.00 days', '11.0 years')
    """
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


def num(v):
    """A JSON-safe number: None (JSON null) for NaN and infinities.

    Examples
    --------
    >>> num(0.5), num(float("nan"))
    (0.5, None)
    """
    v = float(v)
    return v if math.isfinite(v) else None


def fmt(v, digits=4):
    """``v`` with at most ``digits`` decimals and no trailing zeros; "n/a" if not finite.

    Examples
    --------
    >>> fmt(3.14159265), fmt(-0.00001), fmt(float("inf"))
    ('3.1416', '0', 'n/a')
    """
    v = float(v)
    if not math.isfinite(v):
        return "n/a"
    if abs(v) >= 1e6:
        return f"{v:.{digits}g}"
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text  # a value that rounds to zero prints without a sign


def progress_bar(total, unit, desc):
    """A tqdm progress bar on stderr when stderr is a terminal (and tqdm is
    installed: the ``cli`` extra), else None."""
    import sys

    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr)


@dataclasses.dataclass
class Channels:
    """Multichannel data read for ``sigcorr detect``: ``data`` (C, N) float
    (NaN: missing), the sampling rate and start time when the file has them
    (miniSEED), and a name per channel."""

    data: np.ndarray
    fs: float | None
    start: object  # an obspy UTCDateTime, or None
    names: list


MSEED_SUFFIXES = {".mseed", ".miniseed", ".ms", ".seed"}


def read_npy(path) -> np.ndarray:
    """A real numeric array from a ``.npy`` file (a :class:`CliError` otherwise)."""
    path = Path(path)
    _check_file(path)
    return _load_npy(path)


def read_channels(path) -> Channels:
    """Channels of ``path``: ``.npy`` (C, N) or (N,); CSV, one column per
    channel (header optional, empty cells missing, non-numeric columns
    skipped); miniSEED (``.mseed``, ``.miniseed``, ``.ms``) through ObsPy
    (the ``seismo`` extra): traces merged per channel id (the channels in
    the order their ids first appear in the file), gaps as NaN, cut to the
    span every channel covers, one sampling rate.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("e,n\\n1,2\\n3,\\n5,6\\n")
    >>> ch = read_channels(p)
    >>> ch.data.tolist(), ch.names
    ([[1.0, 3.0, 5.0], [2.0, nan, 6.0]], ['e', 'n'])
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = _load_npy(path)
        if arr.ndim not in (1, 2) or arr.size == 0:
            raise CliError(f"{path}: expected a (channels, samples) array, got shape {arr.shape}")
        arr = arr[None] if arr.ndim == 1 else arr
        return Channels(arr, None, None, [str(i) for i in range(arr.shape[0])])
    if suffix in MSEED_SUFFIXES:
        return _read_mseed(path)
    rows = _csv_rows(path)
    header = [c for c in rows[0]]
    has_header = any(_float_or_none(c) is None for c in header)
    body = rows[1:] if has_header else rows
    ncol = max(len(r) for r in body) if body else 0
    cols, names = [], []
    for j in range(ncol):
        vals = [_float_or_none(r[j]) if j < len(r) else math.nan for r in body]
        if any(v is None for v in vals):
            continue  # a text or date column
        cols.append(vals)
        names.append(header[j] if has_header and j < len(header) else str(j))
    if not cols or not body:
        raise CliError(f"{path}: no numeric column")
    return Channels(np.array(cols, dtype=np.float64), None, None, names)


def _read_mseed(path: Path) -> Channels:
    try:
        import obspy
    except ImportError:
        raise CliError(f'{path}: reading miniSEED needs ObsPy: pip install "sigcorr[seismo]"') from None
    try:
        st = obspy.read(str(path))
    except Exception as exc:  # ObsPy raises many kinds for a bad file
        raise CliError(f"{path}: not a readable miniSEED file ({exc})") from None
    rates = {float(tr.stats.sampling_rate) for tr in st}
    if len(rates) != 1:
        raise CliError(f"{path}: the channels have different sampling rates {sorted(rates)}; resample them first")
    order = list(dict.fromkeys(tr.id for tr in st))  # the channels in the file's order
    st.merge(fill_value=None)  # gaps: masked samples
    start = max(tr.stats.starttime for tr in st)
    end = min(tr.stats.endtime for tr in st)
    if end <= start:
        raise CliError(f"{path}: the channels share no time span")
    st.trim(start, end, pad=True, fill_value=None, nearest_sample=True)
    traces = sorted(st, key=lambda tr: order.index(tr.id))
    n = min(tr.stats.npts for tr in traces)
    data = np.full((len(traces), n), np.nan)
    for i, tr in enumerate(traces):
        d = np.ma.masked_invalid(np.ma.asarray(tr.data[:n], dtype=np.float64))
        data[i] = d.filled(np.nan)
    return Channels(data, rates.pop(), traces[0].stats.starttime, [tr.id for tr in traces])


# ---------------------------------------------------------------------------
# values from stdin, as they arrive (match --stream, period --follow)
# ---------------------------------------------------------------------------


def stdin_rows(lines, column=None):
    """One float64 array per input line, as the lines arrive: a line holds
    one value or one CSV row (commas, semicolons, tabs or spaces); blank
    lines and ``#`` comments are skipped, a first line that is not numbers
    is a header, an empty or "nan" cell is a missing sample (NaN).
    ``column``: one column by header name or 0-based index (the row then
    holds that value alone); every row must have as many cells as the first.

    Examples
    --------
    >>> [r.tolist() for r in stdin_rows(["time,a,b", "0,1.5,2", "1,,4"], column="b")]
    [[2.0], [4.0]]
    >>> [r.tolist() for r in stdin_rows(["3", "nan", "4.5"])]
    [[3.0], [nan], [4.5]]
    """
    header, width, pick = None, None, None
    for k, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        cells = re.split(r"[,;\t]", text) if re.search(r"[,;\t]", text) else text.split()
        values = [_float_or_none(c) for c in cells]
        if any(v is None for v in values):
            if header is None and width is None:
                header = [c.strip() for c in cells]
                continue
            raise CliError(f"stdin line {k}: not a number in {text!r}")
        if width is None:
            width = len(values)
            if column is not None:
                pick = _stdin_column(column, header, width)
        elif len(values) != width:
            raise CliError(f"stdin line {k}: {len(values)} values, but the first row had {width}")
        row = np.array(values, dtype=np.float64)
        yield row if pick is None else row[pick:pick + 1]


def _stdin_column(column, header, width):
    if header is not None and column in header:
        return header.index(column)
    try:
        index = int(column)
    except ValueError:
        raise CliError(f"no column {column!r} on stdin (header: {header})") from None
    if not -width <= index < width:
        raise CliError(f"column {index} out of range: stdin rows have {width} values")
    return index % width


def serve(rows, step):
    """The loop of a streaming command: each row (from :func:`stdin_rows`)
    given to ``step``, which returns the lines it completes; they are
    printed and flushed at once.  A reader that leaves (``| head``) ends the
    loop quietly."""
    out = sys.stdout
    try:
        for row in rows:
            lines = step(row)
            if lines:
                out.write("".join(lines))
                out.flush()
    except BrokenPipeError:
        # stdout pointed at the null device, so the interpreter's last flush stays silent
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
