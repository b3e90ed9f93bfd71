"""FFT convolution paths (Python level, on scipy.fft with all cores).

* ``fftconv``: one transform of the whole (padded) extent, real transforms for
  real input.  The zero padding is skipped where it is free to skip: the first
  pass of a 2-D transform runs only over the rows that hold data, and the last
  pass of the inverse only over the rows that are kept.
* ``overlap_save``: overlap-save along the last axis for long signals with much
  shorter kernels: fixed-size blocks transformed as one batch (so ``workers``
  spreads them over the cores, which a single 1-D transform cannot do).

Both take arrays whose convolved axes are the last ``nd`` ones, with broadcast-
compatible leading (batch) axes, and return the convolution (kernel flipped)
for ``mode`` with scipy's centring.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft as sfft

from . import _costs, _geometry, _workspace
from ._runtime import threads

try:  # scipy.fft's transforms with an output argument (not in its public API)
    from scipy.fft._pocketfft import pypocketfft as _pocket
except ImportError:  # pragma: no cover - another scipy layout
    _pocket = None


def _rfft2_into(x, out):
    """``scipy.fft.rfft2(x)`` written into ``out`` (a buffer sigcorr keeps:
    no fresh pages to fault in on every call).  Falls back to the public
    function if scipy's transform module changes."""
    if _pocket is not None:
        try:
            return _pocket.r2c(x, (-2, -1), True, 0, out, threads())
        except (TypeError, ValueError, AttributeError):
            pass
    out[...] = sfft.rfft2(x, workers=threads())
    return out


