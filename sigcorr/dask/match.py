"""``match_template`` and ``find_matches`` on Dask arrays.

``match_template`` scores every block with the template's extent of its
neighbours below and to the right (blocks merged first until they are long
against that halo).  ``find_matches`` finds the peaks of every block (with a
``min_distance`` halo), by the in-memory peak rules of
:mod:`sigcorr.match.peaks`, then runs its one best-first suppression over
all of them: the same matches as in memory.
"""

from __future__ import annotations

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
                 chunks=None):
    """:func:`sigcorr.find_matches` on a chunked score map: the peaks of every
    block (with a ``min_distance`` halo), then one suppression over them all.
    Returns :class:`sigcorr.Matches` (computed).

    Examples
    --------
    >>> import numpy as np, sigcorr, sigcorr.dask
    >>> s = np.zeros((200, 200)); s[5, 5] = 1.0; s[120, 77] = 0.9; s[121, 79] = 0.8
    >>> sigcorr.dask.find_matches(s, min_distance=3, chunks=50).positions.tolist()
    [[5.0, 5.0], [120.0, 77.0]]
    """
    x = _blocks.as_dask(scores, chunks, "scores")
    _validate.check_score_map(x.ndim, stack=False)
    threshold, max_matches, radius = _validate.peak_options(threshold, max_matches, min_distance, x.shape)
    maximize = _validate.check_flag(maximize, "maximize")
    subpixel = _validate.check_flag(subpixel, "subpixel")
    ndim = x.ndim
    x2 = x[None, :] if ndim == 1 else x
    if x2.size == 0:
        return peaks.find_matches(np.zeros((0,) * ndim, dtype=x.dtype))
    floor = None
    if threshold is None:  # the map's minimum is no peak (but a map's only score is)
        g = x2.map_blocks(peaks.gains, maximize, dtype=np.float64)
        lowest, count = dask.compute(da.where(g > -np.inf, g, np.inf).min(), (g > -np.inf).sum())
        floor = float(peaks.no_peak_floor(lowest, count))
    low = None if threshold is None else (threshold if maximize else -threshold)
    radius_y = 0 if ndim == 1 else radius  # a 1-D map is one row: no halo across rows

    def block_peaks(b, y0, x0, oy, ox, hy, wx):
        # block b starts at (y0, x0) of the map; its own samples are
        # b[oy:oy + hy, ox:ox + wx] (the rest is the halo)
        work = peaks.gains(b, maximize)
        pk = (work == peaks.max_filter(work[None], radius, ndim != 1)[0]) & np.isfinite(work)
        pk &= (work >= low) if low is not None else (work > floor)
        own = np.zeros_like(pk)
        own[oy:oy + hy, ox:ox + wx] = True
        _, ys, xs = peaks.nonzero3((pk & own)[None])
        pos = np.stack([ys + y0, xs + x0], axis=1).astype(np.float64)
        if subpixel and len(ys):  # refined as in memory: the global position plus the offset
            pos = peaks.refine(work, np.stack([ys, xs], axis=1), pos)
        return np.column_stack([ys + y0, xs + x0, work[ys, xs], b[ys, xs].astype(np.float64), pos])

    tasks = []
    H, W = x2.shape
    ys0 = np.cumsum((0,) + x2.chunks[0])
    xs0 = np.cumsum((0,) + x2.chunks[1])
    for i in range(len(x2.chunks[0])):
        for j in range(len(x2.chunks[1])):
            a0, a1 = max(0, ys0[i] - radius_y), min(H, ys0[i + 1] + radius_y)
            b0, b1 = max(0, xs0[j] - radius), min(W, xs0[j + 1] + radius)
            blk = x2[a0:a1, b0:b1]
            tasks.append(dask.delayed(_blocks.per_task(block_peaks))(blk, a0, b0, ys0[i] - a0, xs0[j] - b0,
                                                                     ys0[i + 1] - ys0[i], xs0[j + 1] - xs0[j]))
    parts = dask.compute(*tasks)
    cand = np.concatenate(parts, axis=0) if parts else np.zeros((0, 6))
    keep = peaks.suppress(cand[:, 2], cand[:, :2], (H, W), radius, len(cand) if max_matches is None else max_matches)
    cand = cand[keep]
    pos = cand[:, 4:6]
    scores_out = cand[:, 3].astype(x.dtype)  # the map's own values and dtype, as in memory
    if ndim == 1:
        pos = pos[:, 1:]
    return peaks.Matches(pos, scores_out)

