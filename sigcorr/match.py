"""Normalized template matching: OpenCV's six scores, the matches, a pyramid search.

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

import dataclasses

import numpy as np

from . import _costs, _fft, _reference, _validate, _workspace
from ._kernels import direct as _kdirect
from ._kernels import peaks as _kpeaks
from ._kernels import windows as _kwin
from ._kernels.codes import MATCH_METHOD_CODES
from ._runtime import run, serialized_if_needed

__all__ = ["match_template", "find_matches", "locate", "Matches"]


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

    def __iter__(self):
        return iter(zip(map(tuple, self.positions.tolist()), self.scores.tolist()))

    def __repr__(self):
        rows = ", ".join(f"{tuple(round(v, 3) for v in p)}: {s:.4g}" for p, s in list(self)[:5])
        more = f", ... ({len(self)} in all)" if len(self) > 5 else ""
        return f"Matches({rows}{more})"


def _cross_plan(shape, tshape, item):
    """The tiled-FFT plan for the cross term, or None when the direct kernel
    (``corr_padded``, priced as in convolve) is cheaper.  Both paths use
    every core, so the thread count cancels out of the comparison."""
    c = _costs.get()
    H, W = shape
    h, w = tshape
    direct = (H - h + 1) * (W - w + 1) * h * w * c.direct_ns[item]
    plan = _fft.tile_plan(shape, tshape)
    return plan if plan[0] * c.tile_ns[item] < direct else None


def _cross(src, tpl, plan):
    """Sum over channels of the valid cross-correlation of (C, H, W) ``src``
    (zero-padded for ``plan``) with (C, h, w) ``tpl``, as ``(blocks, by, bx)``
    for ``match_scores``."""
    if plan is not None:
        return _fft.tiled_corr(src, tpl, plan)
    C, H, W = src.shape
    _, h, w = tpl.shape
    out = np.empty((C, H - h + 1, W - w + 1), dtype=src.dtype)
    run(_kdirect.corr_padded, _reference.corr_padded, src, tpl, out, 0, 0)
    out = out[0] if C == 1 else out.sum(axis=0)
    return out[None, None], out.shape[0], out.shape[1]


def _masked(img, tpl, msk, method):
    """OpenCV's masked matching, in float64 (see match_template's Notes)."""
    from .convolve import _convolve_core

    def corr(a, b):
        # sum over channels of valid cross-correlations
        out = _convolve_core(a, b[:, ::-1, ::-1], (1, 2), "valid", "auto")
        return out.sum(axis=0)

    I = np.where(np.isfinite(img), img, 0.0).astype(np.float64)
    T = tpl.astype(np.float64)
    M = msk
    M2 = M * M
    if method.startswith("ccoeff"):
        # centred per channel, as on the unmasked path: no ccoeff score
        # changes, and the window energies are small differences of small sums
        I = I - I.mean(axis=(1, 2), keepdims=True)
    II = corr(I * I, M2)
    # the degenerate-window rule's absolute floor (see _kernels.windows)
    peak = float(np.max(np.abs(I))) if I.size else 0.0
    qeps = _kwin.ENERGY_ABS * float(M2.reshape(M2.shape[0], -1).sum(axis=1).max()) * peak * peak
    if method in ("ccorr", "ccorr_normed", "sqdiff", "sqdiff_normed"):
        cross = corr(I, M2 * T)
        tt = float(np.sum(M2 * T * T))
        if method == "ccorr":
            res = cross
        elif method == "sqdiff":
            res = np.maximum(II - 2 * cross + tt, 0)
        else:
            num = cross if method == "ccorr_normed" else np.maximum(II - 2 * cross + tt, 0)
            den = np.sqrt(np.where(II > qeps, II, 0.0) * tt)
            res = _normalize(num, den, method)
    else:
        msum = M.reshape(M.shape[0], -1).sum(axis=1)  # per channel
        msum = np.where(msum > 0, msum, 1.0)
        mT = (M * T).reshape(T.shape[0], -1).sum(axis=1) / msum
        Tc = M * (T - mT[:, None, None])  # T'
        num = np.zeros((I.shape[1] - T.shape[1] + 1, I.shape[2] - T.shape[2] + 1))
        ii = np.zeros_like(num)
        for c in range(I.shape[0]):
            Ic, Mc = I[c:c + 1], M[c:c + 1]
            mI = corr(Ic, Mc) / msum[c]
            num += corr(Ic, (Mc * Tc[c:c + 1])) - mI * float(np.sum(Mc * Tc[c:c + 1]))
            ii += corr(Ic * Ic, Mc * Mc) - 2 * mI * corr(Ic, Mc * Mc) + mI * mI * float(np.sum(Mc * Mc))
        if method == "ccoeff":
            res = num
        else:
            ii = np.where(ii > np.maximum(_kwin.ENERGY_REL * II, qeps), ii, 0.0)
            res = _normalize(num, np.sqrt(ii * float(np.sum(Tc * Tc))), method)
    bad = ~np.isfinite(img)
    if bad.any():
        hit = corr(bad.astype(np.float64), np.ones_like(T)) > 0.5
        res = np.where(hit, np.nan, res)
    return res


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


def _omit(img, tpl, msk, present, method, dtype, min_overlap):
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
    """
    C, H, W = img.shape
    _, h, w = tpl.shape
    ok = np.isfinite(img).all(axis=0)
    P = ok if present is None else ok & present
    mt = np.isfinite(tpl)
    if msk is not None:
        mt &= msk > 0
    t = np.where(mt, tpl, 0).astype(np.float64)
    ccoeff = method.startswith("ccoeff")
    if ccoeff:
        tm = t.reshape(C, -1).sum(axis=1) / np.maximum(mt.reshape(C, -1).sum(axis=1), 1)
        t = np.where(mt, t - tm[:, None, None], 0.0)
    cor = _Corr((H, W), (h, w), dtype)
    # FFT sums carry rounding of the order of the whole template's energy
    tol = (1e-5 if dtype.itemsize == 4 else 1e-11) * float(np.sum(t * t))
    # the image's C planes (centred for ccoeff, missing pixels zeroed) and its
    # presence as one more plane, in the compute dtype, written straight into
    # the padded FFT planes (sigcorr's work buffers when the template is whole)
    fast = mt.all()
    src = cor.buffer(C + 1, "omit:planes" if fast else None)
    inner = src[:C, :H, :W]
    missing = ~P
    inner[...] = img
    np.copyto(inner, 0, where=missing)
    if ccoeff:  # centred by the present pixels' means
        means = inner.sum(axis=(1, 2), dtype=np.float64) / max(P.size - int(np.count_nonzero(missing)), 1)
        inner -= means.astype(dtype)[:, None, None]
        np.copyto(inner, 0, where=missing)
    src[C, :H, :W] = P
    f, present = src[:C], src[C]
    if fast:
        # flat windows: the running sums' rounding floor, as in match_scores
        peak = max(float(inner.max()), -float(inner.min())) if inner.size else 0.0
        qtol = _kwin.ENERGY_ABS * h * w * peak * peak
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
        return run(_kwin.omit_scores, _reference.omit_scores, f, present, X, ST, QT, by, bx, h, w,
                   MATCH_METHOD_CODES[method], qtol, tol, min_overlap * h * w, out)
    pf = cor.transform(np.ascontiguousarray(f))
    pp = cor.transform(np.ascontiguousarray(src[C:]))
    X = cor.corr(pf, t)
    QT = cor.corr(pp, (t * t).sum(axis=0)[None])
    ST = [cor.corr(pp, t[c:c + 1]) for c in range(C)] if ccoeff else None
    # a template mask: every sum is a correlation with it
    f = f[:, :H, :W].astype(np.float64)
    mf = mt.astype(np.float64)
    Nc = [cor.corr(pp, mf[c:c + 1]) for c in range(C)]
    one = np.eye(C)[:, :, None, None] * mf[None]  # channel c's mask alone
    SI = [cor.corr(pf, one[c]) for c in range(C)] if ccoeff else None
    QI = cor.corr(cor.prep((f * f).astype(dtype)), mf)
    qtol = 1e-5 if dtype.itemsize == 4 else 1e-11
    N = np.rint(sum(Nc))
    NcS = [np.maximum(np.rint(n), 1.0) for n in Nc]
    QT = np.where(QT > tol, QT, 0.0)
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
            EI = np.where(EI > qtol * QI, EI, 0.0)
            ET = QT - sum(st * st / n for st, n in zip(ST, NcS))
            ET = np.where(ET > tol, ET, 0.0)
            res = _normalize(num, np.sqrt(EI * ET), method)
    need = min_overlap * float(mt.sum())
    return np.where((N > 0) & (N >= need - 0.5), res, np.nan).astype(dtype)


