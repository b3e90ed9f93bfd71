"""Search: ``locate`` (match then peaks), its pyramid (a coarse search on
pooled inputs, full-resolution re-scoring near the candidates) and the
scale/angle search (zoomed and rotated template copies, refined between the
grid steps).  The scores come from :mod:`.scores`, every peak rule from
:mod:`.peaks`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import _costs, _twins, _validate
from .._kernels import windows as _kwin
from .._runtime import run, serialized_if_needed
from .peaks import Matches, cells_best, gains, refine, refine_best, stack_peaks, suppress, volume_peaks
from .scores import match_plain, match_sizes, match_stack, match_volume, omit

__all__ = ["locate"]


def _usable_levels(levels, side):
    """The most pyramid levels, up to ``levels``, that keep a template side of
    ``side`` samples at least ``pyramid_min_side`` wide once pooled."""
    levels = min(levels, int(side).bit_length())  # (beyond it every level pools the side to 0)
    while levels > 0 and side // 2 ** levels < _costs.get().pyramid_min_side:
        levels -= 1
    return levels


@serialized_if_needed
def locate(image, template, *, method="ccoeff_normed", threshold=None, max_matches=1,
           min_distance=None, pyramid_levels=0, subpixel=False, scales=None, angles=None, stack=None,
           channel_axis=_validate.CHANNEL_DEFAULT):
    """Find ``template`` in ``image``: :func:`match_template` then :func:`find_matches`.

    Parameters
    ----------
    image, template, method
        As :func:`match_template` (minimizing methods, ``sqdiff*``, are
        handled: their best match is their lowest score).  ``template`` may
        be a stack (T, h, w[, C]), or a list of templates (each with the
        image's number of axes; of one size or several): every template is
        searched, the matches of all of them are suppressed together (one
        object, one match; templates of several sizes by their centres) and
        ``.template`` tells which template matched.  A template with a NaN
        (or infinite) pixel raises a ``ValueError``: every one of its scores
        is NaN (:func:`match_template`'s 'propagate' rule), so nothing could
        be found; score it with ``match_template(..., nan_policy='omit')``
        and pick the matches with :func:`find_matches`.  NumPy masked arrays
        with masked values are refused likewise.
    stack : bool, optional
        As :func:`match_template`: None infers a stack but refuses an
        (h, w, 3) or (h, w, 4) template on a grey image (ambiguous); a list
        of templates is always a stack.
    threshold, max_matches, subpixel
        As :func:`find_matches`.
    min_distance : int, optional
        Suppression half-width; default half the template's smaller side.
        One beyond the image's extent means "one match" and is clamped to it.
    pyramid_levels : int
        0 searches the full image.  L > 0 average-pools image and template by
        2**L (squares; cubes for a volume), searches there, and re-scores at
        full resolution only a neighbourhood of the best coarse candidates
        (much faster for large templates; needs the pooled template to stay
        at least 8 samples wide, fewer levels are used otherwise).
    scales, angles : sequence of float, optional
        Search every copy of the template zoomed by each scale and then
        rotated by each angle (degrees, counter-clockwise as displayed with
        row 0 at the top: ``scipy.ndimage.rotate``'s sense), resampled with
        ``scipy.ndimage`` (linear); the corners of a rotated copy's box are
        left out of every window's sums (quarter turns are exact and need no
        mask).  Each copy's few best windows are candidates (a copy whose
        score would fall steeply half a grid step off, large and finely
        textured, is scored on smoothed image and copy for this stage, and
        its candidates in faint windows dropped); the best
        candidates that are distinct hypotheses (place, scale or angle) are
        each refined between the grid steps (the angle by parabolas at
        halving steps, the scale over every whole template size within a
        step, the centre free to follow), then polished jointly (centre,
        scale, angle) and scored by the template against the image
        resampled at that pose: every hypothesis on the template's whole
        support, whatever its zoom.  Those scores rank the matches and are
        their ``.scores``; the matches are suppressed by their centres (one
        object, one match).  ``.scales`` and ``.angles`` are finer than the
        grids and ``.positions`` is the top-left corner of the refined copy's
        box (rounded to whole pixels unless ``subpixel``).  With
        ``pyramid_levels`` every copy is searched on the pooled image first.
        2-D and colour images only.
    channel_axis : int or None, optional
        As :func:`match_template`: ``None`` (or, by default, a 3-D image
        whose last axis is not the template's channels) searches a volume
        with a 3-D template or a (T, d, h, w) stack; positions and centres
        are then (z, row, col).  ``pyramid_levels`` searches volumes too;
        the scale/angle search is 2-D only (a ValueError says so).

    Returns
    -------
    Matches
        Positions of the windows' top-left corners (index into the "valid"
        score map), best first; ``.centers`` the matched windows' centres
        (``positions + (template size - 1) / 2``); ``.template`` the index
        into a template stack; ``.scales``, ``.angles`` the template's scale
        and rotation at each match (1.0 and 0.0 without that search).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> rng = np.random.default_rng(1)
    >>> image = rng.random((256, 256))
    >>> sigcorr.locate(image, image[100:132, 40:72]).positions.tolist()
    [[100.0, 40.0]]
    >>> sigcorr.locate(image, image[100:132, 40:72], pyramid_levels=2).positions.tolist()
    [[100.0, 40.0]]
    >>> stack = np.stack([image[10:42, 200:232], image[100:132, 40:72]])
    >>> m = sigcorr.locate(image, stack, max_matches=2)
    >>> m.positions.tolist(), m.template.tolist(), m.centers.tolist()
    ([[100.0, 40.0], [10.0, 200.0]], [1, 0], [[115.5, 55.5], [25.5, 215.5]])

    A volume, searched at half size first (``channel_axis=None``):

    >>> vol = rng.random((48, 48, 48)).astype(np.float32)
    >>> m = sigcorr.locate(vol, vol[20:36, 5:21, 30:46], pyramid_levels=1, channel_axis=None)
    >>> m.positions.tolist(), m.centers.tolist()
    ([[20.0, 5.0, 30.0]], [[27.5, 12.5, 37.5]])

    The object at 1.25x its template's size:

    >>> from scipy import ndimage
    >>> big = ndimage.zoom(image, 1.25, order=1)
    >>> m = sigcorr.locate(big, image[100:132, 40:72], scales=np.linspace(0.8, 1.6, 5))
    >>> m.centers.round().tolist(), round(float(m.scales[0]), 2)
    ([[144.0, 70.0]], 1.25)
    """
    method = _validate.check_match_method(method)
    threshold = _validate.check_threshold(threshold)
    max_matches = _validate.check_int(max_matches, "max_matches", minimum=1)
    levels = _validate.check_int(pyramid_levels, "pyramid_levels", minimum=0)
    subpixel = _validate.check_flag(subpixel, "subpixel")
    image, template, volume = _validate.channel_reading(image, template, channel_axis, stack)
    if volume:
        return _locate_volume(image, template, method, threshold, max_matches, min_distance, levels, subpixel,
                              scales, angles, stack)
    img, tpls, one_d, dtype = _validate.locate_inputs(image, template, stack)
    # the templates' searched axes (the smallest of each, for several sizes)
    axes_t = np.min([t.shape[2:] if one_d else t.shape[1:] for t in tpls], axis=0)
    if min_distance is None:
        min_distance = max(1, int(min(axes_t)) // 2)
    min_distance = _validate.clamp_distance(min_distance, img.shape[1:])
    if scales is not None or angles is not None:
        scales, angles = _validate.scales_angles(scales, angles, one_d)
    # the scale-free rule: one power of two for image and templates; an
    # unnormalized method's threshold and scores in the scaled units inside
    img, tpls, k, ext = _validate.scale_free(img, tpls, dtype)
    power = 0 if _validate.normalized(method) else 2
    if threshold is not None and k and power:
        threshold = float(np.ldexp(threshold, -power * k))
    m = _search(img, tpls, one_d, dtype, method, threshold, max_matches, min_distance, levels, subpixel,
                scales, angles, axes_t, ext)
    if k and power:
        m = dataclasses.replace(m, scores=_validate.unscale(m.scores, k, power))
    return m


def _locate_volume(image, template, method, threshold, max_matches, min_distance, levels, subpixel, scales, angles,
                   stack):
    """locate in a volume: match_volume's scores, then the volume peaks; with
    ``levels``, the pyramid (:func:`_pyramid_stack`) on the volume as one
    channel."""
    if scales is not None or angles is not None:
        raise ValueError("scales and angles are not supported for volumes (channel_axis=None) yet")
    img, tpls, _, dtype, _ = _validate.volume_inputs(image, template, stack)
    _validate.finite_templates(tpls)
    tshape = tpls.shape[1:]
    if min_distance is None:
        min_distance = max(1, int(min(tshape)) // 2)
    min_distance = _validate.clamp_distance(min_distance, img.shape)
    img, tpls, k, _ = _validate.scale_free(img, tpls, dtype)
    power = 0 if _validate.normalized(method) else 2
    if threshold is not None and k and power:
        threshold = float(np.ldexp(threshold, -power * k))
    maximize = _validate.maximizes(method)
    levels = _usable_levels(levels, int(min(tshape)))
    if levels > 0:
        m = _pyramid_stack(img[None], tpls[:, None], method, dtype, levels, False, threshold, max_matches,
                           min_distance, maximize, subpixel, volume=True)
        tix, pos, val = m.template, m.positions, m.scores
    else:
        tix, pos, val = volume_peaks(match_volume(img, tpls, method, dtype), threshold, max_matches, min_distance,
                                     maximize, subpixel)
    if k and power:
        val = _validate.unscale(val, k, power)
    half = (np.array(tshape, dtype=np.float64) - 1) / 2
    return Matches(pos, val, centers=pos + half, template=tix)


def _search(img, tpls, one_d, dtype, method, threshold, max_matches, min_distance, levels, subpixel,
            scales, angles, axes_t, ext=None):
    """locate on checked (and scaled) inputs; ``ext``: the image's extrema
    (:func:`~sigcorr._validate.scale_free`), or None."""
    maximize = _validate.maximizes(method)
    if scales is not None or angles is not None:
        return _locate_transformed(img, tpls, method, dtype, levels, threshold, max_matches,
                                   min_distance, maximize, subpixel, scales, angles)
    if isinstance(tpls, list):
        return _locate_sizes(img, tpls, method, dtype, levels, one_d, threshold, max_matches,
                             min_distance, maximize, subpixel, ext)
    levels = _usable_levels(levels, int(min(axes_t)))
    if levels > 0:
        m = _pyramid_stack(img, tpls, method, dtype, levels, one_d, threshold, max_matches, min_distance, maximize,
                           subpixel)
    else:
        scores = match_stack(img, tpls, method, dtype, ext)
        tix, pos, val = stack_peaks(scores, threshold, max_matches, min_distance, maximize, subpixel)
        if one_d:
            pos = pos[:, 1:]
        m = Matches(pos, val, template=tix)
    half = (np.array(axes_t, dtype=np.float64) - 1) / 2
    return Matches(m.positions, m.scores, centers=m.positions + half, template=m.template)


def _pyramid_stack(img, tpls, method, dtype, levels, one_d, threshold, max_matches, min_distance, maximize,
                   subpixel, volume=False):
    """:func:`_pyramid_matches` of every template of the stack ``tpls`` (T,
    C, *spatial) in ``img`` (C, *spatial), merged across the stack and
    suppressed together: one object, one match."""
    found = [_pyramid_matches(img, t, method, dtype, levels, one_d, threshold, max_matches,
                              min_distance, maximize, subpixel, volume) for t in tpls]
    if len(found) == 1:
        return found[0]
    shape = tuple(n - t + 1 for n, t in zip(img.shape[1:], tpls.shape[2:]))
    return _merge([f.positions for f in found], [f.scores for f in found],
                  [np.full(len(f), k, dtype=np.int64) for k, f in enumerate(found)],
                  shape, one_d, maximize, min_distance, max_matches, dtype)


def _locate_sizes(img, tpls, method, dtype, levels, one_d, threshold, max_matches, min_distance, maximize,
                  subpixel, ext=None):
    """locate for a list of templates of several sizes: each template's
    matches (the plain maps share one FFT tiling), merged by their centres
    (a window's top-left corner depends on the template's size) and
    suppressed together: one object, one match."""
    found = []
    if _usable_levels(levels, min(min(t.shape[2:] if one_d else t.shape[1:]) for t in tpls)) > 0:
        for t in tpls:
            m = _pyramid_matches(img, t, method, dtype, _usable_levels(levels, min(t.shape[1:])), one_d,
                                 threshold, max_matches, min_distance, maximize, subpixel)
            found.append((m.positions if not one_d else np.column_stack([np.zeros(len(m)), m.positions]),
                          m.scores))
    else:
        for score_map in match_sizes(img, tpls, method, dtype, ext=ext):
            _, pos, val = stack_peaks(score_map[None], threshold, max_matches, min_distance, maximize, subpixel)
            found.append((pos, val))
    half = [(np.array(t.shape[1:], dtype=np.float64) - 1) / 2 for t in tpls]
    pos = np.concatenate([p for p, _ in found])
    val = np.concatenate([v for _, v in found]).astype(dtype, copy=False)
    tix = np.concatenate([np.full(len(v), k, dtype=np.int64) for k, (_, v) in enumerate(found)])
    centers = pos + np.array([half[k] for k in tix]).reshape(-1, 2)
    keep = suppress(val if maximize else -val, centers, img.shape[1:], min_distance, max_matches, tie=tix)
    pos, centers, val, tix = pos[keep], centers[keep], val[keep], tix[keep]
    if one_d:
        pos, centers = pos[:, 1:], centers[:, 1:]
    return Matches(pos, val, centers=centers, template=tix)


def _merge(pos, val, tix, shape, one_d, maximize, min_distance, max_matches, dtype):
    """Matches from several searches, best first, suppressed together on the
    grid of ``shape`` (the valid score map's: 2-D, or a volume's 3-D)."""
    pos = [p if not one_d else np.concatenate([np.zeros((len(p), 1)), p], axis=1) for p in pos]
    if not pos or sum(len(v) for v in val) == 0:
        return Matches(np.empty((0, len(shape) - one_d)), np.empty(0, dtype=dtype))
    pos, val, tix = np.concatenate(pos), np.concatenate(val), np.concatenate(tix)
    keep = suppress(val if maximize else -val, pos, shape, min_distance, max_matches, tie=tix)
    pos, val, tix = pos[keep], val[keep], tix[keep]
    if one_d:
        pos = pos[:, 1:]
    return Matches(pos, val, template=tix)


def _pooled(p, factors):
    """``p`` (C, *spatial) average-pooled by ``factors`` (one per spatial
    axis; the trailing partial blocks dropped), with float64 sums: 2-D
    images by the ``block_mean`` kernel, a 1-D row (factors (1, f)) and a
    volume (f, f, f) by NumPy (no kernel of their own to compile)."""
    if len(factors) == 2 and factors[0] == factors[1]:
        return run(_kwin.block_mean, _twins.block_mean, p, factors[0])
    n = [s // k for s, k in zip(p.shape[1:], factors)]
    cut = p[(slice(None),) + tuple(slice(0, a * k) for a, k in zip(n, factors))]
    blocks = cut.reshape((p.shape[0],) + tuple(v for a, k in zip(n, factors) for v in (a, k)))
    sums = blocks.sum(axis=tuple(range(2, 2 + 2 * len(n), 2)), dtype=np.float64)
    return np.ascontiguousarray((sums * (1.0 / math.prod(factors))).astype(p.dtype))


def _volume_score(img, tpl, method, dtype, cells=1):
    """The (od, oh, ow) scores of a (1, D, H, W) volume against a (1, d, h, w)
    template: :func:`_pyramid_matches`' scorer for volumes (``cells``
    unused: match_volume scores every window of the mosaic)."""
    return match_volume(img[0], tpl, method, dtype)[0]


def _pyramid_matches(img, tpl, method, dtype, levels, one_d, threshold, max_matches,
                     min_distance, maximize, subpixel, volume=False):
    """Coarse search on 2**levels-pooled inputs, then full-resolution re-scoring
    of a neighbourhood of each coarse candidate; the matches of all
    neighbourhoods are merged and suppressed together.  ``img`` (C, H, W)
    and ``tpl`` (C, h, w) (one row for ``one_d``), or with ``volume`` a
    (1, D, H, W) volume and (1, d, h, w) template: the same steps on three
    axes (volume scores and peaks, cubes of pooling and neighbourhood)."""
    f = 2 ** levels
    tshape = tpl.shape[1:]
    factors = (1, f) if one_d else (f,) * len(tshape)
    score = _volume_score if volume else match_plain
    peaks_of = volume_peaks if volume else stack_peaks
    coarse = score(_pooled(img, factors), _pooled(tpl, factors), method, dtype)
    _, cand, _ = peaks_of(coarse[None], None, max(4 * max_matches, 16),
                          _validate.clamp_distance(max(1, min_distance // f), coarse.shape), maximize, False)
    out = tuple(n - t + 1 for n, t in zip(img.shape[1:], tshape))
    reach = tuple(2 * k if k > 1 else 0 for k in factors)  # (a 1-D row has no neighbour rows)
    boxes = []  # (lo, hi) of each neighbourhood's windows, per axis
    for c in cand.astype(np.int64):
        lo = tuple(max(0, int(v) * k - r) for v, k, r in zip(c, factors, reach))
        hi = tuple(min(n, int(v) * k + r + 1) for v, k, r, n in zip(c, factors, reach, out))
        if all(a < b for a, b in zip(lo, hi)):
            boxes.append((lo, hi))
    # every neighbourhood scored in one call: their image pieces side by
    # side in a mosaic, one row of equal cells along the last axis (a
    # window's score depends on its own pixels only; the windows across two
    # cells are not read).  One row: only the windows between two cells are
    # wasted, not also those between two rows of cells (a square mosaic of
    # 16 cells scores about three times as many windows)
    cell = tuple(2 * r + t for r, t in zip(reach, tshape))
    mosaic = np.zeros((img.shape[0],) + cell[:-1] + (max(1, len(boxes)) * cell[-1],), dtype=img.dtype)
    for k, (lo, hi) in enumerate(boxes):
        src = tuple(slice(a, b + t - 1) for a, b, t in zip(lo, hi, tshape))
        dst = tuple(slice(0, b - a + t - 1) for a, b, t in zip(lo[:-1], hi[:-1], tshape))
        x0 = k * cell[-1]
        mosaic[(slice(None),) + dst + (slice(x0, x0 + hi[-1] - lo[-1] + tshape[-1] - 1),)] = img[(slice(None),) + src]
    # (the direct kernel, when cheaper, scores each cell's own windows only)
    maps = score(mosaic, tpl, method, dtype, cells=len(boxes)) if boxes else None
    locals_ = [maps[tuple(slice(0, b - a) for a, b in zip(lo[:-1], hi[:-1]))
                    + (slice(k * cell[-1], k * cell[-1] + hi[-1] - lo[-1]),)] for k, (lo, hi) in enumerate(boxes)]
    # a suppression window that covers a whole neighbourhood keeps its best
    # score alone: every such neighbourhood's best at once, the others (and
    # the few the shortcut cannot decide) through find_matches' rule
    whole = [min_distance >= max(loc.shape) - 1 for loc in locals_]
    best = iter(cells_best([loc for loc, w in zip(locals_, whole) if w], tuple(2 * r + 1 for r in reach),
                           threshold, maximize))
    pos, val = [], []
    for loc, w, (lo, _) in zip(locals_, whole, boxes):
        b = next(best) if w else None
        if b is None:
            _, found, scores = peaks_of(loc[None], threshold, 1 if w else None, min_distance, maximize, subpixel)
        elif not len(b):
            continue
        else:
            found = refine_best(loc, b, maximize) if subpixel else b.astype(np.float64)
            scores = loc[tuple(b.T)]
        if len(scores):
            pos.append(found + np.array(lo, dtype=np.float64))
            val.append(scores)
    if not pos:
        return Matches(np.empty((0, len(out) - one_d)), np.empty(0, dtype=dtype))
    pos = np.concatenate(pos)
    val = np.concatenate(val)
    keep = suppress(val if maximize else -val, pos, out, min_distance, max_matches)
    pos, val = pos[keep], val[keep]
    if one_d:
        pos = pos[:, 1:]
    return Matches(pos, val)


def _score_any(img, tpl, method, dtype):
    """Score maps for a template whose NaN pixels (a rotated template's
    corners) are left out of every window's sums; no NaN: the plain scores."""
    if np.isnan(tpl).any():
        return omit(img, tpl, None, method, dtype, 0.0)
    return match_plain(img, tpl, method, dtype)


