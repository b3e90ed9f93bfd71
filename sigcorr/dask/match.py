"""``match_template`` and ``find_matches`` on Dask arrays.

``match_template`` scores every block with the template's extent of its
neighbours below and to the right (blocks merged first until they are long
against that halo).  ``find_matches`` finds the peaks of every block (with a
``min_distance`` halo; 2-D maps or volume maps), by the in-memory peak rules of
:mod:`sigcorr.match.peaks`, then runs its one best-first suppression over
all of them: the same matches as in memory.
"""

from __future__ import annotations

import itertools

import dask
import dask.array as da
import numpy as np

from .. import _geometry, _validate
from ..match import match_template as _match_template
from ..match import peaks
from . import _blocks

__all__ = ["match_template", "find_matches"]


def match_template(image, template, method="ccoeff_normed", *, mask=None, pad_input=False, chunks=None,
                   stack=None, channel_axis=_validate.CHANNEL_DEFAULT, mode="constant", constant_values=0):
    """:func:`sigcorr.match_template` on a chunked image (1-D, 2-D or colour
    (H, W, C), the channels in one chunk); the template and mask in memory.

    Each block is scored with the template's extent of its neighbours below
    and to the right.  Chunks shorter than 32 template extents are merged
    with their neighbours first (up to 64 MiB of image per block), since a
    block's FFT tiles transform that halo too: the result's chunks are the
    merged ones.  A stack of templates (T, h, w[, C]), read as
    :func:`sigcorr.match_template` reads it (``stack``), gives (T, ...)
    scores, the stack scored together on every block (one chunk along T).
    ``pad_input`` pads the whole image as ``mode`` says (true edges).
    ``mask`` (the template's weights, OpenCV's masked matching) works on
    images and volumes alike; the missing-pixel options (``nan_policy``,
    ``image_mask``) are in-memory only.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> img = np.random.default_rng(3).random((256, 256))
    >>> s = sigcorr.dask.match_template(img, img[100:116, 50:70], chunks=64)
    >>> bool(np.allclose(s.compute(), sigcorr.match_template(img, img[100:116, 50:70])))
    True
    >>> stack = np.stack([img[:16, :20], img[100:116, 50:70]])
    >>> sigcorr.dask.match_template(img, stack, chunks=64).shape
    (2, 241, 237)

    A chunked volume (``channel_axis=None``, as :func:`sigcorr.match_template`):

    >>> vol = np.random.default_rng(4).random((40, 36, 38)).astype(np.float32)
    >>> s = sigcorr.dask.match_template(vol, vol[5:11, 6:12, 7:13], chunks=16, channel_axis=None)
    >>> bool(np.allclose(s.compute(), sigcorr.match_template(vol, vol[5:11, 6:12, 7:13], channel_axis=None),
    ...                  atol=1e-5))
    True
    >>> w = np.random.default_rng(5).random((6, 6, 6))  # template weights
    >>> s = sigcorr.dask.match_template(vol, vol[5:11, 6:12, 7:13], mask=w, chunks=16, channel_axis=None)
    >>> bool(np.allclose(s.compute(), sigcorr.match_template(vol, vol[5:11, 6:12, 7:13], mask=w, channel_axis=None),
    ...                  atol=1e-5))
    True
    """
    x = _blocks.as_dask(image, chunks, "image")
    t = _blocks.in_memory(template, "template")
    method = _validate.check_match_method(method)
    pad_mode, pad_value = _validate.check_pad_mode(mode, constant_values)
    x, t, volume = _validate.channel_reading(x, t, channel_axis, stack)
    if volume:
        return _match_volume(x, t, method, mask, pad_input, stack, pad_mode, pad_value)
    m = None if mask is None else _blocks.in_memory(mask, "mask")
    stacked = _validate.check_pair(x, t, stack)
    pad_input = _validate.check_flag(pad_input, "pad_input")
    tshape = t.shape[1:] if stacked else t.shape
    spatial = x.ndim if x.ndim < 3 else 2
    if x.ndim == 3:
        x = x.rechunk({2: -1})
    dtype = _validate.compute_dtype(x.dtype, t.dtype, family="image")
    if pad_input:
        x = _padded_input(x, tshape[:spatial], pad_mode, pad_value)
    halos = {ax: tshape[ax] - 1 for ax in range(spatial)}
    x = _blocks.coarsen(x, halos)
    colour = x.ndim == 3  # (not x itself: dask tokenizes the function by pickling what it closes over)
    if stacked:
        # the stack's axis last, in place of the channels (a grey image gets a
        # length-1 last axis for it): one chunk of T scores per block
        if not colour:
            x = x[..., None]

        def block_stack(b):
            s = _match_template(b if colour else b[..., 0], t, method, mask=m, stack=True)
            return np.moveaxis(s, 0, -1)

        out = _blocks.valid(x, halos, block_stack, dtype, last_axis_chunks=(t.shape[0],))
        return da.moveaxis(out, -1, 0)

    def block(b):
        s = _match_template(b, t, method, mask=m)
        return s[..., None] if colour else s

    if x.ndim == 3:
        return _blocks.valid(x, halos, block, dtype, last_axis_chunks=(1,))[..., 0]
    return _blocks.valid(x, halos, block, dtype)


