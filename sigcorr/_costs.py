"""sigcorr's cost model: every constant a method choice uses, in one place.

``method="auto"`` (``convolve``, ``match_template``, ``autocorrelation`` and
everything built on them) picks the path with the smaller estimated time.
Each estimate is a count of work (multiply-adds, or FFT points times
log2(points)) times a *price*: nanoseconds per unit of work **on one core**;
the callers divide by the number of threads the path runs on.  Only the
ratios of prices matter to a choice, so prices measured on another machine
still choose well, but not best: ``sigcorr calibrate`` (or ``python -m
sigcorr.calibrate``) re-measures them here, the way FFTW stores its wisdom.

Two kinds of constants:

* **Prices** (:data:`CALIBRATED`): timings.  The defaults below were
  fitted to the break-even sizes of both paths on a 2-core AVX-512 x86-64
  machine (AMD EPYC; :data:`VENDOR_PRICES` holds what differs on Intel);
  ``sigcorr calibrate`` times each operation on its own (see
  :mod:`sigcorr.calibrate`, one function per group of prices) and writes
  the prices to a JSON file in the user cache, which :func:`get` loads on
  first use.  ``python benchmarks/bench_costs.py`` shows the time
  ``method="auto"`` loses against the faster method with the defaults and
  with the calibrated prices.
* **Shapes** of the plans (block lengths, the ratios at which a plan is
  worth considering, the tile sides): design choices that only bound where
  the prices are compared; they are not timings and are not calibrated.  To
  change one, time the paths on both sides of it with the benchmarks
  (``python benchmarks/run_all.py convolve``, ``match``, ``period``).

The cache file is ``$SIGCORR_COSTS`` if set, else
``$XDG_CACHE_HOME/sigcorr/costs.json`` (``~/.cache/sigcorr/costs.json``).
It holds one entry per machine (CPU name and core count) and sigcorr
version, so a home directory shared by different nodes keeps each node's
prices.  A missing, unreadable or stale file means the built-in defaults,
silently; a corrupt one too, after one warning.  Nothing is read at import
but the CPU vendor, which picks the built-in prices (:data:`VENDOR_PRICES`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import threading
import warnings

__all__ = ["Costs", "DEFAULTS", "CALIBRATED", "get", "reload", "load", "pinned", "cache_path", "machine", "machine_key"]

FORMAT = 1  # version of the file layout


@dataclasses.dataclass(frozen=True)
class Costs:
    """The cost model's constants (see the module docstring).

    Prices are ns per unit of work on one core; ``{4: ., 8: .}`` maps the
    real itemsize (float32, float64; complex uses its real part's) to a price.
    """

    # -- prices (calibrated) -------------------------------------------------
    # direct.corr_padded (convolve's and match's direct path): one
    # multiply-add of a real output tap.  Re-measured by
    # calibrate.direct_ns: wall time x threads / (outputs x taps), 1-D and
    # 2-D shapes near the direct/FFT break-even.  (match.py used to price the
    # same kernel {4: 0.04, 8: 0.07}: the same quantity on the whole 2-core
    # machine, as its comparison did not divide by the threads; tile_ns
    # below is per core too, twice match's old 0.18 and, for float64, 0.6 to
    # keep its old ratio 0.07 / 0.28, so match chooses as before.)
    direct_ns: dict = dataclasses.field(default_factory=lambda: {4: 0.08, 8: 0.15})
    # direct.corr_padded on volumes (convolve's direct path over three or more
    # axes): one multiply-add of a real output tap, one core; dearer than a
    # 2-D one (a volume's kernel rows are short, and every outer tap
    # reloads the output rows).  calibrate.direct_nd_ns: 'same' correlations
    # of a 64^3 cube (at the default size) with 3^3 and 5^3 kernels, wall x
    # threads / (outputs x taps).
    direct_nd_ns: dict = dataclasses.field(default_factory=lambda: {4: 0.5, 8: 0.55})
    # convolve's FFT path (convolve._fft_path, _fft.fftconv): one point x
    # log2(points) of one float64 real transform (three per convolution),
    # one core.  calibrate.fft_ns: one 1-D unbatched convolution of 2**17
    # points (a single transform runs on one core; a kernel long enough for
    # no overlap-save), minus fft_call_ns, / (3 x points x log2(points)).
    fft_ns: float = 0.9
    # the same for transforms batched over every core (overlap-save blocks,
    # 2-D, batched 1-D), per core: they scale with the cores only as far as
    # memory bandwidth allows.  calibrate.fft_ns: overlap-save of 2**17
    # samples and 100 taps, 2-D 512 x 512 and 11 x 11, (wall - fft_call_ns)
    # x threads / work.
    fft_parallel_ns: float = 0.9
    # float32 transforms' time relative to float64's.  calibrate.fft_ns.
    fft_f32: float = 0.6
    # fixed cost of one call of the FFT path (planning, allocation, the
    # spectra's product), ns.  calibrate.fft_ns: the path on 64 and 8 samples.
    fft_call_ns: float = 30_000.0
    # _fft.tiled_corr (match_template's FFT cross term): one unit of
    # _fft.tile_plan's cost, one core.  calibrate.tile_ns: tiled_corr of a
    # 512 x 512 image and 32 x 32 template, wall x threads / plan cost.
    tile_ns: dict = dataclasses.field(default_factory=lambda: {4: 0.36, 8: 0.6})
    # acf.acf_direct (autocorrelation's direct lag sums): one multiply-add.
    # calibrate.acf_ns: wall x threads / (series x n x lags).
    acf_direct_ns: float = 0.1
    # autocorrelation's scipy.fft path: one point x log2(points) of one
    # real transform (two per series).  calibrate.acf_ns.
    acf_fft_ns: float = 1.5
    # acf_fft.lag_sums_fft (the lane-vectorized FFT kernel): one unit of
    # acf_fft.plan's work, per pair of series.  calibrate.acf_ns.
    acf_lanes_ns: float = 0.25

    # -- shapes (not calibrated) ----------------------------------------------
    # complex direct convolution: four real products per complex one
    complex_direct: float = 4.0
    # complex transforms cost about two real ones of the same length
    complex_fft: float = 2.0
    # _fft.tile_plan: fixed cost of one tile transform, in points x log2(points)
    # (planning and per-transform set-up; favours fewer, larger tiles)
    tile_overhead: float = 40_000.0
    # _fft.tile_plan: the candidate tile sides (fast FFT lengths) ...
    tile_sides: tuple = (64, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1536, 2048)
    # ... of which those at least this much longer than the template (fewer
    # outputs per tile than that are not worth a transform)
    tile_min_margin: int = 8
    # acf_fft.plan: a direct multiply-add of the lags past the two-block
    # transforms' reach, in units of one FFT point x log2(points) of the
    # lane kernel (so it only shapes the lane kernel's plan)
    tail_mac: float = 0.3
    # overlap-save (_fft.overlap_save_block): blocks of a fast length of at
    # least this many kernel lengths, so that the m - 1 samples each block
    # discards are at most 1/8 of it ...
    overlap_save_taps: int = 8
    # ... and at least this long (short blocks cost more in per-transform set-up)
    overlap_save_min_block: int = 1024
    # ... used when the longer input spans at least this many blocks
    overlap_save_min_blocks: int = 4
    # convolve's N-D FFT path (_fft.fftconv, three or more axes): a whole
    # transform's spectrum of at most this many bytes; larger volumes are
    # convolved in slabs along the outermost convolved axis (overlap-save),
    # each slab's spectrum about this size, so memory stays bounded (a
    # 384^3 float32 volume matched with a 32^3 template grows the peak RSS by
    # 2.6x the volume's bytes beyond the output; 4.0x with 128 MiB slabs)
    fft_nd_slab_bytes: int = 64 << 20
    # _conv.lag_window_sums: the fewest samples per block of lag_window's
    # split sums (a series is split over the cores only in blocks this long)
    lag_block: int = 8192
    # autocorrelation of one long series up to lag L by blocks (period._block_sums)
    # when n > acf_block_taps x (L + 1), in blocks of that many samples ...
    acf_block_taps: int = 8
    # ... and at least this many
    acf_min_block: int = 4096
    # the lane FFT kernel: transforms of at most this length (its work
    # arrays, 4 MiB each per task, stay in cache) ...
    acf_lanes_max_n: int = 1 << 15
    # ... and at least this many tasks of acf_fft.LANES pairs per thread
    acf_lanes_tasks_per_thread: int = 2
    # detect_period and the scipy.fft lag sums: series x transform length
    # per chunk of series, so residuals and lag sums stay cache- and
    # heap-sized (large fresh arrays are page-faulted in on every call)
    acf_chunk_points: int = 512 * 1536
    # crosscorrelation and estimate_delay: samples per chunk of pairs, so
    # the demeaned copies stay cache-sized
    xcorr_chunk_points: int = 1 << 19
    # match.peaks.suppress: a dense grid of blocked cells (one byte each) for
    # maps of up to this many cells (or 64 per candidate); larger ones (a
    # chunked map's) block through a hash of the kept peaks' cells
    suppress_grid_cells: int = 1 << 26
    # match_template with a template stack: the product spectra of one
    # batch of templates, in bytes (about as much again for their inverse)
    match_group_bytes: int = 64 << 20
    # matched_filter's direct path (sigcorr._network.Bank.method): per window
    # and template channel, what the direct path spends beyond its
    # multiply-adds (the cross term written and read back by the stacking
    # kernel), ns on one core.  Not calibrated yet: read off
    # benchmarks/bench_network.py's break-even (float32, 10 templates x 3
    # channels x 100,000 samples: the paths tie at m = 16-32, the FFT 1.3x
    # faster at 64, 1.5x at 128; one channel of 1e6 samples, m = 40: FFT
    # 1.9x faster) on the Xeon of issue 27's session.
    network_direct_window_ns: float = 4.0
    # matched_filter's FFT path (sigcorr._network): the product spectra of
    # one batch of (template, channel, block) transforms, in bytes (their
    # inverse as much again); small enough to stay near the caches between
    # the product, the inverse transform and the stacking kernel
    network_group_bytes: int = 8 << 20
    # locate(pyramid_levels=): the pooled template stays at least this many
    # samples wide in every searched axis (fewer levels are used otherwise)
    pyramid_min_side: int = 8
    # sigcorr.dask.match_template: blocks (the user's chunks, merged with
    # their neighbours) at least this many template extents long along each
    # axis, since each block's FFT tiles also transform its halo (at 16
    # extents, 1024-chunks with a 64-template, that is 12% more work; at 32,
    # 6%) ...
    dask_halo_blocks: int = 32
    # ... unless a block would then hold more than this many bytes of image
    dask_block_bytes: int = 64 << 20
    # sigcorr.stream's pushes: a direct push of at most this many
    # multiply-adds (channels x chunk x taps) runs as one serial call
    # (_kernels.stream.corr_push: ~10 us at this size here), below the
    # parallel kernel's launch and the Python steps around it; larger ones
    # go to corr_padded (or the FFT) on every core
    stream_serial_macs: int = 1 << 18
    # stream.PeriodTracker's block pairs (_kernels.stream._add_block): one
    # direct multiply-add (lags.lag_band), ns on one core.  Not calibrated
    # yet: a 512-sample block's 525,000 multiply-adds (window 2048) take
    # 28-31 us on the Xeon of issue 28's fourth session
    track_mac_ns: float = 0.06
    # ... and one unit N log2(N) of the FFT path for blocks padded to N
    # points (a block's spectrum, or one band: the spectra's product, the
    # half-length inverse, the unpacking): N = 1024 (10,240 units) took
    # 3.0 us for a spectrum and 4.1 us for a band there
    track_fft_ns: float = 0.45


def _cpuinfo(*keys):
    """The value of the first line of /proc/cpuinfo that starts with one of
    ``keys`` (lower case), or None (no such line, or no such file)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(keys):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _vendor() -> str:
    """The CPU vendor (``vendor_id`` of /proc/cpuinfo), or "" where unknown."""
    return _cpuinfo("vendor_id") or ""


# The prices that differ on each vendor's machines from the defaults above
# (fitted on AMD EPYC), fitted the same way: to the break-even sizes of both
# paths.  On Intel Xeon (AVX-512) the direct kernels' FMA chains run about
# 1.5x faster against the FFTs (``sigcorr calibrate``: 0.053 ns per float32
# multiply-add there) and float64 FFT tiles cost more; match_template's
# direct path also pays the window statistics, so its price sits between:
# 16^2 templates go direct on 256^2 and 512^2 images (0.58 against 0.79 ms,
# 2.0 against 2.4 ms) and by FFT tiles on 1024^2 (7.0 against 7.5 ms).
VENDOR_PRICES = {
    "GenuineIntel": {"direct_ns": {4: 0.065, 8: 0.11}, "direct_nd_ns": {4: 0.25, 8: 0.27},
                     "tile_ns": {4: 0.38, 8: 0.82}},
}

DEFAULTS = dataclasses.replace(Costs(), **VENDOR_PRICES.get(_vendor(), {}))
# the fields sigcorr calibrate measures and the cache file may set
CALIBRATED = ("direct_ns", "direct_nd_ns", "fft_ns", "fft_parallel_ns", "fft_f32", "fft_call_ns", "tile_ns",
              "acf_direct_ns", "acf_fft_ns", "acf_lanes_ns")

_lock = threading.Lock()
_current: list = []  # [Costs] once loaded


def cache_path() -> str:
    """Where the calibrated prices are stored: ``$SIGCORR_COSTS``, else
    ``costs.json`` in ``$XDG_CACHE_HOME/sigcorr`` or ``~/.cache/sigcorr``."""
    env = os.environ.get("SIGCORR_COSTS")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sigcorr", "costs.json")


def _cpu_name() -> str:
    return _cpuinfo("model name", "hardware", "cpu model") or platform.processor() or platform.machine() or "unknown"


def _version() -> str:
    from ._version import __version__

    return __version__


def machine() -> dict:
    """The stamp of an entry: CPU name, core count, sigcorr version."""
    return {"cpu": _cpu_name(), "cores": os.cpu_count() or 1, "sigcorr": _version()}


def machine_key(stamp=None) -> str:
    s = machine() if stamp is None else stamp
    return f"{s['cpu']} | {s['cores']} cores | sigcorr {s['sigcorr']}"


class CorruptCosts(ValueError):
    """The cache file exists but is not a costs file."""


def _price(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise CorruptCosts(f"{name} = {value!r} is not a positive number")
    return float(value)


def _parse_values(values) -> dict:
    """The calibrated fields of an entry's ``costs``, checked."""
    if not isinstance(values, dict):
        raise CorruptCosts("costs is not an object")
    out = {}
    for name in CALIBRATED:
        if name not in values:
            continue
        default = getattr(DEFAULTS, name)
        v = values[name]
        if isinstance(default, dict):
            if not isinstance(v, dict) or {str(k) for k in default} != set(v):
                raise CorruptCosts(f"{name} must map {sorted(default)} to prices")
            out[name] = {k: _price(v[str(k)], f"{name}[{k}]") for k in default}
        else:
            out[name] = _price(v, name)
    return out


def read_file(path=None) -> dict:
    """The file's content (``{}`` when missing or unreadable); raises
    :class:`CorruptCosts` when it is not a costs file."""
    path = cache_path() if path is None else path
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise CorruptCosts(f"not JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise CorruptCosts("no 'entries' object")
    return data


def to_json(costs: Costs) -> dict:
    """The calibrated fields, JSON-ready."""
    out = {}
    for name in CALIBRATED:
        v = getattr(costs, name)
        out[name] = {str(k): x for k, x in v.items()} if isinstance(v, dict) else v
    return out


def load(path) -> Costs:
    """The model of this machine's entry in the file at ``path``, else the
    defaults (one warning if the file is corrupt)."""
    try:
        data = read_file(path)
        entry = data.get("entries", {}).get(machine_key()) if data else None
        if not isinstance(entry, dict) or data.get("format") != FORMAT:
            return DEFAULTS  # missing, or calibrated elsewhere / by another version
        return dataclasses.replace(DEFAULTS, **_parse_values(entry.get("costs")))
    except CorruptCosts as e:
        warnings.warn(f"sigcorr: ignoring the cost model in {path}: {e}; using the built-in defaults "
                      "(run `sigcorr calibrate` to rewrite it)", RuntimeWarning, stacklevel=3)
    except Exception as e:  # never fail a call over a cost file
        warnings.warn(f"sigcorr: ignoring the cost model in {path}: {e!r}", RuntimeWarning, stacklevel=3)
    return DEFAULTS


def get() -> Costs:
    """The cost model in use: this machine's calibrated prices if
    ``sigcorr calibrate`` stored some, else the defaults.  Read once, on the
    first call (at most one warning, for a corrupt file)."""
    if _current:
        return _current[0]
    with _lock:
        if not _current:
            _current.append(load(cache_path()))
    return _current[0]


def reload() -> Costs:
    """Forget the loaded model and read the file again (after calibrating,
    or after changing ``SIGCORR_COSTS``)."""
    with _lock:
        _current.clear()
    return get()


@contextlib.contextmanager
def pinned(costs=DEFAULTS):
    """Use ``costs`` (default: the built-in defaults) inside the ``with``
    block, process-wide, whatever the cache holds: for tests and for
    comparing models.  The previous model is restored on exit."""
    with _lock:
        saved = list(_current)
        _current[:] = [costs]
    try:
        yield costs
    finally:
        with _lock:
            _current[:] = saved
