"""Slow, obvious twins of sigcorr's kernels: the truth the kernel tests compare with.

One function per kernel family of ``sigcorr._kernels``, written from the
kernel's documented contract with plain loops and direct numpy formulas (no
FFT, no running sums, no cleverness), in float64.  They are meant to be read
and trusted, not to be fast: call them on small inputs only.

This is not ``sigcorr._twins``: those are the *fast* scipy / numpy twins
sigcorr answers with while its kernels compile; these are the slow truth
both are tested against (``tests/test_kernels.py``).

Every function returns new arrays (it never fills a kernel's ``out``).
"""

import itertools

import numpy as np

# the template-matching method codes of the kernels, in OpenCV's order
# (cv2.TM_SQDIFF == 0 ... cv2.TM_CCOEFF_NORMED == 5)
METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]


# ---------------------------------------------------------------------------
# direct correlation (``_kernels.direct``)
# ---------------------------------------------------------------------------


def corr_padded(img, ker, pad_top, pad_left, oh, ow):
    """out[b, i, j] = sum_{a, c} img[b, i + a - pad_top, j + c - pad_left] * ker[kb, a, c],
    the taps outside ``img`` skipped (zero padding); kb = b, or 0 for one kernel."""
    B, H, W = img.shape
    Bk, h, w = ker.shape
    out = np.zeros((B, oh, ow))
    for b in range(B):
        k = ker[b if Bk > 1 else 0]
        for i in range(oh):
            for j in range(ow):
                s = 0.0
                for a in range(h):
                    r = i + a - pad_top
                    if not 0 <= r < H:
                        continue
                    for c in range(w):
                        q = j + c - pad_left
                        if 0 <= q < W:
                            s += float(img[b, r, q]) * float(k[a, c])
                out[b, i, j] = s
    return out


def corr_padded_nd(vol, ker, pads, oshape):
    """out[b, o] = sum_t vol[b, o + t - pads] * ker[kb, t] over every kernel
    tap t (N-D indices), the taps outside ``vol`` skipped (zero padding)."""
    B, shape = vol.shape[0], vol.shape[1:]
    Bk, kshape = ker.shape[0], ker.shape[1:]
    out = np.zeros((B,) + tuple(oshape))
    for b in range(B):
        k = ker[b if Bk > 1 else 0]
        for o in np.ndindex(*oshape):
            s = 0.0
            for t in np.ndindex(*kshape):
                src = tuple(oi + ti - p for oi, ti, p in zip(o, t, pads))
                if all(0 <= q < n for q, n in zip(src, shape)):
                    s += float(vol[(b,) + src]) * float(k[t])
            out[(b,) + o] = s
    return out