def _padded_input(x, tshape, mode, value):
    """The whole image ``x`` extended for ``pad_input`` along its leading
    ``len(tshape)`` axes (the template's; colour channels untouched), as
    :func:`sigcorr._geometry.input_pads` says: the true edges."""
    pads, crops = _geometry.input_pads(tshape, mode)
    x = _blocks.pad(x, pads + [(0, 0)] * (x.ndim - len(tshape)), mode, value)
    return x if crops is None else x[tuple(slice(a, b) for a, b in crops)]


def _match_volume(x, t, method, mask, pad_input, stack, pad_mode, pad_value):
    """match_template on a chunked volume: every block scored with the
    template's extent of its neighbours (below, right and behind)."""
    stacked = _validate.volume_shapes(x.shape, t.shape, stack)
    tshape = t.shape[1:] if stacked else t.shape
    # the weights checked here, once, rather than in every block's task
    m = None if mask is None else _validate.mask_weights(_blocks.in_memory(mask, "mask"), tshape)
    pad_input = _validate.check_flag(pad_input, "pad_input")
    dtype = _validate.compute_dtype(x.dtype, t.dtype, family="image")
    if pad_input:
        x = _padded_input(x, tshape, pad_mode, pad_value)
    halos = {ax: tshape[ax] - 1 for ax in range(3)}
    x = _blocks.coarsen(x, halos)
    if stacked:
        def block_stack(b):  # the stack's axis last: one chunk of T scores per block
            return np.moveaxis(_match_template(b[..., 0], t, method, mask=m, stack=True, channel_axis=None), 0, -1)

        out = _blocks.valid(x[..., None], halos, block_stack, dtype, last_axis_chunks=(t.shape[0],))
        return da.moveaxis(out, -1, 0)
    return _blocks.valid(x, halos, lambda b: _match_template(b, t, method, mask=m, channel_axis=None), dtype)