def _normalize(num, den, method):
    """num / den under the degenerate-window rule of every path (see
    ``_kernels.windows``): 0 (1 for sqdiff_normed) where den is 0 or rounding
    noise; the callers zero energies at their rounding level first."""
    return _reference.normed_score(num, den, 1.0 if method == "sqdiff_normed" else 0.0, np.float64)


@serialized_if_needed
def match_template(image, template, method="ccoeff_normed", *, mask=None, pad_input=False,
                   nan_policy="propagate", image_mask=None, min_overlap=0.5):
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
        ``template[k]``.
    method : {'ccoeff_normed', 'ccorr_normed', 'sqdiff_normed', 'ccoeff', 'ccorr', 'sqdiff'}
        OpenCV's ``TM_*`` scores (see the module docstring for the formulas).
        Colour images are combined as OpenCV does: sums run over the channels.
    mask : array_like, optional
        Weights >= 0 of the template's shape (or (h, w) for a colour
        template), as in OpenCV's masked matching: ``sqdiff`` becomes
        sum (M (I - T))^2, ``ccorr`` sum M^2 I T, ``ccoeff`` sum T' I' with
        T' = M (T - weighted mean of T) and I' = M (I - weighted mean of I).
    pad_input : bool
        False: the "valid" output, ``image.shape - template.shape + 1``.
        True: ``image.shape``, as ``skimage.feature.match_template``: index i
        holds the window starting at ``i - template.shape // 2`` on the
        zero-padded image.
    nan_policy : {'propagate', 'omit'}
        Missing pixels are the image's non-finite ones and those outside
        ``image_mask``.  'propagate' (the default): a window holding one
        scores NaN.  'omit': each window is scored over the pixels present in
        both the window and the template (the template's own NaN pixels and,
        with ``mask``, its pixels of weight 0 are missing too), Padfield's
        masked normalized cross-correlation (IEEE TIP 2012): every sum of the
        formulas above, the means included, runs over that overlap only.
        With 'omit' a ``mask`` must be binary.
    image_mask : array_like of bool, optional
        The image's shape ((H, W) for a colour image): False marks missing
        pixels (a cloud mask, dead pixels).
    min_overlap : float
        With 'omit', a window whose overlap holds fewer than this fraction
        of the template's present pixels (or none) scores NaN.

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
    """
    method = _validate.check_match_method(method)
    img, tpls, msk, squeeze, dtype, stack = _validate.match_stack_inputs(image, template, mask)
    policy, present, min_overlap = _validate.missing_inputs(nan_policy, image_mask, min_overlap, image, msk)
    pad_input = _validate.check_flag(pad_input, "pad_input")
    if pad_input:
        h, w = tpls.shape[2:]
        pads = ((h // 2, h - 1 - h // 2), (w // 2, w - 1 - w // 2))
        img = np.pad(img, ((0, 0),) + pads)
        if present is not None:
            present = np.pad(present, pads, constant_values=True)
    if policy == "propagate" and present is not None:
        # pixels outside image_mask are missing: NaN, which reaches their windows
        img = np.ascontiguousarray(np.where(present, img, np.nan), dtype=dtype)
    if policy == "omit":
        out = _stacked([_omit(img, t, msk, present, method, dtype, min_overlap) for t in tpls])
    elif msk is not None:
        out = _stacked([_masked(img, t, msk, method).astype(dtype) for t in tpls])
    else:
        out = _match_stack(img, tpls, method, dtype)
    if squeeze:
        out = out[:, 0]
    return out if stack else out[0]


def _stacked(maps):
    """(T, oh, ow) from a list of T maps (a view for one, not a copy)."""
    return maps[0][None] if len(maps) == 1 else np.stack(maps)


def _match_plain(img, tpl, method, dtype):
    """Scores of (C, H, W) ``img`` against (C, h, w) ``tpl`` (no mask)."""
    return _match_sizes(img, [tpl], method, dtype)[0]


def _match_stack(img, tpls, method, dtype):
    """Scores (T, oh, ow) of (C, H, W) ``img`` against each (C, h, w) template
    of ``tpls`` (T, C, h, w): the image's centring, its non-finite counts and
    (on the FFT path) its tiles' spectra are computed once for the stack."""
    (T, _, h, w), (_, H, W) = tpls.shape, img.shape
    out = np.empty((T, H - h + 1, W - w + 1), dtype=dtype)
    _match_sizes(img, list(tpls), method, dtype, outs=out)
    return out