def lag_window(x, y, lo, nl, P):
    """part[b, p, k] = sum_{n in block p} x[b, n + lo + k] * y[kb, n], x zero
    outside [0, N1); the N2 samples of y cut in P blocks of ceil(N2 / P)."""
    B, N1 = x.shape
    Bk, N2 = y.shape
    bl = -(-N2 // P)
    part = np.zeros((B, P, nl))
    for b in range(B):
        ys = y[b if Bk > 1 else 0]
        for p in range(P):
            for n in range(min(p * bl, N2), min((p + 1) * bl, N2)):
                for k in range(nl):
                    q = n + lo + k
                    if 0 <= q < N1:
                        part[b, p, k] += float(x[b, q]) * float(ys[n])
    return part


# ---------------------------------------------------------------------------
# window statistics (``_kernels.windows``)
# ---------------------------------------------------------------------------


def window_sums(x, h, w):
    """Sum of every h x w window of the 2-D array ``x``."""
    H, W = x.shape
    out = np.empty((H - h + 1, W - w + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = x[i:i + h, j:j + w].astype(np.float64).sum()
    return out


def row_sums(img):
    """Sum of every row of ``img`` (C, H, W) -> (C, H)."""
    return img.astype(np.float64).sum(axis=2)


def block_mean(img, f):
    """Mean of every f x f block of ``img`` (C, H, W) -> (C, H // f, W // f)."""
    C, H, W = img.shape
    out = np.empty((C, H // f, W // f))
    for c in range(C):
        for i in range(H // f):
            for j in range(W // f):
                out[c, i, j] = img[c, i * f:(i + 1) * f, j * f:(j + 1) * f].astype(np.float64).mean()
    return out


def centre_padded(img, g, shape):
    """img[c] - g[c] in the top-left corner of zeros of ``shape`` (C, Hp, Wp)."""
    C, H, W = img.shape
    out = np.zeros(shape)
    for c in range(C):
        out[c, :H, :W] = img[c].astype(np.float64) - float(g[c])
    return out


# ---------------------------------------------------------------------------
# template matching (``_kernels.windows.match_scores`` and ``omit_scores``)
# ---------------------------------------------------------------------------


def match_scores(img, tpl, method, step=1, flat=1e-9):
    """OpenCV's six template-matching scores of every ``step``-th window,
    from their definitions, channels summed.  ``img`` (C, H, W), ``tpl`` (C, h, w).

    The normalized scores are clamped as OpenCV's ("sqdiff_normed" to
    [0, 1], the others to [-1, 1]); a window (or template) whose energy is
    at most ``flat`` times its sum of squares (at least 1) is flat: it scores
    0, and 1 for "sqdiff_normed".  A window holding NaN scores NaN.
    """
    img = np.asarray(img, dtype=np.float64)
    t = np.asarray(tpl, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(img, t.shape)[0, ::step, ::step]  # (oh, ow, C, h, w)
    return _window_scores(win, t, method, flat, centre_axes=(-2, -1))  # (means per channel)


def _window_scores(win, t, method, flat, centre_axes):
    """The scores of windows ``win`` (..., a, b, c) against ``t`` (a, b, c),
    the sums over the last three axes, centred over ``centre_axes`` for the
    ccoeff methods; the degenerate-window rule of :func:`match_scores`."""
    axes = (-3, -2, -1)
    raw = (win * win).sum(axis=axes)
    traw = (t * t).sum()
    if method.startswith("ccoeff"):
        win = win - win.mean(axis=centre_axes, keepdims=True)
        t = t - t.mean(axis=centre_axes, keepdims=True)
    num = ((win - t) ** 2).sum(axis=axes) if method.startswith("sqdiff") else (win * t).sum(axis=axes)
    if not method.endswith("normed"):
        return num
    ea, et = (win * win).sum(axis=axes), (t * t).sum()
    is_flat = (ea <= flat * np.maximum(1.0, raw)) | (et <= flat * max(1.0, traw))
    with np.errstate(invalid="ignore", divide="ignore"):
        q = num / np.sqrt(ea * et)
    lo = 0.0 if method == "sqdiff_normed" else -1.0
    return np.where(is_flat, 1.0 if method == "sqdiff_normed" else 0.0, np.clip(q, lo, 1.0))


def volume_scores(vol, tpl, method, flat=1e-9):
    """:func:`match_scores` for a volume (D, H, W) and a template (d, h, w),
    every axis spatial (means over the whole window)."""
    vol = np.asarray(vol, dtype=np.float64)
    t = np.asarray(tpl, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(vol, t.shape)  # (od, oh, ow, d, h, w)
    return _window_scores(win, t, method, flat, centre_axes=(-3, -2, -1))  # (means over the whole window)


def omit_scores(img, tpl, method, present=None, tmask=None, min_overlap=0.5):
    """Every window scored over the pixels present in both window and template
    (``nan_policy="omit"``): OpenCV's formulas restricted to the overlap,
    channels summed, means per channel.  ``img`` (H, W) or (H, W, C) with NaN
    as missing, ``present`` an extra (H, W) mask of the image, ``tmask`` the
    template's (> 0: present).  A window with no overlap, or less than
    ``min_overlap`` of the template's present pixels, scores NaN."""
    img = np.asarray(img, dtype=np.float64)
    tpl = np.asarray(tpl, dtype=np.float64)
    if img.ndim == 2:
        img, tpl = img[..., None], tpl[..., None]
    return _omit_windows(img, tpl, method, present, tmask, min_overlap)


def volume_omit_scores(vol, tpl, method, present=None, tmask=None, min_overlap=0.5):
    """:func:`omit_scores` for a volume (D, H, W) and a template (d, h, w),
    every axis spatial; ``present`` (D, H, W), ``tmask`` (d, h, w)."""
    vol = np.asarray(vol, dtype=np.float64)[..., None]
    tpl = np.asarray(tpl, dtype=np.float64)[..., None]
    return _omit_windows(vol, tpl, method, present, tmask, min_overlap)


def _omit_windows(img, tpl, method, present, tmask, min_overlap):
    """:func:`omit_scores` of ``img`` (*shape, C) against ``tpl`` (*tshape, C),
    every window of the spatial axes in turn."""
    P = np.isfinite(img).all(axis=-1)
    if present is not None:
        P &= present
    M = np.isfinite(tpl).all(axis=-1) if tmask is None else (tmask > 0) & np.isfinite(tpl).all(axis=-1)
    tshape = tpl.shape[:-1]
    out = np.full(tuple(n - m + 1 for n, m in zip(img.shape[:-1], tshape)), np.nan)
    for o in np.ndindex(*out.shape):
        win = tuple(slice(i, i + m) for i, m in zip(o, tshape))
        m = P[win] & M
        n = int(m.sum())
        if n == 0 or n < min_overlap * M.sum() - 1e-9:
            continue
        a = img[win][m]  # (n, C)
        b = tpl[m]
        raw = (a * a).sum()
        if method.startswith("ccoeff"):
            a = a - a.mean(axis=0)
            b = b - b.mean(axis=0)
        out[o] = _score(a, b, raw, method)
    return out


def masked_volume_scores(vol, tpl, mask, method, flat=1e-9):
    """OpenCV's masked scores of every window of a volume (D, H, W) against a
    template (d, h, w) with weights ``mask`` (d, h, w), from their
    definitions: ``sqdiff`` sum (M (I - T))^2, ``ccorr`` sum M^2 I T,
    ``ccoeff`` sum I' T' with I' = M (I - sum M I / sum M) and T' likewise,
    the normalized ones over sqrt(sum (M I)^2 sum (M T)^2) (sqrt(sum I'^2
    sum T'^2) for ``ccoeff_normed``); the flat rule of :func:`match_scores`
    (the window's sum of squares under the mask).  A window holding NaN, of
    any weight, scores NaN."""
    vol = np.asarray(vol, dtype=np.float64)
    t = np.asarray(tpl, dtype=np.float64)
    w = np.asarray(mask, dtype=np.float64)
    win = np.lib.stride_tricks.sliding_window_view(vol, t.shape)
    out = np.full(win.shape[:3], np.nan)
    for o in np.ndindex(*out.shape):
        x = win[o]
        if np.isnan(x).any():
            continue
        if method.startswith("ccoeff"):
            a, b = w * (x - (w * x).sum() / w.sum()), w * (t - (w * t).sum() / w.sum())
        else:
            a, b = w * x, w * t
        out[o] = _score(a, b, ((w * x) ** 2).sum(), method, flat)
    return out


def _score(a, b, raw, method, flat=1e-9):
    """One window's score of its values ``a`` against the template's ``b``
    (centred already for the ccoeff methods), ``raw`` the window's sum of
    squares before centring: clamped, and the flat rule of :func:`match_scores`."""
    num = ((a - b) ** 2).sum() if method.startswith("sqdiff") else (a * b).sum()
    if not method.endswith("normed"):
        return num
    ea, eb = (a * a).sum(), (b * b).sum()
    if ea <= flat * max(1.0, raw) or eb <= flat:
        return 1.0 if method == "sqdiff_normed" else 0.0
    return np.clip(num / np.sqrt(ea * eb), 0.0 if method == "sqdiff_normed" else -1.0, 1.0)


# ---------------------------------------------------------------------------
# peaks (``_kernels.peaks``)
# ---------------------------------------------------------------------------


def suppress(coords, radius, max_out):
    """Indices of the candidates (best first) kept by greedy non-maximum
    suppression: a candidate within Chebyshev distance ``radius`` of a kept
    one is dropped; at most ``max_out`` kept."""
    kept = []
    for idx, (y, x) in enumerate(np.asarray(coords).tolist()):
        if len(kept) >= max_out:
            break
        if all(max(abs(y - coords[k][0]), abs(x - coords[k][1])) > radius for k in kept):
            kept.append(idx)
    return np.array(kept, dtype=np.int64)


# ---------------------------------------------------------------------------
# autocorrelation and periods (``_kernels.acf``, ``_kernels.acf_fft``)
# ---------------------------------------------------------------------------


def lag_sums(z, L):
    """S[b, k] = sum_t z[b, t] z[b, t + k], k = 0..L, for each series (row) of z."""
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[1]
    return np.array([[float(np.dot(r[:n - k], r[k:])) for k in range(L + 1)] for r in z]).reshape(len(z), L + 1)


def acf(z, L, demean=True, adjusted=False, normalize=True):
    """lag_sums of z (minus each series' mean if ``demean``), times n / (n - k)
    if ``adjusted``, divided by lag 0 if ``normalize`` (0 where lag 0 is 0)."""
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[1]
    if demean:
        z = z - z.mean(axis=1, keepdims=True)
    S = lag_sums(z, L)
    if adjusted:
        S = S * (n / (n - np.arange(L + 1.0)))
    if normalize:
        S = S / np.where(S[:, :1] == 0, 1.0, S[:, :1]) * (S[:, :1] != 0)
    return S


def robust_residuals(x, spike):
    """Per series: least-squares line through the finite samples; flag the
    samples whose residual exceeds ``spike`` times the RMS residual of the
    kept ones, refit to the kept ones; once more unless nothing was flagged.
    Returns (y, nvalid): the residuals of the kept samples (0 elsewhere) and
    how many were kept."""
    B, n = x.shape
    t = np.arange(n, dtype=np.float64)
    y = np.zeros((B, n))
    nvalid = np.zeros(B)

    def fit(keep, v):
        if keep.sum() == 0:
            return 0.0, 0.0
        if keep.sum() == 1:
            return float(v[keep][0]), 0.0
        c, a = np.polyfit(t[keep], v[keep], 1)
        return a, c

    for b in range(B):
        v = np.where(np.isfinite(x[b]), x[b], 0.0)
        keep = np.isfinite(x[b])
        a, c = fit(keep, v)
        for _ in range(2):
            if keep.sum() == 0:
                break
            r = v - a - c * t
            rms = np.sqrt(np.mean(r[keep] ** 2))
            flagged = keep & (np.abs(r) > spike * rms)
            keep = keep & ~flagged
            a, c = fit(keep, v)
            if not flagged.any():
                break
        y[b] = np.where(keep, v - a - c * t, 0.0)
        nvalid[b] = keep.sum()
    return y, nvalid


def _parabola_vertex(r, k):
    """(offset, value) of the vertex of the parabola through r[k-1], r[k],
    r[k+1], the offset clamped to +-1/2; (0, r[k]) when it opens upwards."""
    c2, c1, c0 = np.polyfit([-1.0, 0.0, 1.0], [r[k - 1], r[k], r[k + 1]], 2)
    if c2 >= -1e-15:
        return 0.0, float(r[k])
    d = min(max(-c1 / (2 * c2), -0.5), 0.5)
    return d, float(c0 + c1 * d + c2 * d * d)


def first_period(S, pmin, pmax, nvalid, level):
    """The first cycle ``detect`` reports for one series with lag sums ``S``,
    for the series it is checked on here (one cycle, no season over it):
    (period, strength), or (nan, nan).

    r = S / S[0]; the candidates are the local maxima of r at lags in [pmin,
    pmax] reaching the significance level max(0.1, level / sqrt(nvalid))
    that r dips well below between half their lag and them; each scores the
    mean of r near its first (up to 4) multiples; the period is the shortest
    candidate scoring within 10% of the best, its strength the peak value of
    the parabola through r at the three lags around it.  Only for series
    with an exact integer period (r peaks exactly at its multiples), which
    ``detect`` reports exactly: the lag rounded."""
    L = len(S) - 1
    r = np.asarray(S, dtype=np.float64) / S[0] if S[0] > 0 else np.zeros(L + 1)
    thr = max(0.1, level / np.sqrt(max(nvalid, 1.0)))
    cands = []
    for k in range(max(2, int(np.ceil(pmin))), min(int(np.floor(pmax)), L - 1) + 1):
        if not (r[k] >= thr and r[k] > r[k - 1] and r[k] >= r[k + 1]):
            continue
        if not (r[k // 2:k] <= r[k] - max(0.1, 0.3 * r[k])).any():
            continue
        d, v = _parabola_vertex(r, k)
        p = k + d
        near = []
        for m in range(1, 5):
            if m * p > L - 1:
                break
            c = int(np.floor(m * p + 0.5))
            near.append(max(r[j] for j in range(c - 1, c + 2) if 1 <= j <= L))
        cands.append((p, float(np.mean(near)), v))
    if not cands:
        return np.nan, np.nan
    best = max(s for _, s, _ in cands)
    p, s, v = next(c for c in cands if c[1] >= 0.9 * best)
    if v < thr or s < thr:
        return np.nan, np.nan
    return float(np.floor(p + 0.5)), min(1.0, max(-1.0, v))


# ---------------------------------------------------------------------------
# pooling (``_kernels.pool``), torch.nn.functional's rules
# ---------------------------------------------------------------------------


def _first_at_or_past_0(start, step):
    v = start
    while v < 0:
        v += step
    return v


def max_pool(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Max over each window (taps at i * sh - ph + a * dh, j * sw - pw + c * dw
    inside the plane), torch's way: a window holding NaN gives NaN and the
    flat index (r * W + q) of its last NaN; else the first maximum; a window
    where nothing exceeds -inf gives -inf and the index of its first tap at
    or past 0 in each axis.  Returns (values, indices), (P, oh, ow) each."""
    P, H, W = x.shape
    out = np.empty((P, oh, ow))
    idx = np.empty((P, oh, ow), dtype=np.int64)
    for p in range(P):
        for i in range(oh):
            rows = [i * sh - ph + a * dh for a in range(kh)]
            for j in range(ow):
                cols = [j * sw - pw + c * dw for c in range(kw)]
                taps = [(r, q) for r in rows for q in cols if 0 <= r < H and 0 <= q < W]
                nans = [(r, q) for r, q in taps if np.isnan(x[p, r, q])]
                if nans:
                    out[p, i, j] = np.nan
                    idx[p, i, j] = nans[-1][0] * W + nans[-1][1]
                    continue
                best, where = -np.inf, None
                for r, q in taps:
                    if x[p, r, q] > best:
                        best, where = x[p, r, q], (r, q)
                if where is None:  # the first of h0, h0 + dh, ... (w0, w0 + dw, ...) at or past 0
                    where = (_first_at_or_past_0(rows[0], dh), _first_at_or_past_0(cols[0], dw))
                out[p, i, j] = best
                idx[p, i, j] = where[0] * W + where[1]
    return out, idx


def max_pool3(x, k, s, p, d, oshape):
    """``max_pool`` over (P, D, H, W) volumes: k, s, p, d one value per axis;
    flat indices (z * H + r) * W + q; the same rules (last NaN, first
    maximum, first tap at or past 0 in each axis where nothing beats -inf)."""
    P, shape = x.shape[0], x.shape[1:]
    out = np.empty((P,) + tuple(oshape))
    idx = np.empty((P,) + tuple(oshape), dtype=np.int64)
    for b in range(P):
        for o in np.ndindex(*oshape):
            axes = [[o[ax] * s[ax] - p[ax] + t * d[ax] for t in range(k[ax])] for ax in range(3)]
            taps = [v for v in itertools.product(*axes) if all(0 <= v[ax] < shape[ax] for ax in range(3))]
            nans = [v for v in taps if np.isnan(x[(b,) + v])]
            flat = lambda v: (v[0] * shape[1] + v[1]) * shape[2] + v[2]  # noqa: E731
            if nans:
                out[(b,) + o], idx[(b,) + o] = np.nan, flat(nans[-1])
                continue
            best, where = -np.inf, None
            for v in taps:
                if x[(b,) + v] > best:
                    best, where = x[(b,) + v], v
            if where is None:
                where = tuple(_first_at_or_past_0(axes[ax][0], d[ax]) for ax in range(3))
            out[(b,) + o], idx[(b,) + o] = best, flat(where)
    return out, idx


def avg_pool3(x, k, s, p, include_pad, oshape):
    """``avg_pool`` over (P, D, H, W) volumes (torch's avg_pool3d divisor)."""
    P, shape = x.shape[0], x.shape[1:]
    out = np.empty((P,) + tuple(oshape))
    for b in range(P):
        for o in np.ndindex(*oshape):
            lo = [o[ax] * s[ax] - p[ax] for ax in range(3)]
            hi = [min(lo[ax] + k[ax], shape[ax] + p[ax]) for ax in range(3)]
            inside = x[(b,) + tuple(slice(max(lo[ax], 0), min(hi[ax], shape[ax])) for ax in range(3))]
            cnt = int(np.prod([hi[ax] - lo[ax] for ax in range(3)])) if include_pad else inside.size
            out[(b,) + o] = inside.astype(np.float64).sum() / cnt if cnt > 0 else np.nan
    return out


def avg_pool(x, kh, kw, sh, sw, ph, pw, include_pad, oh, ow):
    """Mean over each window [i * sh - ph, + kh) x [j * sw - pw, + kw) clipped
    to the padded plane; divided by that clipped window's size if
    ``include_pad``, else by the number of its samples inside the plane
    (NaN for none)."""
    P, H, W = x.shape
    out = np.empty((P, oh, ow))
    for p in range(P):
        for i in range(oh):
            r0, r1 = i * sh - ph, min(i * sh - ph + kh, H + ph)
            for j in range(ow):
                c0, c1 = j * sw - pw, min(j * sw - pw + kw, W + pw)
                inside = x[p, max(r0, 0):min(r1, H), max(c0, 0):min(c1, W)].astype(np.float64)
                cnt = (r1 - r0) * (c1 - c0) if include_pad else inside.size
                out[p, i, j] = inside.sum() / cnt if cnt > 0 else np.nan
    return out


# ---------------------------------------------------------------------------
# convolution layers (``_kernels.layers``), torch.nn.functional.conv2d
# ---------------------------------------------------------------------------


def conv2d(x, w, bias, sh, sw, pt, pl, dh, dw, oh, ow):
    """out[n, co, i, j] = bias[co] + sum_{ci, a, c} x[n, ci, i sh - pt + a dh,
    j sw - pl + c dw] w[co, ci, a, c], the taps outside x skipped."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    out = np.empty((N, Co, oh, ow))
    for n in range(N):
        for co in range(Co):
            for i in range(oh):
                for j in range(ow):
                    s = float(bias[co])
                    for ci in range(Ci):
                        for a in range(kh):
                            r = i * sh - pt + a * dh
                            if not 0 <= r < H:
                                continue
                            for c in range(kw):
                                q = j * sw - pl + c * dw
                                if 0 <= q < W:
                                    s += float(x[n, ci, r, q]) * float(w[co, ci, a, c])
                    out[n, co, i, j] = s
    return out


# ---------------------------------------------------------------------------
# memory (``_kernels.memory``)
# ---------------------------------------------------------------------------


def touch_pages(buf, page):
    """``buf`` with its byte 0, page, 2 page, ... set to 0."""
    out = np.array(buf, copy=True)
    out[::page] = 0
    return out


def centre_rows(x):
    """Each row minus its mean; the means; the sums of squares of the centred rows."""
    out = np.empty_like(x)
    means = np.empty(x.shape[0])
    sumsq = np.empty(x.shape[0])
    for b in range(x.shape[0]):
        m = sum(float(v) for v in x[b]) / x.shape[1]
        means[b] = m
        out[b] = [float(v) - m for v in x[b]]
        sumsq[b] = sum(v * v for v in out[b])
    return out, means, sumsq


def phat_whiten(fx, fy, eps):
    """Each pair's cross-spectrum fx * conj(fy) divided by its magnitude,
    magnitudes below eps times the row's largest raised to that floor."""
    out = np.empty_like(fx)
    for b in range(fx.shape[0]):
        g = [complex(a) * complex(c).conjugate() for a, c in zip(fx[b], fy[b])]
        top = max(abs(v) for v in g)
        floor = eps * top if top > 0 else 1.0
        out[b] = [v / max(abs(v), floor) for v in g]
    return out


# ---------------------------------------------------------------------------
# kernel-estimator autocorrelation of irregular samples (``_kernels.irregular``)
# ---------------------------------------------------------------------------


def kernel_lag_sums(t, x, step, width, gaussian, K):
    """(4, K + 1): for every pair i < j of one series (any order of times),
    w(t_j - t_i - k step) times x_i x_j, x_i^2, x_j^2 and 1, summed per lag
    k = 1..K (i the earlier sample); w Gaussian of sd ``width`` cut off
    beyond 5 widths, or 1 in the slot |u| < step / 2 (the nearer lag)."""
    order = np.argsort(t, kind="stable")
    t, x = np.asarray(t, float)[order], np.asarray(x, float)[order]
    out = np.zeros((4, K + 1))
    for i in range(len(t)):
        for j in range(i + 1, len(t)):
            d = t[j] - t[i]
            for k in range(1, K + 1):
                u = d - k * step
                if gaussian:
                    w = np.exp(-u * u / (2 * width * width)) if abs(u) <= 5 * width else 0.0
                else:
                    w = 1.0 if k == int(np.floor(d / step + 0.5)) else 0.0
                out[:, k] += w * np.array([x[i] * x[j], x[i] ** 2, x[j] ** 2, 1.0])
    return out


def corr_push(hist, x, ker):
    """``_kernels.stream.corr_push``: (out, new history) of one push,
    out[b, j] = sum_c p[b, j + c] ker[0, c], p = hist[b] then x[b]."""
    p = np.concatenate([hist, x], axis=1).astype(np.float64)
    B, n = x.shape
    m = ker.shape[1]
    out = np.zeros((B, n))
    for b in range(B):
        for j in range(n):
            out[b, j] = sum(p[b, j + c] * float(ker[0, c]) for c in range(m))
    return out, p[:, n:n + m - 1]


# ---------------------------------------------------------------------------
# network matched filtering (``_kernels.network``, ``sigcorr.matched_filter``)
# ---------------------------------------------------------------------------


def track_sums(y, W, ends, L, spike):
    """``_kernels.stream.track_push``'s lag sums: for each window of each
    channel (row w B + b), the lag sums 0..L of the window's robust residual
    (``robust_residuals``), and whether every sample was kept (the rows
    the kernel slides; the others it leaves to the offline detector)."""
    B = y.shape[0]
    S = np.zeros((len(ends) * B, L + 1))
    kept = np.zeros(len(ends) * B, dtype=bool)
    for w, e in enumerate(ends):
        res, nvalid = robust_residuals(y[:, e - W:e], spike)
        for b in range(B):
            S[w * B + b] = lag_sums(res[b:b + 1], L)[0]
            kept[w * B + b] = nvalid[b] == W
    return S, kept


def matched_filter(data, templates, moveouts=None, weights=None, step=1, flat=1e-9):
    """out[t, i] = sum_c w[t, c] r_tc(i + moveout[t, c]) / sum_c w[t, c] for
    every step-th i, r_tc(j) the ccoeff_normed score of templates[t, c]
    against data[c, j:j + m] (:func:`match_scores`), the channels whose
    window holds NaN left out of both sums (NaN where none is left; a flat
    template channel scores 0 on windows without NaN)."""
    data = np.asarray(data, dtype=np.float64)
    data = data[None] if data.ndim == 1 else data
    tpl = np.asarray(templates, dtype=np.float64)
    tpl = tpl[:, None] if tpl.ndim == 2 else tpl
    T, C, m = tpl.shape
    N = data.shape[1]
    mv = np.zeros((T, C), dtype=np.int64) if moveouts is None else np.asarray(moveouts)
    w = np.ones((T, C)) if weights is None else np.asarray(weights, dtype=np.float64)
    n_out = N - m - int(mv.max()) + 1
    keep = range(0, n_out, step)
    out = np.full((T, len(keep)), np.nan)
    for t in range(T):
        r = [match_scores(data[c][None, None], tpl[t, c][None, None], "ccoeff_normed", flat=flat)[0]
             for c in range(C)]
        # a window holding NaN is missing data, even for a flat template (which scores 0 elsewhere)
        r = [np.where(np.isnan(np.lib.stride_tricks.sliding_window_view(data[c], m)).any(axis=1), np.nan, rc)
             for c, rc in enumerate(r)]
        for k, i in enumerate(keep):
            num = den = 0.0
            for c in range(C):
                v = r[c][i + mv[t, c]]
                if np.isnan(v) or w[t, c] == 0:
                    continue
                num += w[t, c] * v
                den += w[t, c]
            if den > 0:
                out[t, k] = num / den
    return out


def network_stack(cross, i0, S, shift, mv, wts, itn, invn, n, step, out):
    """``_kernels.network.network_stack`` from its contract, output by output
    (a copy of ``out`` with the kept outputs written)."""
    out = np.array(out, dtype=np.float64, copy=True)
    G, C, nb, _ = cross.shape
    for g in range(G):
        for b in range(nb):
            for r in range(S):
                i = i0 + b * S + r
                if i >= n or i % step:
                    continue
                num = den = 0.0
                for c in range(C):
                    v = float(invn[c, i + mv[g, c]])
                    if np.isnan(v) or wts[g, c] == 0:
                        continue
                    x = float(cross[g, c, b, r + shift[g, c]]) * v * itn[g, c]
                    s = x if abs(x) < 1 else (np.sign(x) if abs(x) < 1.125 else 0.0)
                    num += wts[g, c] * s
                    den += wts[g, c]
                out[g, i // step] = num / den if den > 0 else np.nan
    return out


def window_norms(x, m, means, qeps):
    """``_kernels.network.window_norms``: 1 / sqrt(sum (w - mean w)^2) of every
    m-sample window w of each channel, 0 when that energy is at most 1e-12 of
    sum (w - means[c])^2 or ``qeps[c]``, NaN when the window holds NaN or inf."""
    C, n = x.shape
    out = np.empty((C, n - m + 1))
    for c in range(C):
        for j in range(n - m + 1):
            w = x[c, j:j + m].astype(np.float64) - means[c]
            if not np.isfinite(w).all():
                out[c, j] = np.nan
                continue
            q = float((w * w).sum())
            e = float(((w - w.mean()) ** 2).sum())
            out[c, j] = 0.0 if e <= max(1e-12 * q, qeps[c]) else 1.0 / np.sqrt(e)
    return out
