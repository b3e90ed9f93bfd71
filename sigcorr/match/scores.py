"""Scores: OpenCV's six template-matching scores, for plain, masked and
missing-pixel windows and for template stacks (``match_template``).

For a template T (h x w) and the image window I under it at each placement,
the scores are OpenCV's ``cv2.matchTemplate`` ones (sums over the window,
and over the channels of a colour image):

==================  ===========================================================
``sqdiff``          sum (I - T)^2
``sqdiff_normed``   sum (I - T)^2 / sqrt(sum I^2 * sum T^2)            in [0, 1]
``ccorr``           sum I T
``ccorr_normed``    sum I T / sqrt(sum I^2 * sum T^2)                  in [-1, 1]
``ccoeff``          sum (I - mean I)(T - mean T)
``ccoeff_normed``   ccoeff / sqrt(sum (I - mean I)^2 * sum (T - mean T)^2)  in [-1, 1]
==================  ===========================================================

Beyond OpenCV: a stack of templates (T, h, w[, C]) is scored in one call
sharing the image's centring and FFT tiles; ``nan_policy="omit"`` scores each
window over its present pixels (Padfield's masked normalized cross-correlation,
``_kernels.windows.omit_scores``); ``locate(scales=, angles=)`` searches zoomed
and rotated copies of the template (copies of every size share one FFT
tiling) and refines scale and angle between the grid steps.

How it is computed: the cross term ``sum I T`` by the direct parallel kernel
for small templates or by tiled real FFTs for large ones (whichever a cost
model says is cheaper); the window sums and sums of squares by running sums in
float64 (``_kernels.windows``); for the ccoeff methods both the image and the
template are centred first, so the numerator is computed directly instead of
as a difference of two large numbers, which keeps near-flat windows accurate.
"""

from __future__ import annotations

import numpy as np

from .. import _conv, _costs, _fft, _geometry, _twins, _validate, _workspace
from .._kernels import windows as _kwin
from .._kernels.codes import MATCH_METHOD_CODES
from .._runtime import run, serialized_if_needed, threads

__all__ = ["match_template"]