def find_matches(scores, *, threshold=None, max_matches=None, min_distance=1, maximize=True, subpixel=False,
                 volume=False, chunks=None):
    """:func:`sigcorr.find_matches` on a chunked score map: the peaks of every
    block (with a ``min_distance`` halo), then one suppression over them all.
    Returns :class:`sigcorr.Matches` (computed).

    ``volume=True`` reads ``scores`` as :func:`sigcorr.find_matches` does: a
    3-D volume map (``sigcorr.dask.match_template(..., channel_axis=None)``)
    or a 4-D stack of them (T, D, H, W), chunked along any of the three
    spatial axes; ``.positions`` are then (z, row, col) and ``.template``
    the map of each match.

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> s = np.zeros((200, 200)); s[5, 5] = 1.0; s[120, 77] = 0.9; s[121, 79] = 0.8
    >>> sigcorr.dask.find_matches(s, min_distance=3, chunks=50).positions.tolist()
    [[5.0, 5.0], [120.0, 77.0]]

    A volume's scores, chunked (peaks found across the chunks' borders):

    >>> v = np.zeros((40, 40, 40)); v[19, 20, 5] = 1.0; v[20, 21, 6] = 0.9; v[30, 2, 33] = 0.7
    >>> sigcorr.dask.find_matches(v, min_distance=2, volume=True, chunks=20).positions.tolist()
    [[19.0, 20.0, 5.0], [30.0, 2.0, 33.0]]
    """
    x = _blocks.as_dask(scores, chunks, "scores")
    if _validate.check_flag(volume, "volume"):
        _validate.check_volume_map(x.ndim)
        maps = x if x.ndim == 4 else x[None]
    else:
        _validate.check_score_map(x.ndim, stack=False)
        maps = x[None, None] if x.ndim == 1 else x[None]
    # every map is now (T, *spatial): T volume maps, or one 2-D map (a 1-D
    # one as a row)
    threshold, max_matches, radius = _validate.peak_options(threshold, max_matches, min_distance,
                                                            maps.shape[1:] if volume else x.shape)
    maximize = _validate.check_flag(maximize, "maximize")
    subpixel = _validate.check_flag(subpixel, "subpixel")
    if maps.size == 0:
        return peaks.find_matches(np.zeros(x.shape, dtype=x.dtype), volume=volume)
    spatial = tuple(range(1, maps.ndim))
    floor = None
    if threshold is None:  # each map's minimum is no peak (but a map's only score is)
        g = maps.map_blocks(peaks.gains, maximize, dtype=np.float64)
        lowest, count = dask.compute(da.where(g > -np.inf, g, np.inf).min(axis=spatial),
                                     (g > -np.inf).sum(axis=spatial))
        floor = peaks.no_peak_floor(lowest, count).reshape((-1,) + (1,) * len(spatial))
    low = None if threshold is None else (threshold if maximize else -threshold)
    rows = x.ndim != 1  # a 1-D map is one row: no halo across rows, peaks along it only
    halo = [radius if rows else 0 for _ in spatial[:-1]] + [radius]

    def block_peaks(b, origin, own):
        # block b (T, *spatial) starts at ``origin`` of the maps; its own
        # samples are b[:, own] (the rest is the halo)
        work = peaks.gains(b, maximize)
        pk = (work == peaks.max_filter(work, radius, rows)) & np.isfinite(work)
        pk &= (work >= low) if low is not None else (work > floor)
        ts, *idx = np.nonzero(pk[(slice(None),) + own])
        local = np.stack(idx, axis=1) + np.array([o.start for o in own], dtype=np.int64)
        at = (ts,) + tuple(local.T)
        pos = (local + origin).astype(np.float64)
        if subpixel:  # refined as in memory: the global position plus the offset
            for t in np.unique(ts):
                pos[ts == t] = peaks.refine(work[t], local[ts == t], pos[ts == t])
        return ts, local + origin, work[at], b[at], pos

    tasks = []
    starts = [np.cumsum((0,) + maps.chunks[ax]) for ax in spatial]
    for block in itertools.product(*(range(len(maps.chunks[ax])) for ax in spatial)):
        lo = [int(s[k]) for s, k in zip(starts, block)]
        hi = [int(s[k + 1]) for s, k in zip(starts, block)]
        a0 = [max(0, a - h) for a, h in zip(lo, halo)]
        a1 = [min(n, b + h) for b, h, n in zip(hi, halo, maps.shape[1:])]
        blk = maps[(slice(None),) + tuple(slice(a, b) for a, b in zip(a0, a1))]
        own = tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, a0))
        tasks.append(dask.delayed(_blocks.per_task(block_peaks))(blk, np.array(a0, dtype=np.int64), own))
    ts, coords, gain, found, pos = (np.concatenate(p) for p in zip(*dask.compute(*tasks)))
    keep = peaks.suppress(gain, coords, maps.shape[1:], radius, len(gain) if max_matches is None else max_matches,
                          tie=ts)
    pos = pos[keep]
    if x.ndim == 1:
        pos = pos[:, 1:]
    # the maps' own values and dtype, as in memory
    return peaks.Matches(pos, found[keep].astype(x.dtype, copy=False), template=ts[keep].astype(np.int64))