def rfft_rows(x, n, scratch):
    """``scipy.fft.rfft(x, n, axis=1)`` of the (B, m <= n) rows of ``x``, the
    zero-padded rows and the spectra in sigcorr's work buffers ``scratch``
    (valid until that tag's next use)."""
    B, m = x.shape
    padded = _workspace.empty(scratch + ":rows", (B, n), x.dtype)
    padded[:, :m] = x
    padded[:, m:] = 0
    cplx = np.result_type(x.dtype, np.complex64)
    out = _workspace.empty(scratch + ":spec", (B, n // 2 + 1), cplx)
    if _pocket is not None:
        try:
            return _pocket.r2c(padded, (1,), True, 0, out, threads())
        except (TypeError, ValueError, AttributeError):
            pass
    out[...] = sfft.rfft(padded, axis=1, workers=threads())
    return out


def _irfft_into(x, n, out):
    """``scipy.fft.irfft(x, n)`` (last axis) written into ``out``."""
    if _pocket is not None:
        try:
            return _pocket.c2r(x, (x.ndim - 1,), n, False, 2, out, threads())
        except (TypeError, ValueError, AttributeError):
            pass
    out[...] = sfft.irfft(x, n, workers=threads())
    return out


def _forward(x, n, real, axis=-1):
    """Transform along ``axis`` at length n: real (half spectrum) or complex."""
    return (sfft.rfft if real else sfft.fft)(x, n, axis=axis, workers=threads())


def _inverse(x, n, real, axis=-1):
    """Inverse of :func:`_forward` (overwrites ``x``)."""
    return (sfft.irfft if real else sfft.ifft)(x, n, axis=axis, workers=threads(), overwrite_x=True)


def fftconv(a, k, nd, mode):
    """Convolution over the last ``nd`` axes by one big transform."""
    real = a.dtype.kind == "f"
    ns = a.shape[a.ndim - nd:]
    ms = k.shape[k.ndim - nd:]
    fshape = [sfft.next_fast_len(n + m - 1, real) for n, m in zip(ns, ms)]
    sel = [_geometry.out_slices(n, m, mode) for n, m in zip(ns, ms)]
    if nd == 1:
        fa = _forward(a, fshape[0], real) * _forward(k, fshape[0], real)
        out = _inverse(fa, fshape[0], real)
        s0, l0 = sel[0]
        return out[..., s0:s0 + l0]
    if nd == 2:
        # last axis first over the data rows only, then the row axis padded.
        f1, f0 = fshape[1], fshape[0]
        fa = sfft.fft(_forward(a, f1, real), f0, axis=-2, workers=threads(), overwrite_x=True)
        fk = sfft.fft(_forward(k, f1, real), f0, axis=-2, workers=threads(), overwrite_x=True)
        fa = sfft.ifft(fa * fk, axis=-2, workers=threads(), overwrite_x=True)
        (s0, l0), (s1, l1) = sel
        out = _inverse(fa[..., s0:s0 + l0, :], f1, real)
        return out[..., s1:s1 + l1]
    # N-D: the same passes axis by axis, each forward pass over the data
    # only (the zero padding of the axes not transformed yet is skipped).
    # 'valid' outputs never see a circular wrap once the transform is as
    # long as the larger input: no room for the n + m - 1 of the others.
    if mode == "valid":
        fshape = [sfft.next_fast_len(max(n, m), real) for n, m in zip(ns, ms)]
    batch = np.broadcast_shapes(a.shape[:a.ndim - nd], k.shape[:k.ndim - nd])
    item = 2 * np.dtype(a.dtype).itemsize if real else np.dtype(a.dtype).itemsize
    spec_bytes = math.prod(batch) * math.prod(fshape[:-1]) * (fshape[-1] // 2 + 1) * item
    if spec_bytes > _costs.get().fft_nd_slab_bytes and sel[0][1] > 1:
        return _slabs(a, k, fshape, sel, real, spec_bytes)
    fa = _forward_nd(a, fshape, real)
    fk = _forward_nd(k, fshape, real)
    if np.broadcast_shapes(fa.shape, fk.shape) == fa.shape:
        fa *= fk
    else:
        fa = fa * fk
    del fk
    return _inverse_nd(fa, fshape, sel, real)


def _slabs(a, k, fshape, sel, real, spec_bytes):
    """:func:`fftconv` over three or more axes in slabs along the outermost
    one (overlap-save): each slab of S output planes transforms the S + m - 1
    input planes it needs (zero beyond the input) at a fast length L, so the
    spectra are about ``fft_nd_slab_bytes`` each whatever the volume; the
    kernel's spectrum is computed once."""
    nd = len(fshape)
    n0, m0 = a.shape[a.ndim - nd], k.shape[k.ndim - nd]
    s0, length = sel[0]
    per_plane = spec_bytes / fshape[0]
    L = sfft.next_fast_len(max(int(_costs.get().fft_nd_slab_bytes // per_plane), 2 * m0, 8), real)
    L = min(L, fshape[0])
    step = L - m0 + 1
    shape = list(fshape)
    shape[0] = L
    fk = _forward_nd(k, shape, real)
    batch = np.broadcast_shapes(a.shape[:a.ndim - nd], k.shape[:k.ndim - nd])
    out = None
    ax = a.ndim - nd
    for t0 in range(s0, s0 + length, step):
        cnt = min(step, s0 + length - t0)
        # full output t needs input planes t - m0 + 1 .. t
        lo, hi = t0 - m0 + 1, t0 + cnt
        blk = _workspace.empty("slabs:block", a.shape[:ax] + (hi - lo,) + a.shape[ax + 1:], a.dtype)
        src_lo, src_hi = max(lo, 0), min(hi, n0)
        index = (slice(None),) * ax
        blk[index + (slice(0, max(0, min(src_lo, hi) - lo)),)] = 0
        blk[index + (slice(max(src_hi, lo) - lo, hi - lo),)] = 0
        if src_lo < src_hi:
            blk[index + (slice(src_lo - lo, src_hi - lo),)] = a[index + (slice(src_lo, src_hi),)]
        fb = _forward_nd(blk, shape, real)
        if np.broadcast_shapes(fb.shape, fk.shape) == fb.shape:
            fb *= fk
        else:
            fb = fb * fk
        part = _inverse_nd(fb, shape, [(m0 - 1, cnt)] + list(sel[1:]), real)
        if out is None:
            out = np.empty(batch + (length,) + part.shape[len(batch) + 1:], dtype=part.dtype)
        out[(Ellipsis, slice(t0 - s0, t0 - s0 + cnt)) + (slice(None),) * (nd - 1)] = part
    return out


def _forward_nd(x, fshape, real):
    """Spectrum of ``x`` over its last len(fshape) axes at the sizes
    ``fshape``: the last axis first (real or complex), then the others from
    the inside out, each pass over the data the previous ones produced."""
    nd = len(fshape)
    f = _forward(x, fshape[-1], real)
    for ax in range(nd - 2, -1, -1):
        f = sfft.fft(f, fshape[ax], axis=ax - nd, workers=threads(), overwrite_x=True)
    return f


def _inverse_nd(f, fshape, sel, real):
    """Inverse of :func:`_forward_nd` keeping only the outputs ``sel``
    ((start, length) per axis): the outer axes first, each later pass only
    over what the earlier ones kept."""
    nd = len(fshape)
    for ax in range(nd - 1):
        f = sfft.ifft(f, axis=ax - nd, workers=threads(), overwrite_x=True)
        s0, length = sel[ax]
        index = (Ellipsis, slice(s0, s0 + length)) + (slice(None),) * (nd - 1 - ax)
        f = f[index]
    out = _inverse(f, fshape[-1], real)
    s0, length = sel[-1]
    return out[..., s0:s0 + length]


def overlap_save_block(m):
    """Block length for overlap-save with an m-tap kernel: a fast length of at
    least ``overlap_save_taps`` kernels (the m - 1 samples each block
    discards stay a small part of it)."""
    c = _costs.get()
    return sfft.next_fast_len(max(c.overlap_save_taps * m, c.overlap_save_min_block), True)


def overlap_save(a, k, s0, length):
    """1-D convolution over the last axis by overlap-save.

    ``a`` (..., n) and ``k`` (..., m) broadcast over the leading axes; returns
    the samples ``[s0, s0 + length)`` of the full convolution.  Convolution
    commutes, so the caller passes the longer input as ``a``.
    """
    real = a.dtype.kind == "f"
    n = a.shape[-1]
    m = k.shape[-1]
    L = overlap_save_block(m)
    step = L - m + 1
    nblocks = -(-length // step)
    batch = np.broadcast_shapes(a.shape[:-1], k.shape[:-1])
    # padded signal: x[t - j] lives at xp[t - j + m - 1]; block b needs
    # xp[s0 + b*step : s0 + b*step + L]
    total = s0 + nblocks * step + m - 1
    xp = np.zeros(a.shape[:-1] + (max(total, n + m - 1),), dtype=a.dtype)
    xp[..., m - 1:m - 1 + n] = a
    view = np.lib.stride_tricks.sliding_window_view(xp, L, axis=-1)
    blocks = view[..., s0:s0 + nblocks * step:step, :]
    fb = _forward(blocks, L, real) * _forward(k, L, real)[..., None, :]
    yb = _inverse(fb, L, real)
    y = yb[..., m - 1:].reshape(batch + (nblocks * step,))
    return y[..., :length]


def _sides(n, m, sides, margin):
    """Candidate tile sides along an axis of length n for a template side m:
    the listed fast sizes with room for the template, and the whole axis."""
    whole = sfft.next_fast_len(n, True)
    return [L for L in sides if m + margin <= L < whole] + [whole]


def tile_plan(shape, tshape):
    """Tiling for :func:`tiled_corr`: ``(cost, (Ly, Lx), (ny, nx))``.

    Tiles are Ly x Lx (fast FFT lengths), covering blocks of (Ly - h + 1) x
    (Lx - w + 1) outputs each; a single tile of the whole (fast-padded) image
    is one candidate, since valid outputs never see the circular wrap.  The
    cost counts every transform (tiles forward and back, template once) as
    points * log2(points) plus a fixed overhead (``tile_overhead`` in
    :mod:`sigcorr._costs`).  Plans are remembered per shape and cost model
    (the search is a Python loop that cost a small match call 4% of its time).
    """
    c = _costs.get()
    return _tile_plan(tuple(int(n) for n in shape), tuple(int(n) for n in tshape), c.tile_overhead, c.tile_sides,
                      c.tile_min_margin)


@functools.lru_cache(maxsize=512)
def _tile_plan(shape, tshape, overhead, sides, margin):
    H, W = shape
    h, w = tshape
    oh, ow = H - h + 1, W - w + 1
    best = None
    for Ly in _sides(H, h, sides, margin):
        ny = -(-oh // (Ly - h + 1))
        for Lx in _sides(W, w, sides, margin):
            nx = -(-ow // (Lx - w + 1))
            pts = Ly * Lx
            cost = (2 * ny * nx + 1) * (pts * np.log2(max(pts, 2)) + overhead)
            if best is None or cost < best[0]:
                best = (cost, (Ly, Lx), (ny, nx))
    return best


def tile_padded_shape(shape, tshape, plan):
    """(rows, cols) the image must be zero-padded to for ``plan``."""
    (Ly, Lx), (ny, nx) = plan[1], plan[2]
    h, w = tshape
    return max(ny * (Ly - h + 1) + h - 1, shape[0]), max(nx * (Lx - w + 1) + w - 1, shape[1])


def tiled_corr(img, tpl, plan):
    """Valid-mode cross-correlation of real ``img`` (C, Hp, Wp) with ``tpl``
    (C, h, w), summed over the channels, by tiled FFTs.

    ``img`` is already zero-padded to :func:`tile_padded_shape`.  Each output
    block's input tile (block plus template margin) is transformed at the
    plan's fast size, all tiles and channels as one batch (``workers``
    spreads them over the cores), multiplied by the template's spectrum
    (computed once), summed over the channels and transformed back:
    OpenCV's ``crossCorr`` scheme, on scipy.fft.  Returns ``(blocks, by,
    bx)``: ``blocks[i, j, :by, :bx]`` is the output block at (i * by, j * bx)
    (the array is wider than bx; the caller reads only what it needs).
    """
    return tiled_corr_spec(tile_spectra(img, tpl.shape[1:], plan), tpl, plan)


def tile_spectra(img, tshape, plan, scratch=None):
    """The spectra of ``img``'s tiles for ``plan`` and a template of ``tshape``
    (h, w): (C, ny, nx, Ly, Lx // 2 + 1).  A template stack shares them.

    ``scratch``: a :mod:`sigcorr._workspace` tag to write them into (the
    caller uses them within its call and holds one set per tag)."""
    h, w = tshape
    _, (Ly, Lx), (ny, nx) = plan
    by, bx = Ly - h + 1, Lx - w + 1
    tiles = np.lib.stride_tricks.sliding_window_view(img, (Ly, Lx), axis=(1, 2))[:, ::by, ::bx][:, :ny, :nx]
    if scratch is None:
        return sfft.rfft2(tiles, workers=threads())
    cplx = np.result_type(img.dtype, np.complex64)
    return _rfft2_into(tiles, _workspace.empty(scratch, tiles.shape[:-1] + (Lx // 2 + 1,), cplx))


def tiled_corr_spec(spec_img, tpl, plan, stride=None, scratch=None):
    """:func:`tiled_corr` from the image tiles' spectra (:func:`tile_spectra`).

    ``stride`` (by, bx): the tiles' spacing when they were cut for a larger
    template than ``tpl`` (each tile then holds at least that many valid
    outputs); default the plan's own for ``tpl``.  ``scratch``: a
    :mod:`sigcorr._workspace` tag for the product spectrum and the result
    (valid until the next call with the same tag)."""
    C = spec_img.shape[0]
    blocks, by, bx = tiled_corr_terms(spec_img, tpl, [[(c, c) for c in range(C)]], plan, stride, scratch)
    return blocks[0], by, bx


def tiled_corr_terms(spec_img, kernels, terms, plan, stride=None, scratch=None):
    """Several sums of valid correlations from the image tiles' spectra, their
    inverse transforms in one batch.

    Output ``k`` is the sum over the pairs ``(p, q)`` of ``terms[k]`` of the
    correlation of image plane ``p`` (of ``spec_img``, :func:`tile_spectra`)
    with ``kernels[q]`` (real, all of one size (h, w)).  Returns ``(blocks,
    by, bx)`` with ``blocks`` (K, ny, nx, by, Lx) in :func:`tiled_corr`'s
    block layout; ``stride`` and ``scratch`` as in :func:`tiled_corr_spec`."""
    _, h, w = kernels.shape
    _, (Ly, Lx), (ny, nx) = plan
    by, bx = (Ly - h + 1, Lx - w + 1) if stride is None else stride
    # kernel spectra: the row pass over their h data rows only, then the
    # column pass zero-extends to Ly; conjugated for correlation
    ft = sfft.fft(sfft.rfft(kernels, Lx, axis=-1, workers=threads()), Ly, axis=-2, workers=threads(),
                  overwrite_x=True)
    np.conjugate(ft, out=ft)
    shape = (len(terms),) + spec_img.shape[1:]
    spec = np.empty(shape, ft.dtype) if scratch is None else _workspace.empty(scratch + ":spec", shape, ft.dtype)
    for k, pairs in enumerate(terms):
        (p, q), rest = pairs[0], pairs[1:]
        np.multiply(spec_img[p], ft[q], out=spec[k])
        for p, q in rest:
            spec[k] += spec_img[p] * ft[q]
    # inverse in two passes (the column pass in place), the second only over
    # the rows that are kept
    spec = sfft.ifft(spec, axis=-2, workers=threads(), overwrite_x=True)[..., :by, :]
    if scratch is None:
        return sfft.irfft(spec, Lx, axis=-1, workers=threads()), by, bx
    real = _workspace.empty(scratch + ":corr", spec.shape[:-1] + (Lx,), spec.real.dtype)
    return _irfft_into(spec, Lx, real), by, bx


def block_spectra(x, L, step, b0, nb, scratch):
    """Spectra of the overlap-save blocks ``x[..., b * step : b * step + L]``
    for b in ``b0 .. b0 + nb`` (``x`` (..., n) real, long enough for the
    last block), as (..., nb, L // 2 + 1), in sigcorr's work buffer
    ``scratch`` (valid until that tag's next use).  The blocks are a strided
    view: nothing is copied before the transform."""
    view = np.lib.stride_tricks.sliding_window_view(x, L, axis=-1)[..., b0 * step:(b0 + nb - 1) * step + 1:step, :]
    cplx = np.result_type(x.dtype, np.complex64)
    out = _workspace.empty(scratch, view.shape[:-1] + (L // 2 + 1,), cplx)
    if _pocket is not None:
        try:
            return _pocket.r2c(view, (view.ndim - 1,), True, 0, out, threads())
        except (TypeError, ValueError, AttributeError):
            pass
    out[...] = sfft.rfft(view, axis=-1, workers=threads())
    return out


def irfft_blocks(spec, L, scratch):
    """``scipy.fft.irfft(spec, L)`` along the last axis, all rows as one
    batch over the cores, into sigcorr's work buffer ``scratch``."""
    real = _workspace.empty(scratch, spec.shape[:-1] + (L,), spec.real.dtype)
    return _irfft_into(spec, L, real)