def _cross_plan(shape, tshape, item, cells=1):
    """The tiled-FFT plan for the cross term, or None when the direct kernel
    (``corr_padded``, priced as in convolve) is cheaper.  Both paths use
    every core, so the thread count cancels out of the comparison.  With
    ``cells`` > 1 the image is that many equal pieces side by side (a
    mosaic, :func:`match_sizes`) and the direct kernel scores each piece's
    own windows only, not those straddling two."""
    c = _costs.get()
    H, W = shape
    h, w = tshape
    direct = (H - h + 1) * (W // cells - w + 1) * cells * h * w * c.direct_ns[item]
    plan = _fft.tile_plan(shape, tshape)
    return plan if plan[0] * c.tile_ns[item] < direct else None


def _direct_layout(H, W, h, w, cells):
    """(rows, cols) of each of the direct path's ``cells`` blocks of the
    cross term of an (H, W) image and an (h, w) template (see :func:`_cross`):
    one block is the valid output; a piece's block is as wide as the piece."""
    cw = W // cells
    return H - h + 1, (W - w + 1 if cells == 1 else cw)


def _cross(src, tpl, plan, cells=1, dest=None):
    """Sum over channels of the valid cross-correlation of (C, H, W) ``src``
    (zero-padded for ``plan``) with (C, h, w) ``tpl``, as ``(blocks, by, bx)``
    for ``match_scores``.  Direct path: ``cells`` > 1 scores the windows of
    each of that many equal pieces of ``src`` (side by side along its rows)
    alone, in block ``k`` of the layout (block columns past a piece's windows
    are 0: they are never read); ``dest``, the (ny, nx, by, bx) blocks to
    write (default: new ones)."""
    if plan is not None:
        return _fft.tiled_corr(src, tpl, plan)
    C, H, W = src.shape
    _, h, w = tpl.shape
    cw = W // cells
    oh, bx = _direct_layout(H, W, h, w, cells)
    ow = cw - w + 1  # each piece's valid windows
    dest = np.empty((1, cells, oh, bx), dtype=src.dtype) if dest is None else dest
    if cells > 1:
        # the pieces as a batch, piece-major then channel, each with its
        # channel's template
        src = np.ascontiguousarray(src.reshape(C, H, cells, cw).transpose(2, 0, 1, 3)).reshape(cells * C, H, cw)
        tpl = tpl if C == 1 else np.ascontiguousarray(np.broadcast_to(tpl, (cells, C, h, w))).reshape(cells * C, h, w)
    if C == 1 and cells == 1:
        _conv.corr_planes(src, tpl, dest[0], 0, 0)
        return dest, oh, bx
    out = _workspace.empty("match:cells", (cells * C, oh, ow), src.dtype)
    _conv.corr_planes(src, tpl, out, 0, 0)
    if cells > 1:
        dest[0, :, :, ow:] = 0
    dest[0, :, :, :ow] = out.reshape(cells, C, oh, ow).sum(axis=1)
    return dest, oh, bx


def _masked(img, tpl, msk, method):
    """OpenCV's masked matching, in float64 (see match_template's Notes), of
    (C, ...) ``img`` against (C, ...) ``tpl`` with (C, ...) weights ``msk``:
    (C, H, W) planes, or a volume as (1, D, H, W)."""
    corr = _CorrN(img.shape[1:], tpl.shape[1:], np.dtype(np.float64)).corr
    axes = tuple(range(1, img.ndim))
    per = (-1,) + (1,) * (img.ndim - 1)  # a (C,) per-channel value against (C, ...) planes
    I = np.where(np.isfinite(img), img, 0.0).astype(np.float64)
    T = tpl.astype(np.float64)
    M = msk
    M2 = M * M
    if method.startswith("ccoeff"):
        # centred per channel, as on the unmasked path: no ccoeff score
        # changes, and the window energies are small differences of small sums
        I = I - I.mean(axis=axes, keepdims=True)
    II = corr(I * I, M2)
    # the degenerate-window rule's absolute floor (see _kernels.windows)
    peak = float(np.max(np.abs(I))) if I.size else 0.0
    image_floor = _kwin.ENERGY_ABS * float(M2.reshape(M2.shape[0], -1).sum(axis=1).max()) * peak * peak
    if method in ("ccorr", "ccorr_normed", "sqdiff", "sqdiff_normed"):
        cross = corr(I, M2 * T)
        tt = float(np.sum(M2 * T * T))
        if method == "ccorr":
            res = cross
        elif method == "sqdiff":
            res = np.maximum(II - 2 * cross + tt, 0)
        else:
            num = cross if method == "ccorr_normed" else np.maximum(II - 2 * cross + tt, 0)
            den = np.sqrt(np.where(II > image_floor, II, 0.0) * tt)
            res = _normalize(num, den, method)
    else:
        msum = M.reshape(M.shape[0], -1).sum(axis=1)  # per channel
        msum = np.where(msum > 0, msum, 1.0)
        mT = (M * T).reshape(T.shape[0], -1).sum(axis=1) / msum
        Tc = M * (T - mT.reshape(per))  # T'
        num = np.zeros(tuple(n - m + 1 for n, m in zip(I.shape[1:], T.shape[1:])))
        ii = np.zeros_like(num)
        for c in range(I.shape[0]):
            Ic, Mc = I[c:c + 1], M[c:c + 1]
            mI = corr(Ic, Mc) / msum[c]
            num += corr(Ic, (Mc * Tc[c:c + 1])) - mI * float(np.sum(Mc * Tc[c:c + 1]))
            ii += corr(Ic * Ic, Mc * Mc) - 2 * mI * corr(Ic, Mc * Mc) + mI * mI * float(np.sum(Mc * Mc))
        if method == "ccoeff":
            res = num
        else:
            ii = np.where(ii > np.maximum(_kwin.ENERGY_REL * II, image_floor), ii, 0.0)
            res = _normalize(num, np.sqrt(ii * float(np.sum(Tc * Tc))), method)
    bad = ~np.isfinite(img)
    if bad.any():
        # a non-finite pixel reaches every window holding it, whatever its weight
        hit = corr(bad.astype(np.float64), np.ones_like(T)) > 0.5
        res = np.where(hit, np.nan, res)
    return res


class _CorrN:
    """:class:`_Corr`'s interface for planes of any number of axes (a volume's
    (1, D, H, W)): each correlation by the N-D convolution engine, direct or
    FFT as its cost model picks, with no transform shared between kernels
    (the volume paths' correlations are few)."""

    def __init__(self, shape, tshape, dtype):
        self.shape, self.tshape, self.dtype = tuple(shape), tuple(tshape), dtype
        self.axes = tuple(range(1, len(self.shape) + 1))

    def buffer(self, C, scratch=None):
        return np.zeros((C,) + self.shape, dtype=self.dtype)

    def transform(self, src, scratch=None):
        return src

    def prep(self, planes, scratch=None):
        return np.ascontiguousarray(planes, dtype=self.dtype)

    def corr(self, planes, ker):
        """Sum over channels of the valid cross-correlations of (C, ...)
        ``planes`` with (C, ...) ``ker`` (or one kernel for all), as float64."""
        flipped = ker[(slice(None),) + (slice(None, None, -1),) * len(self.axes)]
        ker = np.ascontiguousarray(flipped, dtype=self.dtype)
        out = _conv.convolve_core(self.prep(planes), ker, self.axes, "valid", "auto")
        return out.sum(axis=0, dtype=np.float64)


class _Corr:
    """Valid cross-correlations (summed over channels, as float64 maps) of
    image planes of one size with kernels of one size, on the path the cost
    model picks for them; each plane set's FFT tiles are transformed once and
    shared by every kernel it meets."""

    def __init__(self, shape, tshape, dtype):
        self.shape, self.tshape, self.dtype = shape, tshape, dtype
        self.plan = _cross_plan(shape, tshape, dtype.itemsize)
        self.padded = shape if self.plan is None else _fft.tile_padded_shape(shape, tshape, self.plan)

    def buffer(self, C, scratch=None):
        """(C, *padded) planes in the compute dtype, zero outside the image's
        (H, W) corner, which the caller fills.  ``scratch``: a ``_workspace``
        tag to take them from (then the caller uses them within its call)."""
        if scratch is None:
            return np.zeros((C,) + self.padded, dtype=self.dtype)
        src = _workspace.empty(scratch, (C,) + self.padded, self.dtype)
        H, W = self.shape
        src[:, H:, :] = 0
        src[:, :H, W:] = 0
        return src

    def transform(self, src, scratch=None):
        """``src`` (from :meth:`buffer`, filled) with its tiles' spectra."""
        if self.plan is None:
            return src, None
        return src, _fft.tile_spectra(src, self.tshape, self.plan, None if scratch is None else scratch + ":spec")

    def prep(self, planes, scratch=None):
        src = self.buffer(planes.shape[0], scratch)
        src[:, :planes.shape[1], :planes.shape[2]] = planes
        return self.transform(src, scratch)

    def blocks(self, prepped, ker, scratch=None):
        """The correlation as ``(blocks, by, bx)`` (``match_scores``'s layout);
        ``scratch``: a ``_workspace`` tag for it (valid until its next use)."""
        src, spec = prepped
        ker = np.ascontiguousarray(ker, dtype=self.dtype)
        if spec is None:
            return _cross(src, ker, None)
        return _fft.tiled_corr_spec(spec, ker, self.plan, scratch=scratch)

    def corr(self, prepped, ker):
        """The correlation as one float64 (oh, ow) map."""
        cross, by, bx = self.blocks(prepped, ker)
        oh, ow = self.shape[0] - self.tshape[0] + 1, self.shape[1] - self.tshape[1] + 1
        ny, nx = cross.shape[:2]
        full = cross[:, :, :by, :bx].transpose(0, 2, 1, 3).reshape(ny * by, nx * bx)
        return full[:oh, :ow].astype(np.float64)


def omit(img, tpl, msk, method, dtype, min_overlap):
    """Scores over the pixels present in both window and template
    (``nan_policy="omit"``): Padfield's masked correlation, every window sum
    restricted to the overlap of the image's and the template's present pixels.

    With P the image's presence, f the image (0 where missing), M the
    template's presence and t the template (0 where missing), per channel:
    overlap N = P*M, image sums S_I = f*M, Q_I = f^2*M, template sums
    S_T = P*t, Q_T = P*t^2 and the cross term X = f*t (* a valid
    cross-correlation).  Without a template mask the M-correlations are box
    sums (float64 running sums); the others are FFT (or direct) correlations
    sharing each plane set's transform.  For the ccoeff methods image and
    template are first centred by their present means, which changes no score
    and keeps the differences of sums small.

    ``img`` (C, H, W) and ``tpl`` (C, h, w), or a volume as (1, D, H, W) and
    (1, d, h, w): its correlations come from :class:`_CorrN` (the N-D engine)
    and take the general path below, the formulas the 2-D template masks use.
    """
    C, shape, tshape = img.shape[0], img.shape[1:], tpl.shape[1:]
    axes = tuple(range(1, len(shape) + 1))
    per = (-1,) + (1,) * len(shape)  # a (C,) per-channel value against (C, ...) planes
    # the image's presence P: its finite pixels (image_mask's missing ones are NaN by now)
    P = np.isfinite(img).all(axis=0)
    mt = np.isfinite(tpl)
    if msk is not None:
        mt &= msk > 0
    t = np.where(mt, tpl, 0).astype(np.float64)
    ccoeff = method.startswith("ccoeff")
    if ccoeff:
        tm = t.reshape(C, -1).sum(axis=1) / np.maximum(mt.reshape(C, -1).sum(axis=1), 1)
        t = np.where(mt, t - tm.reshape(per), 0.0)
    cor = _Corr(shape, tshape, dtype) if len(shape) == 2 else _CorrN(shape, tshape, dtype)
    # FFT sums carry rounding of the order of the whole template's energy
    fft_rel = _fft_energy(dtype)
    template_floor = fft_rel * float(np.sum(t * t))
    # the image's C planes (centred for ccoeff, missing pixels zeroed) and its
    # presence as one more plane, in the compute dtype, written straight into
    # the padded FFT planes (sigcorr's work buffers when the template is whole
    # and the planes 2-D: the fast path's kernel is 2-D only)
    fast = len(shape) == 2 and mt.all()
    src = cor.buffer(C + 1, "omit:planes" if fast else None)
    corner = tuple(slice(0, n) for n in shape)
    inner = src[(slice(0, C),) + corner]
    missing = ~P
    inner[...] = img
    np.copyto(inner, 0, where=missing)
    if ccoeff:  # centred by the present pixels' means
        means = inner.sum(axis=axes, dtype=np.float64) / max(P.size - int(np.count_nonzero(missing)), 1)
        inner -= means.astype(dtype).reshape(per)
        np.copyto(inner, 0, where=missing)
    src[(C,) + corner] = P
    f, present = src[:C], src[C]
    if fast:
        (H, W), (h, w) = shape, tshape
        # flat windows: the running sums' rounding floor, as in match_scores
        peak = max(float(inner.max()), -float(inner.min())) if inner.size else 0.0
        image_floor = _kwin.ENERGY_ABS * h * w * peak * peak
        # the template sums are box sums in the kernel; the FFT terms, their
        # inverse transforms in one batch: X = sum_c f_c * t_c, Q_T = P * sum_c t_c^2
        # and (ccoeff) S_T,c = P * t_c
        kernels = np.concatenate([t, (t * t).sum(axis=0)[None]]).astype(dtype)
        terms = [[(c, c) for c in range(C)], [(C, C)]] + ([[(C, c)] for c in range(C)] if ccoeff else [])
        if cor.plan is None:
            res = [sum(_cross(src[p:p + 1], np.ascontiguousarray(kernels[q:q + 1]), None)[0] for p, q in pairs)
                   for pairs in terms]
            by, bx = res[0].shape[2:]
            blocks = np.stack(res)
        else:
            _, spec = cor.transform(src, "omit:planes")
            blocks, by, bx = _fft.tiled_corr_terms(spec, kernels, terms, cor.plan, scratch="omit:terms")
        X, QT = blocks[0], blocks[1]
        ST = (blocks[2:].reshape((-1,) + blocks.shape[2:]) if ccoeff else np.zeros((1, 1, 1, 1), dtype=dtype))
        out = np.empty((H - h + 1, W - w + 1), dtype=dtype)
        return run(_kwin.omit_scores, _twins.omit_scores, f, present, X, ST, QT, by, bx, h, w,
                   MATCH_METHOD_CODES[method], image_floor, template_floor, min_overlap * h * w, out)
    pf = cor.transform(np.ascontiguousarray(f))
    pp = cor.transform(np.ascontiguousarray(src[C:]))
    X = cor.corr(pf, t)
    QT = cor.corr(pp, (t * t).sum(axis=0)[None])
    ST = [cor.corr(pp, t[c:c + 1]) for c in range(C)] if ccoeff else None
    # a template mask (or a volume): every sum is a correlation with it
    f = inner.astype(np.float64)
    mf = mt.astype(np.float64)
    Nc = [cor.corr(pp, mf[c:c + 1]) for c in range(C)]
    one = np.eye(C).reshape((C, C) + (1,) * len(shape)) * mf[None]  # channel c's mask alone
    SI = [cor.corr(pf, one[c]) for c in range(C)] if ccoeff else None
    QI = cor.corr(cor.prep((f * f).astype(dtype)), mf)
    N = np.rint(sum(Nc))
    NcS = [np.maximum(np.rint(n), 1.0) for n in Nc]
    QT = np.where(QT > template_floor, QT, 0.0)
    if method == "ccorr":
        res = X
    elif method.startswith("sqdiff") or method == "ccorr_normed":
        num = X if method == "ccorr_normed" else np.maximum(QI - 2 * X + QT, 0.0)
        res = num if method == "sqdiff" else _normalize(num, np.sqrt(np.maximum(QI, 0.0) * QT), method)
    else:
        num = X - sum(si * st / n for si, st, n in zip(SI, ST, NcS))
        if method == "ccoeff":
            res = num
        else:
            EI = QI - sum(si * si / n for si, n in zip(SI, NcS))
            EI = np.where(EI > fft_rel * QI, EI, 0.0)
            ET = QT - sum(st * st / n for st, n in zip(ST, NcS))
            ET = np.where(ET > template_floor, ET, 0.0)
            res = _normalize(num, np.sqrt(EI * ET), method)
    need = min_overlap * float(mt.sum())
    return np.where((N > 0) & (N >= need - 0.5), res, np.nan).astype(dtype)


def _fft_energy(dtype):
    """The relative rounding floor of energies made of FFT sums in ``dtype``
    (the degenerate-window rule, ``_kernels.windows``)."""
    return _kwin.FFT_ENERGY_F32 if dtype.itemsize == 4 else _kwin.FFT_ENERGY_F64


def _normalize(num, den, method):
    """num / den under the degenerate-window rule of every path (see
    ``_kernels.windows``): 0 (1 for sqdiff_normed) where den is 0 or rounding
    noise; the callers zero energies at their rounding level first."""
    return _twins.normed_score(num, den, 1.0 if method == "sqdiff_normed" else 0.0, np.float64)


@serialized_if_needed
def match_template(image, template, method="ccoeff_normed", *, mask=None, pad_input=False,
                   nan_policy="propagate", image_mask=None, min_overlap=0.5, stack=None,
                   channel_axis=_validate.CHANNEL_DEFAULT, mode="constant", constant_values=0):
    """Score every placement of ``template`` over ``image``, as ``cv2.matchTemplate``.

    Parameters
    ----------
    image : array_like, 1-D, 2-D or colour (H, W, C)
        Any real dtype; float32, bool and 8/16-bit integer images are computed
        in float32 (with float64 window sums), everything else in float64.
    template : array_like
        Same number of dimensions (and channels) as ``image``, not larger in
        any axis; or a stack of equal-sized templates with one more axis in
        front: (T, w), (T, h, w) or (T, h, w, C).  A stack is scored in one
        call, sharing the image's centring and its FFT tiles' spectra, and
        gives (T, ...) scores, ``scores[k]`` equal to the call with
        ``template[k]``.  A template with NaN pixels: see ``nan_policy``.
    method : {'ccoeff_normed', 'ccorr_normed', 'sqdiff_normed', 'ccoeff', 'ccorr', 'sqdiff'}
        OpenCV's ``TM_*`` scores (see the module docstring for the formulas).
        Colour images are combined as OpenCV does: sums run over the channels.
    mask : array_like, optional
        Weights >= 0 of the template's shape (or (h, w) for a colour
        template; a volume's (d, h, w)), as in OpenCV's masked matching:
        ``sqdiff`` becomes sum (M (I - T))^2, ``ccorr`` sum M^2 I T,
        ``ccoeff`` sum T' I' with T' = M (T - weighted mean of T) and
        I' = M (I - weighted mean of I).
    pad_input : bool
        False: the "valid" output, ``image.shape - template.shape + 1``.
        True: ``image.shape``, as ``skimage.feature.match_template``: index i
        holds the window starting at ``i - template.shape // 2`` on the
        image padded as ``mode`` says (zeros by default).
    nan_policy : {'propagate', 'omit'}
        Missing pixels are the image's non-finite ones and those outside
        ``image_mask``, and the template's non-finite ones.  'propagate'
        (the default): a window holding one scores NaN, so a template with a
        NaN (or infinite) pixel scores NaN everywhere (with ``mask``: a
        pixel of weight > 0), as NumPy's sums would.  'omit': each window is scored over the pixels present in
        both the window and the template (the template's own NaN pixels and,
        with ``mask``, its pixels of weight 0 are missing too), Padfield's
        masked normalized cross-correlation (IEEE TIP 2012): every sum of the
        formulas above, the means included, runs over that overlap only.
        With 'omit' a ``mask`` must be binary.  NumPy masked arrays (image
        or template) have their masked values read as missing pixels with
        'omit' (the same scores as NaN there); with 'propagate' a masked
        array with masked values is refused (a ``TypeError``), since its
        masked values would be used as data.
    image_mask : array_like of bool, optional
        The image's shape ((H, W) for a colour image, (D, H, W) for a
        volume): False marks missing pixels (a cloud mask, dead pixels).
    min_overlap : float
        With 'omit', a window whose overlap holds fewer than this fraction
        of the template's present pixels (or none) scores NaN.
    channel_axis : int or None, optional
        scikit-image's keyword.  By default a 3-D image is a colour image
        (H, W, C), as in OpenCV, when the template's last axis has its C
        channels (or C is at most 4: RGB(A)), and a volume (D, H, W)
        otherwise.  ``None`` makes every
        axis spatial: a 3-D image is a volume, matched with a 3-D template
        (d, h, w) or a (T, d, h, w) stack, giving (D - d + 1, H - h + 1,
        W - w + 1) scores (``image.shape`` with ``pad_input``), all six
        methods, NaN voxels reaching only their windows; ``mask`` (the
        template's (d, h, w) weights, one for a whole stack),
        ``nan_policy``, ``image_mask`` (the volume's (D, H, W)) and
        ``min_overlap`` as for images.  An int names the colour axis of a
        3-D image (moved last; the template's must have as many channels).
        Images of four or more axes are refused.
    mode : str
        How ``pad_input`` pads the image, scikit-image's ``mode`` (numpy.pad's
        modes): 'constant' (the default, ``constant_values``), 'edge',
        'reflect', 'symmetric', 'wrap', 'linear_ramp' (to 0 over the
        template's extent, as scikit-image pads), or the row's statistic
        'mean', 'median', 'maximum', 'minimum'.  Missing pixels padded by
        copying stay missing; a statistic over a row that holds one is NaN.
        Without ``pad_input`` every window lies inside the image and the
        padding is never read.
    constant_values : float
        The padding's value with ``mode='constant'`` (default 0; NaN pads
        with missing pixels, which ``nan_policy='omit'`` leaves out).
    stack : bool, optional
        Whether ``template`` is a stack of templates.  None (the default)
        reads one with one more axis than ``image`` as a stack, except where
        that is ambiguous: a grey (1-D or 2-D) image with a template whose
        last axis has 3 or 4 entries, which looks like colour channels
        (an (h, w, 3) template on an (H, W) image), raises a ``ValueError``:
        convert the template to grey (or the image to colour), or pass
        ``stack=True`` for a stack of (w, 3) templates.  True and False
        force the reading.

    Returns
    -------
    scores : ndarray
        float32 for float32/8/16-bit input, else float64.

    Notes
    -----
    Degenerate windows (the OpenCV rule): where the normalizing denominator
    is 0 (a flat window for ``ccoeff_normed``, an all-zero window for the
    other two) ``ccoeff_normed`` and ``ccorr_normed`` score 0 and
    ``sqdiff_normed`` 1; a flat template scores 0 everywhere for
    ``ccoeff_normed`` (OpenCV gives 1 there).  A window whose energy is
    lost to rounding (a flat region plus noise below about 1e-6 of its level)
    counts as flat, with or without ``mask`` and ``nan_policy``: every path
    shares one rule (see ``sigcorr._kernels.windows``).  The normalized
    scores are clamped to [-1, 1] ([0, 1] for ``sqdiff_normed``).  NaN in the
    image makes only the windows that contain it NaN.

    Scale: the normalized scores do not depend on the data's scale, from
    1e-300 to 1e300 in float64 and across float32's range: image and
    template are multiplied by one power of two (exact: only the exponents
    change) into a safe range before their sums of squares are formed, and
    data already inside it are not touched.  The unnormalized scores (sums
    of products) are scaled back, so they overflow to inf (or underflow to
    0) only where the true value does.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((64, 64)).astype(np.float32)
    >>> scores = sigcorr.match_template(image, image[20:28, 30:40])
    >>> scores.shape
    (57, 55)
    >>> np.unravel_index(np.argmax(scores), scores.shape)
    (np.int64(20), np.int64(30))
    >>> round(float(scores.max()), 4)
    1.0

    A stack of templates, and an image with missing pixels:

    >>> sigcorr.match_template(image, np.stack([image[:8, :8], image[5:13, 9:17]])).shape
    (2, 57, 57)
    >>> holes = image.copy()
    >>> holes[22:25, 33:35] = np.nan
    >>> omit = sigcorr.match_template(holes, image[20:28, 30:40], nan_policy="omit")
    >>> round(float(omit[20, 30]), 4), bool(np.isnan(omit).any())
    (1.0, False)

    A volume (every axis spatial):

    >>> volume = rng.random((24, 20, 22)).astype(np.float32)
    >>> scores = sigcorr.match_template(volume, volume[5:11, 7:12, 3:9], channel_axis=None)
    >>> scores.shape, np.unravel_index(np.argmax(scores), scores.shape)
    ((19, 16, 17), (np.int64(5), np.int64(7), np.int64(3)))

    Template weights and missing voxels work on volumes as on images:

    >>> weights = rng.random((6, 5, 6))
    >>> masked = sigcorr.match_template(volume, volume[5:11, 7:12, 3:9], mask=weights, channel_axis=None)
    >>> round(float(masked[5, 7, 3]), 4)
    1.0
    >>> gappy = volume.copy()
    >>> gappy[rng.random(gappy.shape) < 0.1] = np.nan
    >>> omit = sigcorr.match_template(gappy, volume[5:11, 7:12, 3:9], nan_policy="omit", channel_axis=None)
    >>> round(float(omit[5, 7, 3]), 4), bool(np.isnan(omit).any())
    (1.0, False)
    """
    method = _validate.check_match_method(method)
    pad_mode, pad_value = _validate.check_pad_mode(mode, constant_values)
    image, template, volume = _validate.channel_reading(image, template, channel_axis, stack)
    if volume:
        return _match_volume(image, template, method, mask, pad_input, nan_policy, image_mask, min_overlap, stack,
                             (pad_mode, pad_value))
    # masked arrays: missing pixels with "omit", refused otherwise (so the policy first)
    omit_ = _validate.check_choice(nan_policy, "nan_policy", _validate.NAN_POLICIES) == "omit"
    img, tpls, msk, one_d, dtype, stack = _validate.match_stack_inputs(
        image, template, mask, stack=stack, masked="missing" if omit_ else "nan_policy='omit'")
    policy, present, min_overlap = _validate.missing_inputs(nan_policy, image_mask, min_overlap, image, msk)
    pad_input = _validate.check_flag(pad_input, "pad_input")
    pad = (pad_mode, pad_value) if pad_input else None
    out = _scored(img, tpls, msk, method, dtype, policy, present, min_overlap, pad,
                  lambda img, tpls, ext: match_stack(img, tpls, method, dtype, ext))
    if one_d:
        out = out[:, 0]
    return out if stack else out[0]


def _scored(img, tpls, msk, method, dtype, policy, present, min_overlap, pad, plain):
    """match_template's scores (T, ...) of validated (C, ...) ``img`` against
    (T, C, ...) ``tpls`` (planes of images, or a volume as one channel) with
    (C, ...) weights ``msk`` or None, for either ``policy``: ``present``
    (``image_mask``'s kept pixels, or None), ``pad`` (``pad_input``'s (mode,
    value), or None) and the scale-free rule applied first; ``plain(img,
    tpls, ext)``: the unmasked "propagate" scores of the scaled data."""
    if present is not None:
        # pixels outside image_mask are missing: NaN, which reaches their
        # windows (omit leaves them out); a padding that copies them copies NaN
        img = np.ascontiguousarray(np.where(present, img, np.nan), dtype=dtype)
    if pad is not None:
        img = padded_input(img, tpls.shape[2:], *pad)
    img, tpls, k, ext = _validate.scale_free(img, tpls, dtype)
    lost = None
    if policy == "propagate":
        tpls, lost = template_missing(tpls, msk)
    if policy == "omit":
        out = _stacked([omit(img, t, msk, method, dtype, min_overlap) for t in tpls])
    elif msk is not None:
        out = _stacked([_masked(img, t, msk, method).astype(dtype) for t in tpls])
    else:
        out = plain(img, tpls, ext)
    if not _validate.normalized(method):
        out = _validate.unscale(out, k)
    if lost is not None:
        out[lost] = np.nan
    return out


def padded_input(img, tshape, mode, value):
    """(C, ...) ``img`` extended for ``pad_input`` along the template's axes
    (``tshape``: (h, w), or (d, h, w) for a volume), as scikit-image pads (:func:`sigcorr._geometry.input_pads`)."""
    pads, crops = _geometry.input_pads(tshape, mode)
    if mode == "constant":
        return np.pad(img, [(0, 0)] + pads, constant_values=value)
    out = np.pad(img, [(0, 0)] + pads, mode=mode)
    if crops is not None:
        out = np.ascontiguousarray(out[(slice(None),) + tuple(slice(a, b) for a, b in crops)])
    return out


def _match_volume(image, template, method, mask, pad_input, nan_policy, image_mask, min_overlap, stack, pad):
    """match_template on a volume (``channel_axis=None``): the 2-D rules
    (:func:`_scored`) on the volume as one (1, D, H, W) channel."""
    omit_ = _validate.check_choice(nan_policy, "nan_policy", _validate.NAN_POLICIES) == "omit"
    img, tpls, msk, dtype, stack = _validate.volume_inputs(
        image, template, stack, mask=mask, masked="missing" if omit_ else "nan_policy='omit'")
    policy, present, min_overlap = _validate.missing_inputs(nan_policy, image_mask, min_overlap, image, msk,
                                                            volume=True)
    pad_input = _validate.check_flag(pad_input, "pad_input")

    def plain(img, tpls, ext):
        return match_volume(np.ascontiguousarray(img[0], dtype=dtype), tpls[:, 0], method, dtype)

    out = _scored(img[None], tpls[:, None], None if msk is None else msk[None], method, dtype, policy, present,
                  min_overlap, pad if pad_input else None, plain)
    return out if stack else out[0]


def match_volume(img, tpls, method, dtype):
    """Scores (T, od, oh, ow) of the (D, H, W) volume ``img`` against each
    (d, h, w) template of ``tpls``: the cross terms of the centred volume
    with each centred template by the N-D convolution engine (direct or FFT
    by the cost model), then ``volume_scores``' float64 running window sums
    (as match_stack's, the centring and the degenerate-window rule
    included)."""
    T, d, h, w = tpls.shape
    D, H, W = img.shape
    # (large fresh arrays cost their page faults: no temporaries of the
    # volume's size but the centred copy, which is a work buffer)
    total = img.sum(dtype=np.float64)
    finite = bool(np.isfinite(total))  # the data are in the safe range: no overflow
    ok = None
    if not finite:
        ok = np.isfinite(img)
        img = np.where(ok, img, 0).astype(dtype)
        total = img.sum(dtype=np.float64)
    mean = total / (img.size if finite else max(int(np.count_nonzero(ok)), 1))
    src = np.subtract(img, dtype.type(mean), out=_workspace.empty("match3d:src", img.shape, dtype))
    if not finite:
        src[~ok] = 0
    ccoeff = method.startswith("ccoeff")
    stats = src if ccoeff else img
    peak = max(float(stats.max()), -float(stats.min())) if stats.size else 0.0
    t64 = tpls.astype(np.float64)
    tmean = t64.reshape(T, -1).mean(axis=1)
    tcs = t64 - tmean[:, None, None, None]
    shape = (T, D - d + 1, H - h + 1, W - w + 1)
    out = None
    # the cross terms, one template at a time (each its own 'auto' choice;
    # both inputs finite here, so the FFT path needs no NaN bookkeeping);
    # the scores are written over them
    for t in range(T):
        ker = np.ascontiguousarray(tcs[t, ::-1, ::-1, ::-1]).astype(dtype)
        if _conv.choose(src, ker, 3, "valid") == "fft":
            cross = _fft.fftconv(src, ker, 3, "valid")
        else:
            cross = _conv.convolve_core(src, ker, (0, 1, 2), "valid", "direct")
        if T == 1 and cross.flags.c_contiguous and cross.flags.writeable and cross.dtype == dtype:
            out = cross[None]  # (a slab-wise FFT's result is a fresh array: no second copy)
            break
        if out is None:
            out = np.empty(shape, dtype=dtype)
        out[t] = cross
    if method != "ccoeff":
        tsum2 = (t64 * t64).reshape(T, -1).sum(axis=1)
        tnorm = np.sqrt((tcs * tcs).reshape(T, -1).sum(axis=1) if ccoeff else tsum2)
        qeps = _kwin.ENERGY_ABS * d * h * w * peak * peak
        zb = max(1, -(-out.shape[1] // (4 * threads())))  # output slices per task
        run(_kwin.volume_scores, _twins.volume_scores, np.ascontiguousarray(stats), d, h, w, out,
            MATCH_METHOD_CODES[method], tmean, tsum2, tnorm, float(qeps), zb, out)
    if not finite:
        hit = _conv.convolve_core((~ok).astype(np.float64), np.ones((d, h, w)), (0, 1, 2), "valid", "auto") > 0.5
        out[:, hit] = np.nan
    return out


def template_missing(tpls, msk):
    """The "propagate" rule for the templates' missing pixels: a template
    with a NaN or infinite pixel (of weight > 0 under ``msk``) has it in every
    window, so all its scores are NaN, as a NaN image pixel's windows are.
    Returns ``(tpls, lost)``: the templates with those pixels zeroed (the
    kernels see finite numbers) and a (T,) bool of the templates whose maps
    are NaN, or None when none is."""
    ok = np.isfinite(tpls)
    if ok.all():
        return tpls, None
    bad = ~ok if msk is None else ~ok & (msk[None] > 0)
    lost = bad.reshape(len(tpls), -1).any(axis=1)
    return np.where(ok, tpls, 0).astype(tpls.dtype), (lost if lost.any() else None)


def _stacked(maps):
    """(T, oh, ow) from a list of T maps (a view for one, not a copy)."""
    return maps[0][None] if len(maps) == 1 else np.stack(maps)


def match_plain(img, tpl, method, dtype, cells=1):
    """Scores of (C, H, W) ``img`` against (C, h, w) ``tpl`` (no mask);
    ``cells`` as in :func:`match_sizes`."""
    return match_sizes(img, [tpl], method, dtype, cells=cells)[0]


def match_stack(img, tpls, method, dtype, ext=None):
    """Scores (T, oh, ow) of (C, H, W) ``img`` against each (C, h, w) template
    of ``tpls`` (T, C, h, w): the image's centring, its non-finite counts and
    (on the FFT path) its tiles' spectra are computed once for the stack.
    ``ext``: ``img``'s per-channel extrema, when the caller has them."""
    (T, _, h, w), (_, H, W) = tpls.shape, img.shape
    out = np.empty((T, H - h + 1, W - w + 1), dtype=dtype)
    match_sizes(img, list(tpls), method, dtype, outs=out, ext=ext)
    return out


def _shared_plan(shape, sizes, item, cells=1):
    """One FFT tiling for templates of several sizes, or None (direct path):
    the tiles of the largest template's plan, their stride set by the
    largest template and their count by the smallest (the most outputs)."""
    hmax, wmax = max(s[0] for s in sizes), max(s[1] for s in sizes)
    hmin, wmin = min(s[0] for s in sizes), min(s[1] for s in sizes)
    plan = _cross_plan(shape, (hmax, wmax), item, cells)
    if plan is None or len(sizes) == 1:
        return plan
    _, (Ly, Lx), _ = plan
    by, bx = Ly - hmax + 1, Lx - wmax + 1
    ny, nx = -(-(shape[0] - hmin + 1) // by), -(-(shape[1] - wmin + 1) // bx)
    return plan[0], (Ly, Lx), (ny, nx)


def match_sizes(img, tpls, method, dtype, outs=None, ext=None, cells=1):
    """Score maps of (C, H, W) ``img`` against each (C, h, w) template of the
    list ``tpls`` (sizes may differ: a scale search), sharing the image's
    centring and one FFT tiling whose tile spectra every template multiplies.
    ``outs``: a (T, oh, ow) array to write the maps into (default new ones);
    ``ext``: ``img``'s per-channel :func:`~sigcorr._validate.extrema`, when the
    caller has them (they save a pass over the image); ``cells``: ``img`` is
    a mosaic of that many equal pieces side by side, of which only each
    piece's own windows are wanted (the others are not scored when the
    direct kernel is chosen: garbage, not to be read).  The temporaries live
    in sigcorr's work buffers (``_workspace``)."""
    C, H, W = img.shape
    sizes = sorted({t.shape[1:] for t in tpls})
    hmax, wmax = max(s[0] for s in sizes), max(s[1] for s in sizes)
    plan = _shared_plan((H, W), sizes, dtype.itemsize, cells)
    if plan is None:
        shape = (H, W)
    else:
        (Ly, Lx), (ny, nx) = plan[1], plan[2]
        stride = (Ly - hmax + 1, Lx - wmax + 1)
        shape = (max(ny * stride[0] + hmax - 1, H), max(nx * stride[1] + wmax - 1, W))
    sums = run(_kwin.row_sums, _twins.row_sums, img).sum(axis=1)
    finite = bool(np.isfinite(sums).all())
    # centre image and template (per channel): the cross term is computed on
    # small numbers; the kernel adds the template mean back in float64.  The
    # centred image is allocated at the FFT tiles' padded size right away.
    bads = {}
    if finite:
        means = sums / (H * W)
    else:
        ok = np.isfinite(img)
        img = np.where(ok, img, 0).astype(dtype)
        means = np.array([p[k].mean(dtype=np.float64) if k.any() else 0.0 for p, k in zip(img, ok)])
        nbad = np.ascontiguousarray((~ok).sum(axis=0, dtype=np.float64))
        bads = {(h, w): run(_kwin.window_sums, _twins.window_sums, nbad, h, w) for h, w in sizes}
    src = run(_kwin.centre_padded, _twins.centre_padded, img, means.astype(dtype),
              _workspace.empty("match:src", (C,) + shape, dtype))
    if not finite:
        src[:, :H, :W][~ok] = 0
    ccoeff = method.startswith("ccoeff")
    stats = src if ccoeff else np.ascontiguousarray(img)
    # rounding floor of the window energies (see _kernels.windows.match_scores)
    peak = stats_peak(stats, ext if finite else None, means if ccoeff else None)
    spec = None if plan is None else _fft.tile_spectra(src, (hmax, wmax), plan, scratch="match:tiles")
    res = [None] * len(tpls)
    for group in _template_groups(tpls, 1 if spec is None else spec[0].nbytes):
        _, h, w = tpls[group[0]].shape
        G = len(group)
        image_floor = _kwin.ENERGY_ABS * h * w * peak * peak
        t64 = np.stack([tpls[i] for i in group]).astype(np.float64)
        tmeans = t64.reshape(G, C, -1).mean(axis=2)
        tcs = t64 - tmeans[:, :, None, None]
        if spec is not None:
            # the group's correlations, their inverse transforms in one batch
            terms = [[(c, g * C + c) for c in range(C)] for g in range(G)]
            crosses, by, bx = _fft.tiled_corr_terms(spec, tcs.reshape(G * C, h, w).astype(dtype), terms, plan,
                                                    stride, scratch="match:cross")
        else:
            crosses = _workspace.empty("match:direct", (G, 1, cells) + _direct_layout(H, W, h, w, cells), dtype)
            for g, tc in enumerate(tcs):
                _, by, bx = _cross(src, np.ascontiguousarray(tc.astype(dtype)), None, cells, crosses[g])
        tsum2 = (t64 * t64).reshape(G, -1).sum(axis=1)
        tnorm = np.sqrt((tcs * tcs).reshape(G, -1).sum(axis=1) if ccoeff else tsum2)
        # the group's maps: a slice of the caller's stack when the group is one
        consecutive = outs is not None and group == list(range(group[0], group[0] + G))
        out = outs[group[0]:group[0] + G] if consecutive else np.empty((G, H - h + 1, W - w + 1), dtype=dtype)
        # one pass of the window sums for the whole group
        run(_kwin.match_scores, _twins.match_scores, stats, h, w, crosses, by, bx,
            bads.get((h, w), np.zeros((1, 1))), MATCH_METHOD_CODES[method], tmeans, tsum2, tnorm, float(image_floor), out)
        for g, i in enumerate(group):
            if outs is not None and not consecutive:
                outs[i][...] = out[g]
            res[i] = out[g] if outs is None else outs[i]
    return res


def stats_peak(stats, ext, means):
    """The largest magnitude of ``stats`` (C, ...), the image the window
    statistics are read from: the image (``means`` None) or the image
    centred by ``means`` (C,) in its dtype (zeros beyond it).  Read off the
    image's per-channel extrema ``ext`` when known, without a pass: rounding
    is monotonic, so the centred image's are ``hi - m`` and ``lo - m``."""
    if ext is None:
        return float(np.max(np.abs(stats))) if stats.size else 0.0
    hi, lo = (e.astype(stats.dtype) for e in ext)
    if means is not None:
        m = means.astype(stats.dtype)
        hi, lo = hi - m, lo - m
    return max(float(hi.max()), -float(lo.min()), 0.0)


def _template_groups(tpls, spec_bytes):
    """Indices of ``tpls`` in batches of one template size, each batch's
    product spectra within ``match_group_bytes`` (one batched inverse transform)."""
    groups = []
    per = max(1, _costs.get().match_group_bytes // max(spec_bytes, 1))
    by_size = {}
    for i, t in enumerate(tpls):
        by_size.setdefault(t.shape, []).append(i)
    for idx in by_size.values():
        groups.extend(idx[k:k + per] for k in range(0, len(idx), per))
    return groups
