"""Convolution/correlation: sigcorr beside numpy, OpenCV and scipy (issue 2 targets)."""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    import cv2

    rep = 3 if quick else 9
    rng = np.random.default_rng(0)
    out = []

    x = rng.standard_normal(4_000_000)
    k = rng.standard_normal(32)
    np.testing.assert_allclose(sigcorr.correlate(x, k, "valid"), np.correlate(x, k, "valid"), atol=1e-9)
    t = best_times({"s": lambda: sigcorr.correlate(x, k, "valid"),
                    "p": lambda: np.correlate(x, k, "valid")}, repeat=rep)
    out.append(Row("1-D correlate, 4e6 float64, 32 taps, valid", t["s"], "numpy.correlate", t["p"],
                   ">= 3x faster", 1 / 3))

    img = rng.standard_normal((2048, 2048)).astype(np.float32)
    k7 = rng.standard_normal((7, 7)).astype(np.float32)
    ref = cv2.filter2D(img, -1, k7, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(sigcorr.correlate(img, k7, "same"), ref, atol=1e-4)
    t = best_times({"s": lambda: sigcorr.correlate(img, k7, "same"),
                    "p": lambda: cv2.filter2D(img, -1, k7, borderType=cv2.BORDER_CONSTANT)}, repeat=rep * 2)
    out.append(Row("2-D correlate, 2048x2048 float32, 7x7, same", t["s"], "cv2.filter2D", t["p"],
                   "<= 0.8x", 0.8))

    a = rng.standard_normal((1024, 1024))
    k63 = rng.standard_normal((63, 63))
    np.testing.assert_allclose(sigcorr.convolve(a, k63, "same"), ss.fftconvolve(a, k63, "same"), atol=1e-8)
    t = best_times({"s": lambda: sigcorr.convolve(a, k63, "same"),
                    "p": lambda: ss.fftconvolve(a, k63, "same")}, repeat=rep)
    out.append(Row("2-D convolve, 1024x1024 float64, 63x63, same", t["s"], "scipy.signal.fftconvolve",
                   t["p"], "<= 0.7x", 0.7))

    y = rng.standard_normal(1_000_000)
    k4 = rng.standard_normal(4096)
    np.testing.assert_allclose(sigcorr.correlate(y, k4, "same"), ss.correlate(y, k4, "same"), atol=1e-8)
    t = best_times({"s": lambda: sigcorr.correlate(y, k4, "same"),
                    "p": lambda: ss.correlate(y, k4, "same")}, repeat=rep)
    out.append(Row("1-D correlate, 1e6 float64, 4096 taps, same", t["s"], "scipy.signal.correlate (auto)",
                   t["p"], "<= 0.7x", 0.7))
    return out
