"""Re-measure sigcorr's cost model on this machine: ``python -m sigcorr.calibrate``
(or ``sigcorr calibrate``).

Each price of :mod:`sigcorr._costs` is timed on the operation it prices, on
inputs near the sizes where the choice it feeds is close (a price matters
only there), best of several rounds, and converted to nanoseconds per unit
of work on one core (wall time x the threads the model divides by).  The
prices are written to the user cache (:func:`sigcorr._costs.cache_path`) as
this machine's entry; sigcorr reads them on its next first use.  A few
seconds with the kernels compiled (a kernel not in the cache yet is
compiled first, which takes longer); ``--quick`` measures small inputs
twice, for tests.

The measurement is only as good as the machine is quiet: close other heavy
work first, and run it again after a CPU, core-count or sigcorr upgrade
(entries are stamped with all three, and an entry for another stamp is
ignored).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import scipy.fft as sfft

from . import _costs
from ._runtime import threads

__all__ = ["measure", "calibrate", "main"]


def _best(rounds, func, *args):
    """Best wall seconds of ``func(*args)`` over ``rounds`` calls, after one
    untimed call (which compiles or loads the kernel, and warms caches)."""
    func(*args)
    best = math.inf
    for _ in range(rounds):
        t = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - t)
    return best


def _rng():
    return np.random.default_rng(1234)


def fft_ns(size, rounds):
    """convolve's FFT path (``convolve.fft_path``: the finiteness checks,
    then ``_fft.fftconv`` or ``_fft.overlap_save``), float64 unless said:

    * ``fft_call_ns``: the fixed cost of a call, ns (inputs of 64 and 8
      samples);
    * ``fft_ns``: one point x log2(points) of a single transform (one 1-D
      convolution of 2**size points, three transforms, on one core as a
      single 1-D transform runs; a kernel long enough for no overlap-save);
    * ``fft_parallel_ns``: the same, per core, for transforms batched over
      every core: the geometric mean of overlap-save (2**size samples, 100
      taps) and a 2-D convolution (2**(size // 2 + 1) pixels a side, 11 x 11);
    * ``fft_f32``: float32's time relative to float64's, the geometric mean
      over the three shapes.

    Each time less the fixed cost is divided by the work
    ``convolve._estimated_times`` counts for it."""
    from . import _fft
    from ._conv import fft_path

    rng = _rng()
    nthreads = threads()
    fixed = _best(4 * rounds, fft_path, rng.standard_normal(64), rng.standard_normal(8), 1, "full") * 1e9
    ratios = []

    def transforms(a, k, nd):
        # the float64 time less the fixed cost (kept above a tenth of the
        # call, in case the fixed cost was overestimated); float32's ratio
        out = []
        for dt in (np.float64, np.float32):
            t = _best(rounds, fft_path, a.astype(dt), k.astype(dt), nd, "full") * 1e9
            out.append(max(t - fixed, 0.1 * t))
        ratios.append(out[1] / out[0])
        return out[0]

    N = 1 << size
    m = min(4096, N // 2)
    single = transforms(rng.standard_normal(N - m + 1), rng.standard_normal(m), 1) / (3 * N * math.log2(N))
    m = 100
    L = _fft.overlap_save_block(m)
    blocks = -(-(N + m - 1) // (L - m + 1))
    parallel = [transforms(rng.standard_normal(N), rng.standard_normal(m), 1) * nthreads
                / (2 * blocks * L * math.log2(L))]
    side, m = 1 << (size // 2 + 1), 11
    P = (side + m - 1) ** 2
    parallel.append(transforms(rng.standard_normal((side, side)), rng.standard_normal((m, m)), 2) * nthreads
                    / (3 * P * math.log2(P)))
    return {"fft_call_ns": fixed, "fft_ns": single, "fft_parallel_ns": _geomean(parallel),
            "fft_f32": _geomean(ratios)}


def _geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def direct_ns(size, rounds):
    """``direct.corr_padded`` on planes, ns per multiply-add on one core, float32 and
    float64: the mean of a 1-D 'same' convolution (2**size samples, 63 taps)
    and a 2-D one (a square image of 2**(size // 2 + 1) pixels a side, 9 x 9
    kernel): the shapes whose choice between direct and FFT is close."""
    from ._kernels import direct as kdirect

    nthreads = threads()
    rng = _rng()
    out = {}
    for dt in (np.float32, np.float64):
        prices = []
        n1 = 1 << size
        side = 1 << (size // 2 + 1)
        for ishape, kshape in (((1, 1, n1), (1, 1, 63)), ((1, side, side), (1, 9, 9))):
            img = rng.standard_normal(ishape).astype(dt)
            ker = rng.standard_normal(kshape).astype(dt)
            res = np.empty(ishape, dtype=dt)  # 'same': the input's shape
            pads = (kshape[1] // 2, kshape[2] // 2)
            planes = (img[:, None], ker[:, None], res[:, None]) + (np.empty(0, np.int64),) * 4
            t = _best(rounds, kdirect.corr_padded, *planes, pads[0], pads[1])
            prices.append(t * 1e9 * nthreads / (res.size * kshape[1] * kshape[2]))
        out[np.dtype(dt).itemsize] = float(np.mean(prices))
    return {"direct_ns": out}


def direct_nd_ns(size, rounds):
    """``direct.corr_padded`` on volumes, ns per multiply-add on one core,
    float32 and float64: the mean of 'same' correlations of a cube of
    2**(size // 3 + 1) samples a side with 3 x 3 x 3 and 5 x 5 x 5 kernels
    (the short rows of a volume's kernel taps make a volume's multiply-add
    dearer than a 2-D one's)."""
    from ._kernels import direct as kdirect

    nthreads = threads()
    rng = _rng()
    side = 1 << (size // 3 + 1)
    out = {}
    for dt in (np.float32, np.float64):
        prices = []
        for m in (3, 5):
            img = rng.standard_normal((1, side, side, side)).astype(dt)
            ker = rng.standard_normal((1, m, m, m)).astype(dt)
            res = np.empty_like(img)
            outer = [np.array([v], dtype=np.int64) for v in (side, m, side, m // 2)]
            t = _best(rounds, kdirect.corr_padded, img, ker, res, *outer, m // 2, m // 2)
            prices.append(t * 1e9 * nthreads / (res.size * m ** 3))
        out[np.dtype(dt).itemsize] = float(np.mean(prices))
    return {"direct_nd_ns": out}


def tile_ns(size, rounds):
    """``_fft.tiled_corr`` (match_template's FFT cross term), ns per unit of
    ``_fft.tile_plan``'s cost on one core: a square image of
    2**(size // 2 + 1) pixels a side, a 32 x 32 template (16 x 16 when
    small)."""
    from . import _fft

    nthreads = threads()
    rng = _rng()
    side = 1 << (size // 2 + 1)
    t_side = 32 if side >= 256 else 16
    out = {}
    for dt in (np.float32, np.float64):
        img = rng.standard_normal((side, side)).astype(dt)
        tpl = rng.standard_normal((1, t_side, t_side)).astype(dt)
        plan = _fft.tile_plan(img.shape, tpl.shape[1:])
        H, W = _fft.tile_padded_shape(img.shape, tpl.shape[1:], plan)
        padded = np.zeros((1, H, W), dtype=dt)
        padded[0, :side, :side] = img
        t = _best(rounds, _fft.tiled_corr, padded, tpl, plan)
        out[np.dtype(dt).itemsize] = t * 1e9 * nthreads / plan[0]
    return {"tile_ns": out}


def acf_ns(size, rounds):
    """autocorrelation's three lag-sum paths, ns per unit of work on one
    core: ``acf.acf_direct`` per multiply-add (``acf_direct_ns``), the
    scipy.fft path per point x log2(points) of a transform
    (``acf_fft_ns``, 8 series), the lane FFT kernel per unit of
    ``acf_fft.plan``'s work per pair of series (``acf_lanes_ns``)."""
    from . import _lagsums
    from ._kernels import acf as kacf
    from ._kernels import acf_fft as kfft

    nthreads = threads()
    rng = _rng()
    c = _costs.get()
    n, L = 1 << (size - 4), 100
    B = 2 * nthreads
    y = rng.standard_normal((B, n))
    res = np.empty((B, L + 1))
    t = _best(rounds, kacf.acf_direct, y, L, res)
    direct = t * 1e9 * nthreads / (B * n * (L + 1))

    y8 = rng.standard_normal((8, n))
    N = sfft.next_fast_len(n + L, True)
    t = _best(rounds, _lagsums.auto_sums, y8, L, "fft")
    fft = t * 1e9 * nthreads / (2 * 8 * N * math.log2(N))

    nl = max(256, n // 8)
    B = 4 * kfft.LANES * nthreads
    y = rng.standard_normal((B, nl))
    res = np.empty((B, L + 1))
    Nf, two, L_fft, work = kfft.plan(nl, L, c.tail_mac)
    t = _best(rounds, kfft.lag_sums_fft, y, L, False, False, False, res, np.empty(B), Nf, two, L_fft)
    lanes = t * 1e9 * nthreads / ((B / 2) * work)
    return {"acf_direct_ns": direct, "acf_fft_ns": fft, "acf_lanes_ns": lanes}


MEASUREMENTS = (fft_ns, direct_ns, direct_nd_ns, tile_ns, acf_ns)


def measure(quick=False, progress=None) -> _costs.Costs:
    """Time every price on this machine; returns the model with them (the
    shapes of the plans are the defaults').  ``quick``: small inputs, few
    rounds (seconds; for tests, not for use)."""
    size, rounds = (12, 2) if quick else (17, 25)
    values = {}
    for step in MEASUREMENTS:
        if progress:
            progress(step.__name__)
        values.update(step(size, rounds))
    values = {k: ({i: float(x) for i, x in v.items()} if isinstance(v, dict) else float(v))
              for k, v in values.items()}
    return dataclasses.replace(_costs.DEFAULTS, **values)


def store(costs, path=None) -> str:
    """Write ``costs`` as this machine's entry of the cost file at ``path``
    (default :func:`sigcorr._costs.cache_path`), keeping the other machines'
    entries (a corrupt file is replaced); returns the path."""
    path = _costs.cache_path() if path is None else path
    try:
        data = _costs.read_file(path)
    except _costs.CorruptCosts:
        data = {}
    entries = data.get("entries", {}) if data.get("format") == _costs.FORMAT else {}
    stamp = _costs.machine()
    entries[_costs.machine_key(stamp)] = {
        **stamp,
        "measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "costs": _costs.to_json(costs),
    }
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".costs-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": _costs.FORMAT, "entries": entries}, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)  # readers see the old file or the new one, never half
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def changes(old, new):
    """Rows (name, old, new) of every price, per itemsize for the dict ones."""
    rows = []
    for name in _costs.CALIBRATED:
        a, b = getattr(old, name), getattr(new, name)
        if isinstance(a, dict):
            rows.extend((f"{name}[{k}]", a[k], b[k]) for k in a)
        else:
            rows.append((name, a, b))
    return rows


def calibrate(quick=False, path=None, out=sys.stdout) -> dict:
    """Measure, store and load this machine's prices; print where and what
    changed (to ``out``; None prints nothing).  Returns ``{"path": ...,
    "seconds": ..., "costs": {...}, "previous": {...}}``."""
    say = (lambda text: print(text, file=out, flush=True)) if out is not None else (lambda text: None)
    old = _costs.load(_costs.cache_path() if path is None else path)
    start = time.perf_counter()
    say(f"sigcorr calibrate: timing the cost model on {_costs.machine_key()} ...")
    new = measure(quick, progress=lambda name: say(f"  {name}"))
    path = store(new, path)
    seconds = time.perf_counter() - start
    say(f"stored in {path} ({seconds:.1f} s)")
    say(f"  {'price (ns per unit, one core)':32s} {'before':>10s} {'now':>10s}  ratio")
    for name, a, b in changes(old, new):
        say(f"  {name:32s} {a:10.4g} {b:10.4g}  {b / a:5.2f}")
    if path == _costs.cache_path():
        _costs.reload()
        say("sigcorr uses these prices from its next start (delete the file for the built-in defaults)")
    return {"path": path, "seconds": seconds, "costs": _costs.to_json(new), "previous": _costs.to_json(old)}


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true",
                        help="small inputs, few rounds: seconds instead of tens, for tests (imprecise)")
    parser.add_argument("--output", metavar="FILE", default=None,
                        help="the file to write (default: $SIGCORR_COSTS, else costs.json in "
                        "$XDG_CACHE_HOME/sigcorr or ~/.cache/sigcorr)")
    parser.add_argument("--json", action="store_true", help='print {"path": ..., "seconds": s, "costs": {...}, '
                        '"previous": {...}} instead of the table')
    return parser


def run_command(args) -> int:
    """The ``sigcorr calibrate`` / ``python -m sigcorr.calibrate`` command."""
    info = calibrate(args.quick, args.output, out=None if args.json else sys.stdout)
    if args.json:
        print(json.dumps(info))
    return 0


def main(argv=None) -> int:
    parser = add_arguments(argparse.ArgumentParser(prog="python -m sigcorr.calibrate",
                                                   description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except OSError as exc:  # the cache folder cannot be written
        print(f"sigcorr calibrate: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