def _variant(tpl, scale, angle):
    """``tpl`` (C, h, w) zoomed by ``scale`` then rotated by ``angle`` degrees
    (``scipy.ndimage``, linear interpolation, the rotated box kept whole); the
    corners outside the rotated template are NaN.  Quarter turns are exact."""
    from scipy import ndimage

    t = tpl.astype(np.float64)
    if scale != 1.0:
        h, w = t.shape[1:]
        nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
        t = ndimage.zoom(t, (1, nh / h, nw / w), order=1, mode="nearest", grid_mode=True)
    turns = angle / 90.0
    if abs(turns - round(turns)) < 1e-9:
        t = np.rot90(t, int(round(turns)) % 4, axes=(1, 2))
    else:
        inside = ndimage.rotate(np.ones(t.shape[1:]), angle, reshape=True, order=1) > 1 - 1e-6
        t = ndimage.rotate(t, angle, axes=(2, 1), reshape=True, order=1)
        t[:, ~inside] = np.nan
    return np.ascontiguousarray(t.astype(tpl.dtype))


def _locate_transformed(img, tpls, method, dtype, levels, threshold, max_matches, min_distance,
                        maximize, subpixel, scales, angles):
    """locate over every scale x angle (x template) copy: each copy's best
    windows (on the pooled image first with ``levels``, then re-scored at full
    resolution) are the candidates; the distinct hypotheses among the best
    (:func:`_hypotheses`) are refined between the grid steps
    (:func:`_refine_grid`), polished and scored in the template's frame
    (:func:`_polish`, :func:`_frame_gain`), then suppressed together by
    their centres (one object, one match); best first by those scores."""
    _, H, W = img.shape
    cands = []  # (score, centre y, centre x, template, scale index, angle index, top-left y, x)
    variants = {}
    for k, tpl in enumerate(tpls):
        for si, sc in enumerate(scales):
            for ai, an in enumerate(angles):
                v = _variant(tpl, sc, an)
                if v.shape[1] <= H and v.shape[2] <= W and min(v.shape[1:]) >= 2:
                    variants[k, si, ai] = v
    if not variants:
        return _empty_transformed(dtype)
    lv = _usable_levels(levels, min(min(v.shape[1:]) for v in variants.values()))
    f = 2 ** lv
    # coarse search (on 2**lv-pooled image and copies when lv > 0); the plain
    # (unrotated or quarter-turned) copies share one FFT tiling
    simg = img if lv == 0 else run(_kwin.block_mean, _twins.block_mean, img, f)
    small = {key: (v if lv == 0 else run(_kwin.block_mean, _twins.block_mean, v, f))
             for key, v in variants.items()}
    # a copy whose score falls steeply between the grid steps (large and
    # finely textured: half a step's turn moves its rim by pixels) is scored
    # on smoothed inputs, else the true match can trail a look-alike on the
    # grid and never be refined; a smooth copy stays sharp (smoothing it
    # only adds look-alikes)
    blur = {key: 0 for key in variants}
    if lv == 0:
        lsg = np.log(scales)
        # (one copy per template and scale decides: the one turned farthest
        # from a quarter turn, resampled like most copies)
        off = np.abs((np.asarray(angles, dtype=np.float64) + 45) % 90 - 45)
        widths = {}
        for key in sorted(variants, key=lambda kk: -off[kk[2]]):
            k, si, ai = key
            if (k, si) not in widths:
                widths[k, si] = _grid_blur(variants[key], _grid_step(angles, ai), _grid_step(lsg, si))
            blur[key] = widths[k, si]
        small = {key: (_smooth(v, blur[key]) if blur[key] else v) for key, v in variants.items()}
    simgs = {b: (simg if b == 0 else _smooth(img, b)) for b in set(blur.values())}
    maps = {}
    for b, simg_b in simgs.items():
        plain = [key for key, v in small.items() if blur[key] == b and not np.isnan(v).any()]
        if plain:
            maps.update(zip(plain, match_sizes(simg_b, [small[key] for key in plain], method, dtype)))
    # a few peaks per copy: the true match can be the second best of its
    # copy (a look-alike of that zoom and turn leading it) and still lead
    # once refined
    per_map = max_matches + 2 if lv == 0 else max(2 * max_matches, 4)
    for key, v in variants.items():
        _, h, w = v.shape
        sv_ = small[key]
        scores = maps.pop(key) if key in maps else _score_any(simgs[blur[key]], sv_, method, dtype)
        md = max(1, min(min_distance, min(h, w) // 2) // f)
        m = _top_peaks(scores, threshold if lv == 0 else None, per_map, md, maximize, subpixel and lv == 0)
        for (y, x), sc in zip(m.positions, m.scores):
            cy, cx = y * f + (h - 1) / 2, x * f + (w - 1) / 2
            if lv > 0:  # full-resolution score near the coarse position
                sc, cy, cx = _local_best(img, v, cy, cx, method, dtype, maximize, r=2 * f)
                if not np.isfinite(sc):
                    continue
                sc = sc if maximize else -sc
                if threshold is not None and (sc < threshold if maximize else sc > threshold):
                    continue
                y, x = cy - (h - 1) / 2, cx - (w - 1) / 2
            cands.append((float(sc), cy, cx, key[0], key[1], key[2], y, x))
    if not cands:
        return _empty_transformed(dtype)
    c = np.array(cands)

    def faint(row):  # (a smoothed copy's candidate only; checked as the hypotheses are chosen)
        key = (int(row[3]), int(row[4]), int(row[5]))
        return bool(blur[key]) and _faint(img, variants[key], row[6], row[7])

    c = _hypotheses(c, tpls, scales, angles, maximize, _validate.normalized(method), max_matches, faint)
    if not len(c):
        return _empty_transformed(dtype)
    out = []  # (frame score, centre y, x, template, scale, angle)
    for row in c:
        k, si, ai = int(row[3]), int(row[4]), int(row[5])
        g = float(row[0]) if maximize else -float(row[0])
        g, cy, cx, ls, an = _refine_grid(img, tpls[k], method, dtype, maximize, (g, float(row[1]), float(row[2])),
                                         scales, angles, si, ai)
        # the final pose and its score: the template against the image
        # resampled at the pose (every hypothesis scored on the same, whole
        # template support, whatever its zoom: a small copy's few pixels do
        # not outscore the true match by chance), polished jointly in
        # position, scale and angle
        g, (cy, cx, ls, an) = _polish(lambda p, t=tpls[k]: _frame_gain(img, t, p, method, dtype, maximize),
                                      np.array([cy, cx, ls, an]), _grid_step(np.log(scales), si),
                                      _grid_step(angles, ai))
        if np.isfinite(g):
            out.append((g, cy, cx, k, float(np.exp(ls)), an % 360.0))
    if not out:
        return _empty_transformed(dtype)
    c = np.array(out)
    if threshold is not None:
        c = c[c[:, 0] >= (threshold if maximize else -threshold)]
    keep = suppress(c[:, 0], c[:, 1:3], (H, W), min_distance, max_matches, tie=c[:, 3])
    c = c[keep]
    pos = np.empty((len(c), 2))
    for r, row in enumerate(c):
        h, w = _variant_shape(tpls[int(row[3])].shape[1:], row[4], row[5])
        pos[r] = row[1] - (h - 1) / 2, row[2] - (w - 1) / 2
    if not subpixel:
        cen = c[:, 1:3] - pos
        pos = np.rint(pos)
        c[:, 1:3] = pos + cen
    scores = c[:, 0] if maximize else -c[:, 0]
    return Matches(pos, scores.astype(dtype), centers=c[:, 1:3].copy(), template=c[:, 3].astype(np.int64),
                   scales=c[:, 4].copy(), angles=c[:, 5].copy())


def _faint(img, v, y, x, ratio=0.2):
    """Whether the image's window under copy ``v`` at top-left (y, x) has
    less than ``ratio`` of the copy's contrast (standard deviation over the
    copy's support).  Smoothing spreads an edge's tail into flat surroundings
    (a constant border, a blank sky) as a faint ramp that a smoothed copy
    matches almost perfectly: such a window is no candidate."""
    _, h, w = v.shape
    yi, xi = int(round(y)), int(round(x))
    win = img[:, max(0, yi):yi + h, max(0, xi):xi + w]
    if win.shape[1:] != (h, w):
        return False
    ok = np.isfinite(v).all(axis=0)
    return float(win[:, ok].std(axis=1).sum()) < ratio * float(v[:, ok].std(axis=1).sum())


def _grid_blur(v, astep, sstep, floor=0.9):
    """The smallest Gaussian width (0, 1 or 2 pixels) at which copy ``v``
    (NaN outside its support) keeps a predicted score of ``floor`` or more
    half a grid step off (``astep`` degrees, ``sstep`` in log scale).  The
    prediction: a turn by d and a zoom by e move a pixel at radius r by about
    r * hypot(d, e), so a correlation falls by about
    (d^2 + e^2) / 4 * mean(r^2 |grad v|^2) / var(v)."""
    d2 = np.deg2rad(astep / 2) ** 2 + (sstep / 2) ** 2
    _, h, w = v.shape
    r2 = (np.arange(h)[:, None] - (h - 1) / 2) ** 2 + (np.arange(w)[None, :] - (w - 1) / 2) ** 2
    for sigma in (0, 1, 2):
        vs = (v if sigma == 0 else _smooth(v, sigma)).astype(np.float64)
        gy, gx = np.gradient(vs, axis=(1, 2))
        g2 = gy * gy + gx * gx
        ok = np.isfinite(g2).all(axis=0)
        var = float(vs[:, ok].var(axis=1).sum()) if ok.any() else 0.0
        if var <= 0:
            return sigma
        if d2 / 4 * float((g2[:, ok] * r2[ok]).sum(axis=0).mean()) / var <= 1 - floor:
            return sigma
    return 2


def _smooth(planes, sigma):
    """``planes`` (C, h, w) smoothed by a Gaussian of ``sigma`` pixels, NaN
    pixels left out of the weighted means (and NaN again after)."""
    from scipy import ndimage

    miss = np.isnan(planes)
    if not miss.any():
        return np.stack([ndimage.gaussian_filter(p, sigma, mode="nearest") for p in planes]).astype(planes.dtype)
    w = ndimage.gaussian_filter((~miss[0]).astype(np.float64), sigma, mode="constant")
    out = np.stack([ndimage.gaussian_filter(np.where(m, 0.0, p.astype(np.float64)), sigma, mode="constant")
                    for p, m in zip(planes, miss)]) / np.maximum(w, 1e-12)
    out[miss] = np.nan
    return out.astype(planes.dtype)


def _hypotheses(c, tpls, scales, angles, maximize, normed, max_matches, faint=None):
    """The grid candidates worth refining: best first, those within a margin
    of the best (0.12 for normalized scores, 12% otherwise), at most eight
    per asked-for match, a candidate left out when a better one of the same
    template is the same hypothesis (centre within a fifth of the copy's
    side, scale and angle within about a grid step); ``faint(row)`` true
    drops a candidate (looked at only for the best few).  Several hypotheses
    per place are kept: on the grid the true zoom and turn can trail a wrong
    one at the same place (a coarse grid blurs a large textured copy's score
    more than a small copy's), and the refinement tells them apart."""
    g = c[:, 0] if maximize else -c[:, 0]
    order = np.argsort(-g, kind="stable")
    if faint is not None:  # (dropped lazily: only the best few are looked at)
        order = (i for i in order if not faint(c[i]))
    best = None
    ls = np.log(scales)
    kept = []
    for i in order:
        if best is None:
            best = g[i]
            margin = 0.12 if normed else 0.12 * abs(best)
        if g[i] < best - margin or len(kept) >= 8 * max_matches:
            break
        k, si, ai = int(c[i, 3]), int(c[i, 4]), int(c[i, 5])
        size = max(tpls[k].shape[1:]) * scales[si]
        same = False
        for j in kept:
            if int(c[j, 3]) != k:
                continue
            sj, aj = int(c[j, 4]), int(c[j, 5])
            da = abs((angles[ai] - angles[aj] + 180) % 360 - 180)
            if (np.hypot(c[i, 1] - c[j, 1], c[i, 2] - c[j, 2]) <= max(2.0, 0.2 * size)
                    and abs(ls[si] - ls[sj]) <= 1.5 * _grid_step(ls, sj) + 1e-12
                    and da <= 1.5 * _grid_step(angles, aj) + 1e-9):
                same = True
                break
        if not same:
            kept.append(i)
    return c[kept]


def _refine_grid(img, tpl, method, dtype, maximize, best, scales, angles, si, ai):
    """A grid candidate refined between the grid steps by forward matching
    (three rounds: the angle by a parabola through its neighbours a full,
    half, quarter step away, then the scale over every whole template size
    within a step; each value scored by matching the resampled template
    around the centre, as far as a turn or zoom of that step moves the
    copy's rim: a wrong turn also shifts the best-fitting centre when the
    template's structure lies off its centre).  ``best``: (gain, centre y,
    x) at the grid cell.
    Returns (gain, centre y, x, log scale, angle)."""
    _, H, W = img.shape
    sstep = _grid_step(np.log(scales), si)
    astep = _grid_step(angles, ai)
    ls, an = float(np.log(scales[si])), float(angles[ai])
    side = max(tpl.shape[1:])
    # the grid's score is the smoothed inputs': the cell scored again as is
    best = _local_best(img, _variant(tpl, float(np.exp(ls)), an), best[1], best[2], method, dtype, maximize)
    for _ in range(3):
        rim = 0.5 * side * float(np.exp(ls))
        r = max(2, int(np.ceil(rim * max(np.deg2rad(astep), sstep))))
        if astep > 0:
            vals = [_local_best(img, _variant(tpl, float(np.exp(ls)), an + d), best[1], best[2],
                                method, dtype, maximize, r) for d in (-astep, astep)]
            a_, b_, c_ = vals[0][0], best[0], vals[1][0]
            den = a_ - 2 * b_ + c_
            if np.isfinite(a_) and np.isfinite(c_) and den < 0:
                off = float(np.clip(0.5 * (a_ - c_) / den, -1.0, 1.0)) * astep
                got = _local_best(img, _variant(tpl, float(np.exp(ls)), an + off), best[1], best[2],
                                  method, dtype, maximize, r)
                if got[0] >= b_:
                    best, an = got, an + off
            elif max(a_, c_) > b_:  # no parabola: step to the better neighbour
                better = 0 if a_ >= c_ else 1
                best, an = vals[better], an + (astep if better else -astep)
        if sstep > 0:
            # scale: every whole template size within a step (the score is
            # jagged between sizes, no parabola fits it)
            lo, hi = int(np.floor(side * np.exp(ls - sstep))), int(np.ceil(side * np.exp(ls + sstep)))
            for n in range(max(lo, 2), hi + 1):
                cand = float(np.log(n / side))
                if abs(cand - ls) < 1e-12:
                    continue
                v = _variant(tpl, n / side, an)
                if v.shape[1] > H or v.shape[2] > W:
                    continue
                got = _local_best(img, v, best[1], best[2], method, dtype, maximize, r)
                if got[0] > best[0]:
                    best, ls = got, cand
        astep /= 2
        sstep /= 2
    return best[0], best[1], best[2], ls, an


def _frame_gain(img, tpl, p, method, dtype, maximize):
    """The gain (score, negated for minimizing methods) of ``tpl`` (C, h, w)
    against ``img`` resampled (linear) on the template's own grid placed at
    pose ``p`` = (centre y, centre x, log scale, angle): the image's pixels
    where each template pixel falls.  The whole template is compared, its
    corners too (they fall on the object's surroundings, which the image
    has); -inf when a tenth of the template falls outside the image."""
    from scipy import ndimage

    C, h, w = tpl.shape
    s, t = float(np.exp(p[2])), np.deg2rad(p[3])
    uy = (np.arange(h) - (h - 1) / 2)[:, None]
    ux = (np.arange(w) - (w - 1) / 2)[None, :]
    # scipy.ndimage.rotate's sense (counter-clockwise as displayed)
    yy = p[0] + s * (uy * np.cos(t) - ux * np.sin(t))
    xx = p[1] + s * (ux * np.cos(t) + uy * np.sin(t))
    _, H, W = img.shape
    inside = (yy >= 0) & (yy <= H - 1) & (xx >= 0) & (xx <= W - 1)
    if inside.mean() < 0.9:
        return -np.inf
    patch = np.stack([ndimage.map_coordinates(img[c], [yy, xx], order=1, mode="nearest") for c in range(C)])
    patch = patch.astype(tpl.dtype)
    if not inside.all():
        patch[:, ~inside] = np.nan
    sc = _score_any(patch, tpl, method, dtype) if inside.all() else omit(patch, tpl, None, method, dtype, 0.0)
    g = float(gains(sc, maximize)[0, 0])
    return g


def _polish(fn, p, sstep, astep, levels=3):
    """Pattern search maximizing ``fn`` from pose ``p`` (centre y, x, log
    scale, angle): each coordinate stepped both ways while it gains, the
    steps (1 px, a quarter of the scale and angle grid steps at most) halved
    ``levels`` times.  Returns (best value, pose)."""
    steps = np.array([1.0, 1.0, min(sstep / 2, 0.03), min(astep / 2, 4.0)])
    best = fn(p)
    if not np.isfinite(best):
        return best, p
    for _ in range(levels):
        for _ in range(4):
            moved = False
            for d in range(4):
                if steps[d] <= 0:
                    continue
                for sgn in (-1.0, 1.0):
                    q = p.copy()
                    q[d] += sgn * steps[d]
                    v = fn(q)
                    if v > best:
                        best, p, moved = v, q, True
                        break
            if not moved:
                break
        steps /= 2
    return best, p


def _variant_shape(shape, scale, angle):
    """The box (h, w) of :func:`_variant`'s copy of a template of ``shape``."""
    h, w = shape
    if scale != 1.0:
        h, w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    turns = angle / 90.0
    if abs(turns - round(turns)) < 1e-9:
        return (h, w) if int(round(turns)) % 2 == 0 else (w, h)
    from scipy import ndimage

    return ndimage.rotate(np.ones((h, w)), angle, reshape=True, order=0).shape


def _empty_transformed(dtype):
    return Matches(np.empty((0, 2)), np.empty(0, dtype=dtype), centers=np.empty((0, 2)),
                   template=np.empty(0, dtype=np.int64), scales=np.empty(0), angles=np.empty(0))


def _top_peaks(scores, threshold, k, md, maximize, subpixel):
    """The ``k`` best scores of a map, each blocking the square of half-width
    ``md`` around it (greedy; candidates of a scale/angle search, cheaper than
    :func:`find_matches`' peak test on every map)."""
    work = gains(scores, maximize)
    pos, val = [], []
    for _ in range(k):
        i = int(np.argmax(work))
        y, x = divmod(i, work.shape[1])
        best = work[y, x]
        if not np.isfinite(best) or (threshold is not None and best < (threshold if maximize else -threshold)):
            break
        p = np.array([[y, x]], dtype=np.float64)
        if subpixel:
            p = refine(work, np.array([[y, x]]), p)
        pos.append(p[0])
        val.append(scores[y, x])
        work[max(0, y - md):y + md + 1, max(0, x - md):x + md + 1] = -np.inf
    return Matches(np.array(pos).reshape(-1, 2), np.array(val, dtype=scores.dtype))


def _grid_step(grid, i):
    """The spacing of a sorted search grid around index i (0 for one value)."""
    if len(grid) < 2:
        return 0.0
    j = i + 1 if i + 1 < len(grid) else i - 1
    return float(abs(grid[j] - grid[i]))


def _local_best(img, v, cy, cx, method, dtype, maximize, r=2):
    """The best score (negated for minimizing methods) of variant ``v``
    centred within ``r`` pixels of (cy, cx), with the centre it is at."""
    _, H, W = img.shape
    _, h, w = v.shape
    y0 = max(0, int(round(cy - (h - 1) / 2)) - r)
    x0 = max(0, int(round(cx - (w - 1) / 2)) - r)
    y1, x1 = min(H, y0 + h + 2 * r), min(W, x0 + w + 2 * r)
    if y1 - y0 < h or x1 - x0 < w:
        return -np.inf, cy, cx
    local = gains(_score_any(np.ascontiguousarray(img[:, y0:y1, x0:x1]), v, method, dtype), maximize)
    iy, ix = np.unravel_index(int(np.argmax(local)), local.shape)
    return float(local[iy, ix]), y0 + iy + (h - 1) / 2, x0 + ix + (w - 1) / 2