def _shared_plan(shape, sizes, item):
    """One FFT tiling for templates of several sizes, or None (direct path):
    the tiles of the largest template's plan, their stride set by the
    largest template and their count by the smallest (the most outputs)."""
    hmax, wmax = max(s[0] for s in sizes), max(s[1] for s in sizes)
    hmin, wmin = min(s[0] for s in sizes), min(s[1] for s in sizes)
    plan = _cross_plan(shape, (hmax, wmax), item)
    if plan is None or len(sizes) == 1:
        return plan
    _, (Ly, Lx), _ = plan
    by, bx = Ly - hmax + 1, Lx - wmax + 1
    ny, nx = -(-(shape[0] - hmin + 1) // by), -(-(shape[1] - wmin + 1) // bx)
    return plan[0], (Ly, Lx), (ny, nx)


def _match_sizes(img, tpls, method, dtype, outs=None):
    """Score maps of (C, H, W) ``img`` against each (C, h, w) template of the
    list ``tpls`` (sizes may differ: a scale search), sharing the image's
    centring and one FFT tiling whose tile spectra every template multiplies.
    ``outs``: a (T, oh, ow) array to write the maps into (default new ones).  The
    temporaries live in sigcorr's work buffers (``_workspace``)."""
    C, H, W = img.shape
    sizes = sorted({t.shape[1:] for t in tpls})
    hmax, wmax = max(s[0] for s in sizes), max(s[1] for s in sizes)
    plan = _shared_plan((H, W), sizes, dtype.itemsize)
    if plan is None:
        shape = (H, W)
    else:
        (Ly, Lx), (ny, nx) = plan[1], plan[2]
        stride = (Ly - hmax + 1, Lx - wmax + 1)
        shape = (max(ny * stride[0] + hmax - 1, H), max(nx * stride[1] + wmax - 1, W))
    sums = run(_kwin.row_sums, _reference.row_sums, img).sum(axis=1)
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
        bads = {(h, w): run(_kwin.window_sums, _reference.window_sums, nbad, h, w) for h, w in sizes}
    src = run(_kwin.centre_padded, _reference.centre_padded, img, means.astype(dtype),
              _workspace.empty("match:src", (C,) + shape, dtype))
    if not finite:
        src[:, :H, :W][~ok] = 0
    ccoeff = method.startswith("ccoeff")
    stats = src if ccoeff else np.ascontiguousarray(img)
    # rounding floor of the window energies (see _kernels.windows.match_scores)
    peak = float(np.max(np.abs(stats))) if stats.size else 0.0
    spec = None if plan is None else _fft.tile_spectra(src, (hmax, wmax), plan, scratch="match:tiles")
    res = [None] * len(tpls)
    for group in _template_groups(tpls, 1 if spec is None else spec[0].nbytes):
        _, h, w = tpls[group[0]].shape
        G = len(group)
        qeps = _kwin.ENERGY_ABS * h * w * peak * peak
        t64 = np.stack([tpls[i] for i in group]).astype(np.float64)
        tmeans = t64.reshape(G, C, -1).mean(axis=2)
        tcs = t64 - tmeans[:, :, None, None]
        if spec is not None:
            # the group's correlations, their inverse transforms in one batch
            terms = [[(c, g * C + c) for c in range(C)] for g in range(G)]
            crosses, by, bx = _fft.tiled_corr_terms(spec, tcs.reshape(G * C, h, w).astype(dtype), terms, plan,
                                                    stride, scratch="match:cross")
        else:
            blocks = [_cross(src, np.ascontiguousarray(tc.astype(dtype)), None) for tc in tcs]
            by, bx = blocks[0][1:]
            crosses = np.stack([b[0] for b in blocks])
        tsum2 = (t64 * t64).reshape(G, -1).sum(axis=1)
        tnorm = np.sqrt((tcs * tcs).reshape(G, -1).sum(axis=1) if ccoeff else tsum2)
        # the group's maps: a slice of the caller's stack when the group is one
        consecutive = outs is not None and group == list(range(group[0], group[0] + G))
        out = outs[group[0]:group[0] + G] if consecutive else np.empty((G, H - h + 1, W - w + 1), dtype=dtype)
        # one pass of the window sums for the whole group
        run(_kwin.match_scores, _reference.match_scores, stats, h, w, crosses, by, bx,
            bads.get((h, w), np.zeros((1, 1))), MATCH_METHOD_CODES[method], tmeans, tsum2, tnorm, float(qeps), out)
        for g, i in enumerate(group):
            if outs is not None and not consecutive:
                outs[i][...] = out[g]
            res[i] = out[g] if outs is None else outs[i]
    return res


_GROUP_BYTES = 64 << 20  # product spectra of one batch of templates (about as much again for their inverse)


def _template_groups(tpls, spec_bytes):
    """Indices of ``tpls`` in batches of one template size, each batch's
    product spectra within _GROUP_BYTES (one batched inverse transform)."""
    groups = []
    per = max(1, _GROUP_BYTES // max(spec_bytes, 1))
    by_size = {}
    for i, t in enumerate(tpls):
        by_size.setdefault(t.shape, []).append(i)
    for idx in by_size.values():
        groups.extend(idx[k:k + per] for k in range(0, len(idx), per))
    return groups


@serialized_if_needed
def find_matches(scores, *, threshold=None, max_matches=None, min_distance=1, maximize=True, subpixel=False):
    """The peaks of a score map, best first, with non-maximum suppression.

    A peak is a finite score that is the best of the (2 * min_distance + 1)
    wide window around it and, without a threshold, above the map's minimum
    (as ``skimage.feature.peak_local_max``); peaks are
    then taken best first, and each one taken blocks the square window of
    half-width ``min_distance`` around it, so no two matches are within
    ``min_distance`` of each other in every axis.

    Parameters
    ----------
    scores : array_like, 1-D or 2-D
        NaN scores are never matches.
    threshold : float, optional
        Keep scores >= threshold (<= for ``maximize=False``).
    max_matches : int, optional
        At most this many matches (default: all).
    min_distance : int
        Suppression half-width, >= 1.
    maximize : bool
        True for similarity scores, False for distances (``sqdiff``).
    subpixel : bool
        Refine each position by a parabola through the peak and its two
        neighbours, per axis (offset within +-0.5).

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
    _validate.check_score_map(arr.ndim)
    threshold, max_matches, min_distance = _validate.peak_options(threshold, max_matches, min_distance)
    maximize = _validate.check_flag(maximize, "maximize")
    subpixel = _validate.check_flag(subpixel, "subpixel")
    ndim = arr.ndim
    s3 = arr.reshape(1, 1, -1) if ndim == 1 else (arr[None] if ndim == 2 else arr)
    tix, pos, found = _peaks(s3, threshold, max_matches, min_distance, maximize, subpixel)
    if ndim == 1:
        pos = pos[:, 1:]
    return Matches(pos, found, template=tix)


def _peaks(s3, threshold, max_matches, min_distance, maximize, subpixel):
    """find_matches on a stack (T, H, W) of score maps: each map's peaks, then
    all of them best first with one suppression across the maps (one object,
    one match).  Returns (map index, (k, 2) positions, scores)."""
    if s3.size == 0:
        return (np.empty(0, dtype=np.int64), np.empty((0, 2)),
                np.empty(0, dtype=s3.dtype))
    if max_matches == 1:
        best = _best_peak(s3, threshold, maximize)
        if best is not None:
            ts, coords = best
            pos = coords.astype(np.float64)
            if subpixel and len(ts):
                pos = _refine_best(s3[ts[0]], coords, maximize)
            return ts, pos, s3[ts, coords[:, 0], coords[:, 1]]
    # float32 maps stay float32 (every step below is exact in it: negation,
    # maxima, comparisons against float64 thresholds, sorting); the parabola
    # fits of ``subpixel`` are float64
    work = s3.astype(s3.dtype if s3.dtype in (np.float32, np.float64) else np.float64)
    if not maximize:
        np.negative(work, out=work)
    fin = np.isfinite(work)
    np.copyto(work, -np.inf, where=~fin)
    if threshold is not None:
        threshold = np.float64(threshold)  # compared in float64, not rounded to the map's dtype
    if max_matches == 1:
        # the best peak is the best score (ties: raster order, then map): no
        # peak filter needed
        peak = (work >= threshold) if (threshold is not None and maximize) else (
            (work >= -threshold) if threshold is not None else
            work > np.where(fin, work, np.inf).min(axis=(1, 2))[:, None, None])
        cand = np.where(peak & fin, work, -np.inf)
        best = cand.max()
        if not np.isfinite(best):
            return (np.empty(0, dtype=np.int64), np.empty((0, 2)), s3[:0, 0, 0])
        ts, ys, xs = _nonzero3(cand == best)
        k = np.lexsort((ts, xs, ys))[0]
        ts, coords = ts[k:k + 1].astype(np.int64), np.array([[ys[k], xs[k]]], dtype=np.int64)
        pos = coords.astype(np.float64)
        if subpixel:
            pos = _refine(work[ts[0]].astype(np.float64), coords, pos)
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
    peak = (work == _max_filter(work, 1 if few else d, rows)) & fin
    if threshold is not None:
        peak &= (work >= threshold) if maximize else (work >= -threshold)
    elif peak.any():
        # as peak_local_max: each map's floor (e.g. a flat background) is no peak
        floor = np.where(fin, work, np.inf).min(axis=(1, 2))
        peak &= work > floor[:, None, None]
    ts, ys, xs = _nonzero3(peak)
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
            keep_all = (work == _max_filter(work, d, rows))[ts, ys, xs]
            ts, ys, xs, vals = ts[keep_all], ys[keep_all], xs[keep_all], vals[keep_all]
            n = vals.size
            m = n if limit >= n // 4 else max(4 * limit, 64)
            continue
        if few:
            sel = sel[_window_max(work, ts[sel], ys[sel], xs[sel], d, rows) == vals[sel]]
        order = sel[np.lexsort((ts[sel], xs[sel], ys[sel], -vals[sel]))]  # ties in raster order, then by map
        coords = np.stack([ys[order], xs[order]], axis=1).astype(np.int64)
        keep = run(_kpeaks.suppress, _reference.suppress, coords, np.array(work.shape[1:], dtype=np.int64),
                   min_distance, limit)
        if len(keep) >= limit or done:
            break
        m *= 4
    coords, ts = coords[keep], ts[order][keep].astype(np.int64)
    found = s3[ts, coords[:, 0], coords[:, 1]]
    pos = coords.astype(np.float64)
    if subpixel:
        for t in np.unique(ts):
            sel = ts == t
            pos[sel] = _refine(work[t].astype(np.float64), coords[sel], pos[sel])
    return ts, pos, np.asarray(found)


def _window_max(work, ts, ys, xs, d, rows):
    """The maximum of the (2d + 1)-wide window (only along the row without
    ``rows``) around each of the samples (ts, ys, xs) of (T, H, W) maps,
    clipped to the map (as ``_max_filter``'s -inf padding)."""
    _, H, W = work.shape
    off = np.arange(-d, d + 1)
    iy = np.clip(ys[:, None] + off, 0, H - 1) if rows else ys[:, None]
    ix = np.clip(xs[:, None] + off, 0, W - 1)
    return work[ts[:, None, None], iy[:, :, None], ix[:, None, :]].max(axis=(1, 2))


def _nonzero3(mask):
    """``np.nonzero`` of a (T, H, W) mask: numpy's is 10-20x slower than
    ``flatnonzero`` on a few true values of a large mask."""
    flat = np.flatnonzero(mask)
    _, H, W = mask.shape
    ty, x = np.divmod(flat, W)
    t, y = np.divmod(ty, H)
    return t, y, x


def _max_filter(work, d, rows):
    """``scipy.ndimage.maximum_filter(work, size=(1, 2d + 1, 2d + 1),
    mode="constant", cval=-inf)`` of (T, H, W) maps (size 1 along the rows
    when ``rows`` is False), exactly, by doubling: the maxima over runs of
    2, 4, 8, ... samples, each from two of the previous, then one more
    maximum for the rest of the 2d + 1; log2(2d + 1) array passes per axis,
    3-5x faster than scipy's filter on maps of 256 x 256 and larger."""

    def along(x, axis):
        n, size = x.shape[axis], 2 * d + 1
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

    out = along(work, 2)
    return along(out, 1) if rows else out


def _best_peak(s3, threshold, maximize):
    """``_peaks(..., max_matches=1)`` without float64 copies of the maps (the
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
    ts, ys, xs = _nonzero3(s3 == best)
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


def _cells_best(maps, cell, threshold, maximize):
    """:func:`_best_peak` of each of several small maps (each at most ``cell``
    in shape), in one pass over them stacked: per map, its best position as a
    (1, 2) array, an empty (0, 2) one when no score passes ``threshold``, or
    None when the full rule must decide."""
    if not maps:
        return []
    stack = np.full((len(maps), cell[0], cell[1]), np.nan, dtype=maps[0].dtype)
    for k, m in enumerate(maps):
        stack[k, :m.shape[0], :m.shape[1]] = m  # NaN elsewhere: never a best, nor a floor
    flat = stack.reshape(len(maps), -1)
    with np.errstate(invalid="ignore"):
        best = (np.fmax if maximize else np.fmin).reduce(flat, axis=1)
        floor = (np.fmin if maximize else np.fmax).reduce(flat, axis=1)
    first = np.argmax(flat == best[:, None], axis=1)  # ties: raster order (cells share its width)
    out = []
    for k in range(len(maps)):
        verdict = _best_verdict(best[k], floor[k], threshold, maximize)
        if verdict == "ok":
            out.append(np.array([divmod(int(first[k]), cell[1])], dtype=np.int64))
        else:
            out.append(None if verdict is None else np.empty((0, 2), dtype=np.int64))
    return out


def _refine_best(score_map, coords, maximize):
    """Sub-pixel positions of ``coords`` (best-first matches of one 2-D
    score map) by :func:`_refine`, on the map as a float64 maximization."""
    work = score_map.astype(np.float64) * (1.0 if maximize else -1.0)
    return _refine(np.where(np.isfinite(work), work, -np.inf), coords, coords.astype(np.float64))


def _refine(work, coords, pos):
    for axis in range(2):
        n = work.shape[axis]
        for r, (y, x) in enumerate(coords):
            i = (y, x)[axis]
            if i <= 0 or i >= n - 1:
                continue
            if axis == 0:
                a, b, c = work[y - 1, x], work[y, x], work[y + 1, x]
            else:
                a, b, c = work[y, x - 1], work[y, x], work[y, x + 1]
            den = a - 2 * b + c
            if np.isfinite(a) and np.isfinite(c) and den < 0:
                pos[r, axis] += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return pos


@serialized_if_needed
def locate(image, template, *, method="ccoeff_normed", threshold=None, max_matches=1,
           min_distance=None, pyramid_levels=0, subpixel=False, scales=None, angles=None):
    """Find ``template`` in ``image``: :func:`match_template` then :func:`find_matches`.

    Parameters
    ----------
    image, template, method
        As :func:`match_template` (minimizing methods, ``sqdiff*``, are
        handled: their best match is their lowest score).  ``template`` may
        be a stack (T, h, w[, C]): every template is searched, the matches
        of all of them are suppressed together (one object, one match) and
        ``.template`` tells which template matched.
    threshold, max_matches, subpixel
        As :func:`find_matches`.
    min_distance : int, optional
        Suppression half-width; default half the template's smaller side.
    pyramid_levels : int
        0 searches the full image.  L > 0 average-pools image and template by
        2**L, searches there, and re-scores at full resolution only a
        neighbourhood of the best coarse candidates (much faster for large
        templates; needs the pooled template to stay at least 8 samples wide,
        fewer levels are used otherwise).
    scales, angles : sequence of float, optional
        Search every copy of the template zoomed by each scale and then
        rotated by each angle (degrees, counter-clockwise as displayed with
        row 0 at the top: ``scipy.ndimage.rotate``'s sense), resampled with
        ``scipy.ndimage`` (linear); the corners of a rotated copy's box are
        left out of every window's sums (quarter turns are exact and need no
        mask).  The copies' matches are merged by their centres and
        suppressed together (one object, one match), and each match's scale
        and angle are refined between the grid steps (the angle by parabolas
        at halving steps, the scale over every whole template size within a
        step), so ``.scales`` and ``.angles`` are finer than the grids and
        ``.positions`` is the top-left corner of the refined copy's box.  With
        ``pyramid_levels`` every copy is searched on the pooled image first.
        2-D and colour images only.

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
    img, tpls, _, squeeze, dtype, stack = _validate.match_stack_inputs(image, template, None)
    axes_t = tpls.shape[3:] if squeeze else tpls.shape[2:]  # the template's searched axes
    if min_distance is None:
        min_distance = max(1, min(axes_t) // 2)
    min_distance = _validate.check_int(min_distance, "min_distance", minimum=1)
    maximize = not method.startswith("sqdiff")
    if scales is not None or angles is not None:
        scales, angles = _validate.scales_angles(scales, angles, squeeze)
        return _locate_transformed(img, tpls, method, dtype, levels, threshold, max_matches,
                                   min_distance, maximize, subpixel, scales, angles)
    # keep the pooled template at least 8 samples wide in every searched axis
    while levels > 0 and min(axes_t) // 2 ** levels < 8:
        levels -= 1
    if levels > 0:
        found = [_pyramid_matches(img, t, method, dtype, levels, squeeze, threshold, max_matches,
                                  min_distance, maximize, subpixel) for t in tpls]
        if len(found) == 1:
            m = found[0]
        else:  # merged across the stack, then one suppression: one object, one match
            _, H, W = img.shape
            shape = (H - tpls.shape[2] + 1, W - tpls.shape[3] + 1)
            m = _merge([f.positions for f in found], [f.scores for f in found],
                       [np.full(len(f), k, dtype=np.int64) for k, f in enumerate(found)],
                       shape, squeeze, maximize, min_distance, max_matches, dtype)
    else:
        scores = _match_stack(img, tpls, method, dtype)
        tix, pos, val = _peaks(scores, threshold, max_matches, min_distance, maximize, subpixel)
        if squeeze:
            pos = pos[:, 1:]
        m = Matches(pos, val, template=tix)
    half = (np.array(axes_t, dtype=np.float64) - 1) / 2
    return Matches(m.positions, m.scores, centers=m.positions + half, template=m.template)


def _merge(pos, val, tix, shape, squeeze, maximize, min_distance, max_matches, dtype):
    """Matches from several searches, best first, suppressed together on the
    grid of ``shape`` (the valid score map's)."""
    pos = [p if not squeeze else np.concatenate([np.zeros((len(p), 1)), p], axis=1) for p in pos]
    if not pos or sum(len(v) for v in val) == 0:
        return Matches(np.empty((0, 1 if squeeze else 2)), np.empty(0, dtype=dtype))
    pos, val, tix = np.concatenate(pos), np.concatenate(val), np.concatenate(tix)
    key = val if maximize else -val
    order = np.lexsort((tix, pos[:, 1], pos[:, 0], -key))
    pos, val, tix = pos[order], val[order], tix[order]
    grid = np.clip(np.rint(pos).astype(np.int64), 0, np.array(shape) - 1)
    keep = run(_kpeaks.suppress, _reference.suppress, grid, np.array(shape, dtype=np.int64),
               min_distance, max_matches)
    pos, val, tix = pos[keep], val[keep], tix[keep]
    if squeeze:
        pos = pos[:, 1:]
    return Matches(pos, val, template=tix)


def _pyramid_matches(img, tpl, method, dtype, levels, squeeze, threshold, max_matches,
                     min_distance, maximize, subpixel, score=None):
    """Coarse search on 2**levels-pooled inputs, then full-resolution re-scoring
    of a neighbourhood of each coarse candidate; the matches of all
    neighbourhoods are merged and suppressed together.  ``score(img, tpl,
    method, dtype)`` gives the score maps (default: :func:`_match_plain`)."""
    score = score or _match_plain
    f = 2 ** levels
    fy = 1 if squeeze else f

    def pool(p):
        if squeeze:  # 1-D: pool along the row only
            C, _, W = p.shape
            Wf = W // f
            return np.ascontiguousarray(p[:, :, :Wf * f].reshape(C, 1, Wf, f).mean(axis=3).astype(p.dtype))
        return run(_kwin.block_mean, _reference.block_mean, p, f)

    coarse = score(pool(img), pool(tpl), method, dtype)
    cand = find_matches(coarse, max_matches=max(4 * max_matches, 16),
                        min_distance=max(1, min_distance // f), maximize=maximize)
    _, H, W = img.shape
    _, h, w = tpl.shape
    oh, ow = H - h + 1, W - w + 1
    ry, rx = (0 if squeeze else 2 * f), 2 * f
    boxes = []
    for cy, cx in cand.positions.astype(np.int64):
        y0, x0 = max(0, cy * fy - ry), max(0, cx * f - rx)
        y1, x1 = min(oh, cy * fy + ry + 1), min(ow, cx * f + rx + 1)
        if y0 < y1 and x0 < x1:
            boxes.append((y0, y1, x0, x1))
    # every neighbourhood scored in one call: their image pieces side by
    # side in a mosaic, one row of equal cells (a window's score depends on
    # its own pixels only; the windows across two cells are not read).  One
    # row: only the windows between two cells are wasted, not also those
    # between two rows of cells (a square mosaic of 16 cells scores 3x more
    # windows, 25% slower)
    cy_, cx_ = 2 * ry + h, 2 * rx + w
    mosaic = np.zeros((img.shape[0], cy_, max(1, len(boxes)) * cx_), dtype=img.dtype)
    for k, (y0, y1, x0, x1) in enumerate(boxes):
        mosaic[:, :y1 - y0 + h - 1, k * cx_:k * cx_ + x1 - x0 + w - 1] = img[:, y0:y1 + h - 1, x0:x1 + w - 1]
    maps = score(mosaic, tpl, method, dtype) if boxes else None
    locals_ = [maps[:y1 - y0, k * cx_:k * cx_ + x1 - x0] for k, (y0, y1, x0, x1) in enumerate(boxes)]
    # a suppression window that covers a whole neighbourhood keeps its best
    # score alone: every such neighbourhood's best at once, the others (and
    # the few the shortcut cannot decide) through find_matches' rule
    whole = [min_distance >= max(loc.shape) - 1 for loc in locals_]
    best = iter(_cells_best([loc for loc, w in zip(locals_, whole) if w], (2 * ry + 1, 2 * rx + 1),
                            threshold, maximize))
    pos, val = [], []
    for loc, w, (y0, _, x0, _) in zip(locals_, whole, boxes):
        b = next(best) if w else None
        if b is None:
            _, found, scores = _peaks(loc[None], threshold, 1 if w else None, min_distance, maximize, subpixel)
        elif not len(b):
            continue
        else:
            found = _refine_best(loc, b, maximize) if subpixel else b.astype(np.float64)
            scores = loc[b[:, 0], b[:, 1]]
        if len(scores):
            pos.append(found + np.array([y0, x0], dtype=np.float64))
            val.append(scores)
    if not pos:
        return Matches(np.empty((0, 1 if squeeze else 2)), np.empty(0, dtype=dtype))
    pos = np.concatenate(pos)
    val = np.concatenate(val)
    key = val if maximize else -val
    order = np.lexsort((pos[:, 1], pos[:, 0], -key))
    pos, val = pos[order], val[order]
    grid = np.rint(pos).astype(np.int64)
    keep = run(_kpeaks.suppress, _reference.suppress, grid, np.array([oh, ow], dtype=np.int64), min_distance, max_matches)
    pos, val = pos[keep], val[keep]
    if squeeze:
        pos = pos[:, 1:]
    return Matches(pos, val)


def _score_any(img, tpl, method, dtype):
    """Score maps for a template whose NaN pixels (a rotated template's
    corners) are left out of every window's sums; no NaN: the plain scores."""
    if np.isnan(tpl).any():
        return _omit(img, tpl, None, None, method, dtype, 0.0)
    return _match_plain(img, tpl, method, dtype)


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
    resolution), merged by their centres and suppressed together (one object,
    one match), then each kept match's angle and scale refined between the
    grid steps; best first by the refined scores."""
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
    lv = levels
    while lv > 0 and min(min(v.shape[1:]) for v in variants.values()) // 2 ** lv < 8:
        lv -= 1
    f = 2 ** lv
    # coarse search (on 2**lv-pooled image and copies when lv > 0); the plain
    # (unrotated or quarter-turned) copies share one FFT tiling
    simg = img if lv == 0 else run(_kwin.block_mean, _reference.block_mean, img, f)
    small = {key: (v if lv == 0 else run(_kwin.block_mean, _reference.block_mean, v, f))
             for key, v in variants.items()}
    plain = [key for key, v in small.items() if not np.isnan(v).any()]
    maps = dict(zip(plain, _match_sizes(simg, [small[key] for key in plain], method, dtype))) if plain else {}
    per_map = max_matches if lv == 0 else max(2 * max_matches, 4)
    for key, v in variants.items():
        _, h, w = v.shape
        sv_ = small[key]
        scores = maps.pop(key) if key in maps else _score_any(simg, sv_, method, dtype)
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
    key = c[:, 0] if maximize else -c[:, 0]
    order = np.lexsort((c[:, 3], c[:, 2], c[:, 1], -key))
    c = c[order]
    grid = np.clip(np.rint(c[:, 1:3]).astype(np.int64), 0, np.array([H - 1, W - 1]))
    # a few more candidates than asked for are refined: a look-alike can lead
    # on the grid and fall behind the true match once both are refined
    keep = run(_kpeaks.suppress, _reference.suppress, grid, np.array([H, W], dtype=np.int64),
               min_distance, max(3 * max_matches, 3))
    c = c[keep]
    # (only those close behind: within 5% of the last asked-for score)
    ck = c[:, 0] if maximize else -c[:, 0]
    last = ck[min(max_matches, len(ck)) - 1]
    c = c[(np.arange(len(c)) < max_matches) | (ck >= last - 0.05 * abs(last))]
    sc_out, an_out = [], []
    for r, row in enumerate(c):
        k, si, ai = int(row[3]), int(row[4]), int(row[5])
        sstep = _grid_step(np.log(scales), si)
        astep = _grid_step(angles, ai)
        best = (float(row[0]) if maximize else -float(row[0]), float(row[1]), float(row[2]))
        ls, an = float(np.log(scales[si])), float(angles[ai])
        # between the grid steps, three rounds: the angle by a parabola
        # through its neighbours a full, half, quarter step away, then the
        # scale scanned over the whole template sizes within a step; every
        # value evaluated by matching the resampled template around the
        # match's centre
        side = max(tpls.shape[2:])
        for _ in range(3):
            if astep > 0:
                vals = [_local_best(img, _variant(tpls[k], float(np.exp(ls)), an + d), best[1], best[2],
                                    method, dtype, maximize) for d in (-astep, astep)]
                a_, b_, c_ = vals[0][0], best[0], vals[1][0]
                den = a_ - 2 * b_ + c_
                if np.isfinite(a_) and np.isfinite(c_) and den < 0:
                    off = float(np.clip(0.5 * (a_ - c_) / den, -1.0, 1.0)) * astep
                    got = _local_best(img, _variant(tpls[k], float(np.exp(ls)), an + off), best[1], best[2],
                                      method, dtype, maximize)
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
                    v = _variant(tpls[k], n / side, an)
                    if v.shape[1] > H or v.shape[2] > W:
                        continue
                    got = _local_best(img, v, best[1], best[2], method, dtype, maximize)
                    if got[0] > best[0]:
                        best, ls = got, cand
            astep /= 2
        c[r, 0] = best[0] if maximize else -best[0]
        c[r, 1], c[r, 2] = best[1], best[2]
        v = _variant(tpls[k], float(np.exp(ls)), an)
        c[r, 6], c[r, 7] = best[1] - (v.shape[1] - 1) / 2, best[2] - (v.shape[2] - 1) / 2
        sc_out.append(float(np.exp(ls)))
        an_out.append(an % 360.0)
    sc_out, an_out = np.array(sc_out), np.array(an_out)
    key = c[:, 0] if maximize else -c[:, 0]
    order = np.argsort(-key, kind="stable")
    c, sc_out, an_out = c[order], sc_out[order], an_out[order]
    grid = np.clip(np.rint(c[:, 1:3]).astype(np.int64), 0, np.array([H - 1, W - 1]))
    keep = run(_kpeaks.suppress, _reference.suppress, grid, np.array([H, W], dtype=np.int64),
               min_distance, max_matches)
    c, sc_out, an_out = c[keep], sc_out[keep], an_out[keep]
    return Matches(c[:, 6:8].copy(), c[:, 0].astype(dtype), centers=c[:, 1:3].copy(),
                   template=c[:, 3].astype(np.int64), scales=sc_out, angles=an_out)


def _empty_transformed(dtype):
    return Matches(np.empty((0, 2)), np.empty(0, dtype=dtype), centers=np.empty((0, 2)),
                   template=np.empty(0, dtype=np.int64), scales=np.empty(0), angles=np.empty(0))


def _top_peaks(scores, threshold, k, md, maximize, subpixel):
    """The ``k`` best scores of a map, each blocking the square of half-width
    ``md`` around it (greedy; candidates of a scale/angle search, cheaper than
    :func:`find_matches`' peak test on every map)."""
    work = scores.astype(np.float64)
    if not maximize:
        work = -work
    work = np.where(np.isfinite(work), work, -np.inf)
    pos, val = [], []
    for _ in range(k):
        i = int(np.argmax(work))
        y, x = divmod(i, work.shape[1])
        best = work[y, x]
        if not np.isfinite(best) or (threshold is not None and best < (threshold if maximize else -threshold)):
            break
        p = np.array([[y, x]], dtype=np.float64)
        if subpixel:
            p = _refine(work, np.array([[y, x]]), p)
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
    local = _score_any(np.ascontiguousarray(img[:, y0:y1, x0:x1]), v, method, dtype).astype(np.float64)
    if not maximize:
        local = -local
    local = np.where(np.isfinite(local), local, -np.inf)
    iy, ix = np.unravel_index(int(np.argmax(local)), local.shape)
    return float(local[iy, ix]), y0 + iy + (h - 1) / 2, x0 + ix + (w - 1) / 2
