"""Volumes (issue 25): N-D convolution, 3-D matching and 3-D pooling beside
scipy, scikit-image and torch (2 threads)."""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi
import scipy.signal as ss

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    rep = 3 if quick else 5
    rng = np.random.default_rng(0)
    out = []
    a = rng.standard_normal((128, 128, 128))
    k = rng.standard_normal((31, 31, 31))
    np.testing.assert_allclose(sigcorr.convolve(a, k, "same"), ss.fftconvolve(a, k, "same"), atol=1e-9)
    t = best_times({"s": lambda: sigcorr.convolve(a, k, "same"), "p": lambda: ss.fftconvolve(a, k, "same")},
                   repeat=rep)
    out.append(Row("convolve 128^3 x 31^3 float64 'same'", t["s"], "scipy.signal.fftconvolve", t["p"],
                   "<= 0.7x", 0.7))
    a32 = rng.standard_normal((128, 128, 128)).astype(np.float32)
    k3 = rng.standard_normal((3, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(sigcorr.correlate(a32, k3, "same"), ndi.correlate(a32, k3, mode="constant"),
                               atol=1e-4)
    t = best_times({"s": lambda: sigcorr.correlate(a32, k3, "same"),
                    "p": lambda: ndi.correlate(a32, k3, mode="constant")}, repeat=rep)
    out.append(Row("correlate 128^3 x 3^3 float32 'same'", t["s"], "scipy.ndimage.correlate", t["p"],
                   "<= 0.5x", 0.5))
    a = k = a32 = None
    try:
        from skimage.feature import match_template as sk_match
    except ImportError:  # pragma: no cover
        sk_match = None
    if sk_match is not None:
        vol = rng.random((160, 160, 160)).astype(np.float32)
        tpl = vol[40:56, 50:66, 60:76].copy()
        np.testing.assert_allclose(sigcorr.match_template(vol, tpl, channel_axis=None), sk_match(vol, tpl), atol=2e-3)
        t = best_times({"s": lambda: sigcorr.match_template(vol, tpl, channel_axis=None),
                        "p": lambda: sk_match(vol, tpl)}, repeat=max(2, rep // 2))
        out.append(Row("match_template 160^3 float32, 16^3 template", t["s"], "skimage.feature.match_template",
                       t["p"], "<= 0.2x", 0.2))
        vol = None
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:  # pragma: no cover
        return out
    torch.set_num_threads(2)
    x = rng.standard_normal((4, 16, 64, 64, 64), dtype=np.float32)
    tx = torch.from_numpy(x)
    np.testing.assert_array_equal(sigcorr.max_pool3d(x, 2), F.max_pool3d(tx, 2).numpy())
    t = best_times({"s": lambda: sigcorr.max_pool3d(x, 2), "p": lambda: F.max_pool3d(tx, 2)}, repeat=rep)
    out.append(Row("max_pool3d(x, 2), x 4x16x64x64x64 float32", t["s"], "torch.nn.functional", t["p"],
                   "<= 0.5x", 0.5))
    t = best_times({"s": lambda: sigcorr.avg_pool3d(x, 2), "p": lambda: F.avg_pool3d(tx, 2)}, repeat=rep)
    out.append(Row("avg_pool3d(x, 2), same x", t["s"], "torch.nn.functional", t["p"]))
    xs = np.ascontiguousarray(x[:, :4, :32, :32, :32])
    w = rng.standard_normal((8, 4, 3, 3, 3), dtype=np.float32)
    t = best_times({"s": lambda: sigcorr.conv3d(xs, w, padding=1),
                    "p": lambda: F.conv3d(torch.from_numpy(xs), torch.from_numpy(w), padding=1)}, repeat=rep)
    out.append(Row("conv3d, x 4x4x32x32x32 float32, 8 3x3x3 filters, padding 1", t["s"],
                   "torch.nn.functional.conv3d", t["p"]))
    return out
