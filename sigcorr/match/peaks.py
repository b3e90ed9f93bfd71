"""Peaks of score maps: the ``Matches`` type, ``find_matches``, and the one
home of the peak rules every search uses (``sigcorr.locate``, its pyramid and
scale/angle search, and ``sigcorr.dask.find_matches``):

* :func:`gains`: scores as a maximization (minimizing methods negated, NaN
  and infinities at -inf, never a match);
* :func:`suppress`: best first (ties in raster order, then by template),
  greedy non-maximum suppression in a square window;
* :func:`max_filter`, :func:`nonzero3`: the peak test's array passes;
* :func:`refine`, :func:`refine_best`: sub-pixel parabola fits;
* :func:`best_peak`, :func:`cells_best`: a map's best score as its one match.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .. import _costs, _twins, _validate
from .._kernels import peaks as _kpeaks
from .._runtime import run, serialized_if_needed

__all__ = ["Matches", "find_matches"]


@dataclasses.dataclass(frozen=True)
class Matches:
    """Matches found in a score map, best first.

    Attributes
    ----------
    positions : ndarray, shape (k, ndim), float
        Position of each match: the index of the score (the window's top-left
        corner in the image for ``pad_input=False``), refined to sub-pixel
        precision when asked for.
    scores : ndarray, shape (k,)
        The score at each match.
    centers : ndarray, shape (k, ndim), float
        The matched object's centre, (row, col): ``positions + (t - 1) / 2``
        (t the template's size per axis) from :func:`locate`; from
        :func:`find_matches`, which does not know the template, the score's
        index itself (the centre for ``pad_input=True`` maps).
    template : ndarray, shape (k,), int
        Index of the matching template in a template stack (0 without one).
    scales, angles : ndarray, shape (k,), float
        Scale and rotation (degrees) of the template at each match
        (1.0 and 0.0 without a scale/angle search).

    ``Matches(positions, scores)`` fills the other fields with those defaults.
    """

    positions: np.ndarray
    scores: np.ndarray
    centers: np.ndarray = None
    template: np.ndarray = None
    scales: np.ndarray = None
    angles: np.ndarray = None

    def __post_init__(self):
        k = len(self.scores)
        defaults = {
            "centers": lambda: np.array(self.positions, dtype=np.float64, copy=True),
            "template": lambda: np.zeros(k, dtype=np.int64),
            "scales": lambda: np.ones(k),
            "angles": lambda: np.zeros(k),
        }
        for name, make in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, make())

    def __len__(self):
        return len(self.scores)

    @property
    def times(self):
        """The sample index of each match along the last axis (its time, in
        the 1-D score rows of ``matched_filter``), as int64."""
        return np.rint(self.positions[:, -1]).astype(np.int64) if len(self) else np.empty(0, dtype=np.int64)

    def __iter__(self):
        return iter(zip(map(tuple, self.positions.tolist()), self.scores.tolist()))

    def __repr__(self):
        rows = ", ".join(f"{tuple(round(v, 3) for v in p)}: {s:.4g}" for p, s in list(self)[:5])
        more = f", ... ({len(self)} in all)" if len(self) > 5 else ""
        return f"Matches({rows}{more})"


@serialized_if_needed
def find_matches(scores, *, threshold=None, max_matches=None, min_distance=1, maximize=True, subpixel=False,
                 volume=False, rows=False, across=False):
    """The peaks of a score map, best first, with non-maximum suppression.

    A peak is a finite score that is the best of the (2 * min_distance + 1)
    wide window around it and, without a threshold, above the map's minimum
    (as ``skimage.feature.peak_local_max``: a flat map has no peak), unless it
    is the map's only finite score (a 1 x 1 map, from a template as large as
    the image, has its one score as its match); peaks are
    then taken best first, and each one taken blocks the square window of
    half-width ``min_distance`` around it, so no two matches are within
    ``min_distance`` of each other in every axis.

    Parameters
    ----------
    scores : array_like, 1-D or 2-D
        NaN scores are never matches.
    threshold : float, optional
        Keep scores >= threshold (<= for ``maximize=False``); NaN is refused.
    max_matches : int, optional
        At most this many matches (default: all).
    min_distance : int
        Suppression half-width, >= 1; one at least as wide as the map (its
        largest side - 1) means "one match" and is clamped to that.
    maximize : bool
        True for similarity scores, False for distances (``sqdiff``).
    subpixel : bool
        Refine each position by a parabola through the peak and its two
        neighbours, per axis (offset within +-0.5).
    volume : bool
        True: ``scores`` is the 3-D map of a volume (``match_template(...,
        channel_axis=None)``), or a 4-D stack of them (T, D, H, W), rather
        than a stack of 2-D maps: peaks, suppression (a cube of half-width
        ``min_distance``) and sub-voxel fits run over all three axes, and
        ``.positions`` is (k, 3).
    rows : bool
        True: ``scores`` is a stack of 1-D score rows (T, N), one per
        template, as :func:`matched_filter` returns (or one row (N,)):
        peaks along each row, ``min_distance`` in samples, ``threshold``
        a number or one per row (e.g. :func:`mad_threshold`'s; a NaN one
        gives its row no match), and ``.template`` the row of each match,
        ``.times`` its sample.  The rows are searched independently (each
        template keeps its own detections, as EQcorrscan's rule), unless
        ``across``.
    across : bool
        With ``rows``: one suppression across the rows too (a match blocks
        the other templates' within ``min_distance`` samples).

    Returns
    -------
    Matches

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> s = np.zeros((20, 20)); s[5, 5] = 1.0; s[5, 7] = 0.9; s[15, 12] = 0.8
    >>> m = sigcorr.find_matches(s, min_distance=3)
    >>> m.positions.tolist(), m.scores.tolist()
    ([[5.0, 5.0], [15.0, 12.0]], [1.0, 0.8])
    """
    arr = _validate.as_numeric_array(scores, "scores", allow_complex=False)
    if _validate.check_flag(rows, "rows"):
        across = _validate.check_flag(across, "across")
        if arr.ndim not in (1, 2):
            raise ValueError(f"scores must be 1-D or 2-D (T, N) score rows with rows=True, got {arr.ndim}-D")
        s2 = arr[None] if arr.ndim == 1 else arr
        thr = _validate.row_thresholds(threshold, s2.shape[0])
        _, max_matches, min_distance = _validate.peak_options(None, max_matches, min_distance, s2.shape[-1:])
        tix, pos, found = row_peaks(s2, thr, max_matches, min_distance, _validate.check_flag(maximize, "maximize"),
                                    _validate.check_flag(subpixel, "subpixel"), across)
        return Matches(pos, found, template=tix)
    if _validate.check_flag(volume, "volume"):
        _validate.check_volume_map(arr.ndim)
        threshold, max_matches, min_distance = _validate.peak_options(threshold, max_matches, min_distance,
                                                                      arr.shape[-3:])
        s4 = arr[None] if arr.ndim == 3 else arr
        tix, pos, found = volume_peaks(s4, threshold, max_matches, min_distance,
                                       _validate.check_flag(maximize, "maximize"),
                                       _validate.check_flag(subpixel, "subpixel"))
        return Matches(pos, found, template=tix)
    _validate.check_score_map(arr.ndim)
    threshold, max_matches, min_distance = _validate.peak_options(threshold, max_matches, min_distance,
                                                                  arr.shape[-2:] if arr.ndim == 3 else arr.shape)
    maximize = _validate.check_flag(maximize, "maximize")
    subpixel = _validate.check_flag(subpixel, "subpixel")
    ndim = arr.ndim
    s3 = arr.reshape(1, 1, -1) if ndim == 1 else (arr[None] if ndim == 2 else arr)
    tix, pos, found = stack_peaks(s3, threshold, max_matches, min_distance, maximize, subpixel)
    if ndim == 1:
        pos = pos[:, 1:]
    return Matches(pos, found, template=tix)


def stack_peaks(s3, threshold, max_matches, min_distance, maximize, subpixel):
    """find_matches on a stack (T, H, W) of score maps: each map's peaks, then
    all of them best first with one suppression across the maps (one object,
    one match).  Returns (map index, (k, 2) positions, scores)."""
    if s3.size == 0:
        return (np.empty(0, dtype=np.int64), np.empty((0, 2)),
                np.empty(0, dtype=s3.dtype))
    if max_matches == 1:
        best = best_peak(s3, threshold, maximize)
        if best is not None:
            ts, coords = best
            pos = coords.astype(np.float64)
            if subpixel and len(ts):
                pos = refine_best(s3[ts[0]], coords, maximize)
            return ts, pos, s3[ts, coords[:, 0], coords[:, 1]]
    # float32 maps stay float32 (every step below is exact in it: negation,
    # maxima, comparisons against float64 thresholds, sorting); the parabola
    # fits of ``subpixel`` are float64
    work = gains(s3, maximize, s3.dtype if s3.dtype in (np.float32, np.float64) else np.float64)
    fin = work > -np.inf
    if threshold is not None:
        threshold = np.float64(threshold)  # compared in float64, not rounded to the map's dtype
    if max_matches == 1:
        # the best peak is the best score (ties: raster order, then map): no
        # peak filter needed
        peak = (work >= threshold) if (threshold is not None and maximize) else (
            (work >= -threshold) if threshold is not None else work > floors(work, fin)[:, None, None])
        cand = np.where(peak & fin, work, -np.inf)
        best = cand.max()
        if not np.isfinite(best):
            return (np.empty(0, dtype=np.int64), np.empty((0, 2)), s3[:0, 0, 0])
        ts, ys, xs = nonzero3(cand == best)
        k = np.lexsort((ts, xs, ys))[0]
        ts, coords = ts[k:k + 1].astype(np.int64), np.array([[ys[k], xs[k]]], dtype=np.int64)
        pos = coords.astype(np.float64)
        if subpixel:
            pos = refine(work[ts[0]].astype(np.float64), coords, pos)
        return ts, pos, s3[ts, coords[:, 0], coords[:, 1]]
    rows = s3.shape[1] > 1
    d = min_distance
    window = (2 * d + 1) ** (2 if rows else 1)
    # A peak is the maximum of its (2d + 1)-wide window, so it is also the
    # maximum of its 3-wide one.  With few matches asked for, the samples
    # that are (cheap: a few array passes, however wide the window) are the
    # candidates, and only those the selection below reaches are checked
    # against their whole window (the full peak filter takes log2(2d + 1)
    # array passes per axis: on a large map with a wide window it costs more
    # than the match that made the map)
    budget = work.size  # window samples read for the checks, at most
    few = max_matches is not None and d >= 1 and max(4 * max_matches, 64) * window <= budget
    peak = (work == max_filter(work, 1 if few else d, rows)) & fin
    if threshold is not None:
        peak &= (work >= threshold) if maximize else (work >= -threshold)
    elif peak.any():
        peak &= work > floors(work, fin)[:, None, None]
    ts, ys, xs = nonzero3(peak)
    vals = work[ts, ys, xs]
    n = vals.size
    limit = n if max_matches is None else max_matches
    # the suppression is greedy, best first: the first ``limit`` it keeps
    # from the best m peaks are those it keeps from all of them, so only the
    # best m (and the peaks tied with the m-th) are sorted, m growing until
    # enough are kept (a rough map has a peak every few pixels).  Of the
    # candidates, the best m hold the best peaks down to the m-th value, so
    # the same holds for the peaks among them.
    m = n if limit >= n // 4 else max(4 * limit, 64)
    while True:
        sel = np.arange(n) if m >= n else np.flatnonzero(vals >= np.partition(vals, n - m)[n - m])
        done = sel.size == n
        if few and sel.size * window > budget:  # too many to check one by one: the full filter
            few = False
            keep_all = (work == max_filter(work, d, rows))[ts, ys, xs]
            ts, ys, xs, vals = ts[keep_all], ys[keep_all], xs[keep_all], vals[keep_all]
            n = vals.size
            m = n if limit >= n // 4 else max(4 * limit, 64)
            continue
        if few:
            sel = sel[_window_max(work, ts[sel], ys[sel], xs[sel], d, rows) == vals[sel]]
        keep = sel[suppress(vals[sel], np.stack([ys[sel], xs[sel]], axis=1), work.shape[1:], min_distance, limit,
                            tie=ts[sel])]
        if len(keep) >= limit or done:
            break
        m *= 4
    coords, ts = np.stack([ys[keep], xs[keep]], axis=1).astype(np.int64), ts[keep].astype(np.int64)
    found = s3[ts, coords[:, 0], coords[:, 1]]
    pos = coords.astype(np.float64)
    if subpixel:
        for t in np.unique(ts):
            sel = ts == t
            pos[sel] = refine(work[t].astype(np.float64), coords[sel], pos[sel])
    return ts, pos, np.asarray(found)


def row_peaks(s2, thr, max_matches, min_distance, maximize, subpixel, across):
    """find_matches(rows=True) on (T, N) score rows with one threshold per
    row (``thr`` (T,) or None): each row's peaks best first (the rules of
    :func:`stack_peaks` on it), all of them merged best first (ties by time,
    then row); with ``across``, one suppression over every row instead.
    Returns (row index, (k, 1) positions, scores)."""
    T, N = s2.shape
    if across:
        work = s2
        if thr is not None:  # per-row thresholds: below them is no match
            ok = np.isfinite(thr)[:, None] & ((s2 >= thr[:, None]) if maximize else (s2 <= thr[:, None]))
            work = np.where(ok, s2, np.nan)
        ts, pos, found = stack_peaks(work[:, None, :], None if thr is None else (-np.inf if maximize else np.inf),
                                     max_matches, min_distance, maximize, subpixel)
        return ts, pos[:, 1:], found if thr is None else s2[ts, np.rint(pos[:, 1]).astype(np.int64)]
    parts = []
    for t in range(T):
        th = None if thr is None else float(thr[t])
        if th is not None and np.isnan(th):
            continue
        _, pos, found = stack_peaks(s2[t][None, None, :], th, max_matches, min_distance, maximize, subpixel)
        parts.append((np.full(len(found), t, dtype=np.int64), pos[:, 1], np.asarray(found)))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty((0, 1)), np.empty(0, dtype=s2.dtype)
    ts, xs, found = (np.concatenate(p) for p in zip(*parts))
    gain = found.astype(np.float64) if maximize else -found.astype(np.float64)
    order = np.lexsort((ts, xs, -gain))
    if max_matches is not None:
        order = order[:max_matches]
    return ts[order], xs[order, None], found[order]


def volume_peaks(s4, threshold, max_matches, min_distance, maximize, subpixel):
    """find_matches on (T, D, H, W) volume maps: each map's peaks (the best
    of their (2d + 1)-wide cube, above the map's floor or the threshold),
    best first (ties in raster order, then by map), one greedy suppression
    across the maps in cubes of half-width d.  Returns (map index, (k, 3)
    positions, scores)."""
    T = s4.shape[0]
    if s4.size == 0:
        return np.empty(0, dtype=np.int64), np.empty((0, 3)), np.empty(0, dtype=s4.dtype)
    work = gains(s4, maximize, s4.dtype if s4.dtype in (np.float32, np.float64) else np.float64)
    fin = work > -np.inf
    peak = (work == max_filter(work, min_distance, True)) & fin
    if threshold is not None:
        peak &= (work >= np.float64(threshold)) if maximize else (work >= -np.float64(threshold))
    elif peak.any():
        lowest = np.where(fin, work, np.inf).reshape(T, -1).min(axis=1)
        floor = no_peak_floor(lowest, np.count_nonzero(fin.reshape(T, -1), axis=1))
        peak &= work > floor[:, None, None, None]
    flat = np.flatnonzero(peak)
    ts, *coords = np.unravel_index(flat, work.shape)
    coords = np.stack(coords, axis=1).astype(np.int64)
    limit = len(flat) if max_matches is None else max_matches
    keep = suppress(work.reshape(-1)[flat], coords, work.shape[1:], min_distance, limit, tie=ts) if len(flat) else flat
    ts, coords = ts[keep].astype(np.int64), coords[keep]
    pos = coords.astype(np.float64)
    if subpixel:
        for t in np.unique(ts):
            sel = ts == t
            pos[sel] = refine(work[t].astype(np.float64), coords[sel], pos[sel])
    found = s4[(ts,) + tuple(coords.T)] if len(ts) else np.empty(0, dtype=s4.dtype)
    return ts, pos, np.asarray(found)


def floors(work, fin):
    """Each (T, H, W) gain map's floor, the score that is no peak: its lowest
    finite gain (:func:`no_peak_floor`); ``fin`` marks the finite gains."""
    if fin.all():  # the common case: no copy of the maps
        return no_peak_floor(work.reshape(len(work), -1).min(axis=1), np.full(len(work), work[0].size))
    lowest = np.where(fin, work, np.inf).min(axis=(1, 2))
    return no_peak_floor(lowest, np.count_nonzero(fin.reshape(len(fin), -1), axis=1))


def no_peak_floor(lowest, count):
    """The rule "a map's minimum is no peak", its one home: as
    ``skimage.feature.peak_local_max``, a map's lowest score (e.g. a flat
    background, or every score of a flat map) is no match, unless it is the
    map's only finite score (a template as large as the image: that one
    window is the best match).  ``lowest`` the lowest finite gain of each map,
    ``count`` its number of finite gains; returns the floor a peak must
    exceed (-inf where the map has one finite score)."""
    return np.where(np.asarray(count) > 1, lowest, -np.inf)


def _window_max(work, ts, ys, xs, d, rows):
    """The maximum of the (2d + 1)-wide window (only along the row without
    ``rows``) around each of the samples (ts, ys, xs) of (T, H, W) maps,
    clipped to the map (as ``max_filter``'s -inf padding)."""
    _, H, W = work.shape
    off = np.arange(-d, d + 1)
    iy = np.clip(ys[:, None] + off, 0, H - 1) if rows else ys[:, None]
    ix = np.clip(xs[:, None] + off, 0, W - 1)
    return work[ts[:, None, None], iy[:, :, None], ix[:, None, :]].max(axis=(1, 2))


def nonzero3(mask):
    """``np.nonzero`` of a (T, H, W) mask, through ``flatnonzero``: numpy's
    ``nonzero`` scans the mask once per axis, an order of magnitude slower
    on a few true values of a large mask."""
    flat = np.flatnonzero(mask)
    _, H, W = mask.shape
    ty, x = np.divmod(flat, W)
    t, y = np.divmod(ty, H)
    return t, y, x


def max_filter(work, d, rows):
    """``scipy.ndimage.maximum_filter(work, size=(1, 2d + 1, 2d + 1),
    mode="constant", cval=-inf)`` of (T, H, W) maps (size 1 along the rows
    when ``rows`` is False; (T, D, H, W) volume maps: a cube of 2d + 1 on
    every axis but the first), exactly, by doubling: the maxima over runs of
    2, 4, 8, ... samples, each from two of the previous, then one more
    maximum for the rest of the 2d + 1; log2(2d + 1) array passes per axis,
    fewer passes than scipy's filter makes on large maps."""

    def along(x, axis):
        n, size = x.shape[axis], 2 * d + 1
        if d == 1:  # each sample's and its two neighbours' maximum, without the padded copy
            out = x.copy()
            lo, hi = (slice(None),) * axis + (slice(None, -1),), (slice(None),) * axis + (slice(1, None),)
            np.maximum(out[hi], x[lo], out=out[hi])
            np.maximum(out[lo], x[hi], out=out[lo])
            return out
        pad = [(0, 0)] * x.ndim
        pad[axis] = (d, d)
        cur = np.pad(x, pad, constant_values=-np.inf)

        def part(a, b):
            return cur[(slice(None),) * axis + (slice(a, b),)]

        span = 1  # cur[i] = max of the padded samples i .. i + span - 1
        while 2 * span <= size:
            m = cur.shape[axis]
            cur = np.maximum(part(0, m - span), part(span, m))
            span *= 2
        return np.maximum(part(0, n), part(size - span, size - span + n))

    out = along(work, work.ndim - 1)
    for axis in range(work.ndim - 2, 0, -1) if rows else ():
        out = along(out, axis)
    return out


def best_peak(s3, threshold, maximize):
    """``stack_peaks(..., max_matches=1)`` without float64 copies of the maps (the
    pyramid search and the CLI call it once per image): (map index, (1, 2)
    position), both empty when no score passes ``threshold``, or None when
    the full rule must decide (a non-finite extreme, or the best score on a
    flat map, which is no peak)."""
    with np.errstate(invalid="ignore"):
        best = (np.fmax if maximize else np.fmin).reduce(s3, axis=None)
    verdict = _best_verdict(best, None, threshold, maximize)
    if verdict is None:
        return None
    if verdict == "empty":
        return np.empty(0, dtype=np.int64), np.empty((0, 2), dtype=np.int64)
    ts, ys, xs = nonzero3(s3 == best)
    k = np.lexsort((ts, xs, ys))[0]  # ties: raster order, then by map
    if verdict == "floor?":  # the floor of the map that holds the best
        with np.errstate(invalid="ignore"):
            floor = (np.fmin if maximize else np.fmax).reduce(s3[ts[k]], axis=None)
        if _best_verdict(best, floor, threshold, maximize) is None:
            return None
    return ts[k:k + 1].astype(np.int64), np.array([[ys[k], xs[k]]], dtype=np.int64)


def _best_verdict(best, floor, threshold, maximize):
    """The rule of a map's best score as its one match: None when the full
    peak rule must decide (a non-finite best; without a threshold, a
    non-finite floor or a flat map, whose best is no peak), "empty" when the
    best fails ``threshold``, "floor?" when only the floor (``None``: not
    known yet) is left to check, "ok" when it is a match.  Compared in
    float64: a float32 score just below the threshold is below it."""
    best = float(best)
    if not np.isfinite(best):
        return None
    if threshold is not None:
        return "empty" if ((best < threshold) if maximize else (best > threshold)) else "ok"
    if floor is None:
        return "floor?"
    floor = float(floor)
    return None if (not np.isfinite(floor) or floor == best) else "ok"


def cells_best(maps, cell, threshold, maximize):
    """:func:`best_peak` of each of several small maps (2-D, or 3-D volume
    maps, each at most ``cell`` in shape), in one pass over them stacked: per
    map, its best position as a (1, ndim) array, an empty (0, ndim) one when
    no score passes ``threshold``, or None when the full rule must decide."""
    if not maps:
        return []
    stack = np.full((len(maps),) + tuple(cell), np.nan, dtype=maps[0].dtype)
    for k, m in enumerate(maps):
        stack[(k,) + tuple(slice(0, n) for n in m.shape)] = m  # NaN elsewhere: never a best, nor a floor
    flat = stack.reshape(len(maps), -1)
    with np.errstate(invalid="ignore"):
        best = (np.fmax if maximize else np.fmin).reduce(flat, axis=1)
        floor = (np.fmin if maximize else np.fmax).reduce(flat, axis=1)
    first = np.argmax(flat == best[:, None], axis=1)  # ties: raster order (cells share its width)
    out = []
    for k in range(len(maps)):
        verdict = _best_verdict(best[k], floor[k], threshold, maximize)
        if verdict == "ok":
            out.append(np.array([np.unravel_index(int(first[k]), cell)], dtype=np.int64))
        else:
            out.append(None if verdict is None else np.empty((0, len(cell)), dtype=np.int64))
    return out


def refine_best(score_map, coords, maximize):
    """Sub-pixel positions of ``coords`` (best-first matches of one 2-D or
    3-D score map) by :func:`refine`, on the map as a float64 maximization."""
    return refine(gains(score_map, maximize), coords, coords.astype(np.float64))


def refine(work, coords, pos):
    """``pos`` (float copies of ``coords``, (k, ndim) integer peaks of the
    gain map ``work``, 2-D or a volume's 3-D) moved by a parabola through
    each peak and its two neighbours, per axis (offsets within +-0.5; none
    at an edge or where the parabola does not open downwards)."""
    coords = np.asarray(coords, dtype=np.int64).reshape(len(pos), work.ndim)
    for axis in range(work.ndim):
        # (vectorized over the peaks: the same float64 arithmetic per peak)
        rows = np.flatnonzero((coords[:, axis] > 0) & (coords[:, axis] < work.shape[axis] - 1))
        inner = coords[rows]
        lo, hi = inner.copy(), inner.copy()
        lo[:, axis] -= 1
        hi[:, axis] += 1
        a, b, c = work[tuple(lo.T)], work[tuple(inner.T)], work[tuple(hi.T)]
        with np.errstate(invalid="ignore"):
            den = a - 2 * b + c
            ok = np.isfinite(a) & np.isfinite(c) & (den < 0)
        pos[rows[ok], axis] += np.clip(0.5 * (a[ok] - c[ok]) / den[ok], -0.5, 0.5)
    return pos


def gains(scores, maximize, dtype=np.float64):
    """A copy of ``scores`` in ``dtype`` as a maximization: negated when
    ``maximize`` is False (distances, ``sqdiff``), and -inf where the score
    is NaN or infinite (never a peak)."""
    work = np.array(scores, dtype=dtype, copy=True)
    if not maximize:
        np.negative(work, out=work)
    np.copyto(work, -np.inf, where=~np.isfinite(work))
    return work


def suppress(gain, pos, shape, radius, limit, tie=None):
    """Greedy non-maximum suppression, best first: the indices of the kept
    candidates, in order.  ``gain`` (k,) (higher is better), ``pos`` (k, 2)
    positions on a grid of ``shape`` (rounded and clipped to it; (k, 3) for
    a volume's), ``tie`` (k,) an optional last key (the template index).
    Candidates are taken by decreasing gain, ties in raster order of ``pos``
    then by ``tie``; each one kept blocks the square (cube) window of
    half-width ``radius`` around it; at most ``limit`` are kept.  A grid too
    large to hold (a chunked map's), or a volume's, is replaced by a hash of
    the kept peaks' cells."""
    pos = np.asarray(pos)
    keys = tuple(pos[:, a] for a in range(pos.shape[1] - 1, -1, -1)) + (-np.asarray(gain),)
    order = np.lexsort(keys if tie is None else (tie,) + keys)
    grid = np.clip(np.rint(pos[order]).astype(np.int64), 0, np.array(shape, dtype=np.int64) - 1)
    cells = math.prod(int(n) for n in shape)
    if len(shape) == 2 and cells <= max(_costs.get().suppress_grid_cells, 64 * len(grid)):
        keep = run(_kpeaks.suppress, _twins.suppress, grid, np.array(shape, dtype=np.int64), int(radius), int(limit))
    else:
        keep = _suppress_sparse(grid, int(radius), int(limit))
    return order[keep]


def _suppress_sparse(coords, radius, max_out):
    """``_kernels.peaks.suppress`` without the dense grid, for positions of
    any number of axes: a kept peak blocks the candidates within Chebyshev
    distance ``radius`` (a hash of cells ``radius`` wide: a blocker is in
    the candidate's cell or a neighbouring one)."""
    # each cell as one integer key (its neighbours' keys: fixed offsets), so
    # a candidate costs a few dict look-ups, not tuples of cell indices
    if not len(coords):
        return np.empty(0, dtype=np.int64)
    cell = coords // radius + 1  # (>= 1: a neighbour's index is >= 0)
    strides = [1]
    for n in cell.max(axis=0)[:0:-1].tolist():
        strides.insert(0, strides[0] * (n + 2))
    # (Python integers past int64, for a map as large as that)
    big = strides[0] * (int(cell[:, 0].max()) + 2) >= 2 ** 62
    keys = (cell.astype(object) if big else cell) @ np.array(strides, dtype=object if big else np.int64)
    around = [sum(o * st for o, st in zip(off, strides)) for off in itertools.product((-1, 0, 1), repeat=len(strides))]
    cells = {}
    keep = []
    for idx, (key, p) in enumerate(zip(keys.tolist(), coords.tolist())):
        if len(keep) >= max_out:
            break
        if any(all(abs(a - b) <= radius for a, b in zip(q, p)) for off in around for q in cells.get(key + off, ())):
            continue
        keep.append(idx)
        cells.setdefault(key, []).append(p)
    return np.array(keep, dtype=np.int64)
