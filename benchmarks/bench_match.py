"""Template matching: sigcorr beside OpenCV and scikit-image (issue 3 targets)."""

from __future__ import annotations

import numpy as np

import sigcorr
from _harness import Row, best_times


def _photo():
    import cv2
    from skimage import data

    return cv2.resize(data.camera(), (1024, 1024), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def rows(quick: bool = False) -> list[Row]:
    import cv2
    from skimage.feature import match_template as sk_match

    rep = 3 if quick else 9
    img = _photo()
    out = []
    for t in (16, 64):
        tpl = img[600:600 + t, 300:300 + t].copy()
        ref = cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED)
        assert np.abs(sigcorr.match_template(img, tpl) - ref).max() < 5e-3
        times = best_times({
            "s": lambda tpl=tpl: sigcorr.match_template(img, tpl, "ccoeff_normed"),
            "cv": lambda tpl=tpl: cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED),
            "sk": lambda tpl=tpl: sk_match(img, tpl),
        }, repeat=rep)
        name = f"match_template 1024x1024 float32, {t}x{t}, ccoeff_normed"
        out.append(Row(name, times["s"], "cv2.matchTemplate", times["cv"], "<= 0.9x", 0.9))
        out.append(Row(name, times["s"], "skimage match_template", times["sk"], "<= 0.2x", 0.2))
    tpl = img[600:664, 300:364].copy()
    full = sigcorr.locate(img, tpl)
    pyr = sigcorr.locate(img, tpl, pyramid_levels=2)
    same = "same answer" if np.array_equal(full.positions, pyr.positions) else "DIFFERENT answer"
    times = best_times({"s": lambda: sigcorr.locate(img, tpl, pyramid_levels=2),
                        "p": lambda: sigcorr.locate(img, tpl)}, repeat=rep)
    out.append(Row(f"locate 64x64, pyramid_levels=2 ({same})", times["s"], "sigcorr.locate (full search)",
                   times["p"], ">= 4x faster", 0.25))
    # the user's alternative: OpenCV's full match and its best peak
    best = cv2.minMaxLoc(cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED))[3][::-1]
    same = "same answer" if tuple(pyr.positions[0].astype(int)) == best else "DIFFERENT answer"
    times = best_times({"s": lambda: sigcorr.locate(img, tpl, pyramid_levels=2),
                        "cv": lambda: cv2.minMaxLoc(cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED))}, repeat=rep)
    out.append(Row(f"locate 64x64, pyramid_levels=2 ({same})", times["s"], "cv2.matchTemplate + minMaxLoc",
                   times["cv"], "<= 0.25x", 0.25))
    return out
