"""Network matched filtering: many multichannel templates, each channel at
its own moveout, their normalized correlations weighted and stacked
(``matched_filter``), and the detection threshold of matched-filter users
(``mad_threshold``).

The engine (:mod:`sigcorr._network`) never stores a per-channel score array:
each channel's window statistics are computed once, the cross terms block by
block (direct or overlap-save FFT, whichever the cost model says is cheaper),
and a kernel turns each block into stacked scores.
"""

from __future__ import annotations

import numpy as np

from . import _network, _validate
from ._runtime import serialized_if_needed

__all__ = ["matched_filter", "mad_threshold"]


@serialized_if_needed
def matched_filter(data, templates, *, moveouts=None, weights=None, method="ccoeff_normed", step=1):
    """Network matched filter: the weighted mean over channels of each
    template's normalized correlation, each channel shifted by its moveout.

    ``out[t, i] = sum_c w[t, c] r_tc(i + moveout[t, c]) / sum_c w[t, c]``,
    where ``r_tc(j)`` is the ``ccoeff_normed`` score (Pearson's correlation,
    as ``match_template``) of ``templates[t, c]`` against ``data[c, j:j + m]``.

    Parameters
    ----------
    data : array_like, (C, N)
        C channels (stations x components) of N samples each, or one channel
        (N,).  NaN (or inf) samples are missing data (a gap): a window that
        holds one drops its channel from that window's sum, the other
        channels' weights renormalized; where every channel drops, NaN.
        float32 (and 8/16-bit integer) data computes and returns float32,
        with float64 window sums; everything else float64.  The scores do
        not depend on the data's scale (data far from 1 are scaled by a
        power of two first: the scale-free rule of ``match_template``).
    templates : array_like, (T, C, m)
        T templates of C channels of m samples ((T, m) for one-channel data).
        A flat template channel (constant) scores 0.
    moveouts : array_like of int, (T, C), optional
        Each channel's start within its template, in samples, >= 0 (default 0).
    weights : array_like, (T, C), optional
        Channel weights >= 0, at least one > 0 per template (default 1).
    method : {'ccoeff_normed'}
        The per-channel score (the normalized correlation coefficient).
    step : int
        Keep every step-th output (outputs 0, step, 2 step, ...), as FMF's
        ``step``.

    Returns
    -------
    ndarray, (T, ceil(N_out / step))
        With N_out = N - m - max(moveouts) + 1.  A flat window scores 0 (and
        keeps its weight); scores lie in [-1, 1].

    Notes
    -----
    Memory: the output, a centred copy of the data, each channel's inverse
    window norms and work buffers of a few tens of MB; no (T, C, N) array.
    Speed: per channel the window statistics are computed once; templates
    of more than a few dozen samples go through overlap-save FFTs in which
    each channel's blocks are transformed once and every template's moveout
    is folded into its spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> rng = np.random.default_rng(0)
    >>> data = rng.standard_normal((3, 2000))
    >>> moveouts = np.array([[0, 5, 12]])
    >>> tpl = np.stack([data[c, 700 + moveouts[0, c]:700 + moveouts[0, c] + 50] for c in range(3)])[None]
    >>> scores = sigcorr.matched_filter(data, tpl, moveouts=moveouts)
    >>> scores.shape
    (1, 1939)
    >>> int(np.argmax(scores[0])), round(float(scores.max()), 6)
    (700, 1.0)
    >>> gappy = data.copy(); gappy[1, 710] = np.nan       # channel 1 drops there
    >>> round(float(sigcorr.matched_filter(gappy, tpl, moveouts=moveouts)[0, 700]), 6)
    1.0
    """
    x, tpl, mv, w, dtype, step, _ = _validate.network_inputs(data, templates, moveouts, weights, method, step)
    x, tpl, _, _ = _validate.scale_free(x, tpl, dtype)  # (the scores are normalized: nothing to scale back)
    return _network.Bank(tpl, mv, w, dtype).scores(x, step)


def mad_threshold(scores, k):
    """k times the median absolute deviation of each row of ``scores``: the
    detection threshold of matched-filter users (EQcorrscan's ``MAD``
    threshold, ``k * median(|s - median(s)|)``; for scores of median 0, as
    network scores of noise are, that is EQcorrscan's ``k * median(|s|)``).

    Parameters
    ----------
    scores : array_like, (..., N)
        NaN scores (gaps) are left out; a row without a finite score gives NaN.
    k : float
        The multiple, > 0.

    Returns
    -------
    ndarray of shape scores.shape[:-1] (a float for one row)
        Pass it to :func:`find_matches` as ``threshold`` (one per row).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> s = np.array([[0.0, 1, -1, 2, -2, 0.5], [0, 0, 0, 0, 0, 9]])
    >>> sigcorr.mad_threshold(s, 8).tolist()
    [8.0, 0.0]
    """
    arr = _validate.as_numeric_array(scores, "scores", allow_complex=False)
    k = _validate.check_positive(k, "k")
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(f"scores must have at least one sample per row, got shape {arr.shape}")
    rows = arr.reshape(-1, arr.shape[-1])
    out = np.empty(rows.shape[0])
    for i, row in enumerate(rows):
        if not np.isfinite(row).all():
            row = row[np.isfinite(row)]
        if row.size == 0:
            out[i] = np.nan
            continue
        row = row.astype(np.float64)
        med = np.median(row)
        out[i] = k * float(np.median(np.abs(row - med)))
    out = out.reshape(arr.shape[:-1])
    return float(out) if out.ndim == 0 else out
