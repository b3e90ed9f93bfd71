"""Template matching beyond one template (issue 15 targets): template stacks
against a loop of cv2.matchTemplate calls; missing pixels (nan_policy="omit")
against the plain call."""

from __future__ import annotations

import os
import sys

import numpy as np

import sigcorr
from _harness import Row, best_times
from bench_match import _photo
from sigcorr._testing import transformed_scene  # the scale/angle scenes, built as the tests build them


def rows(quick: bool = False) -> list[Row]:
    import cv2

    rep = 2 if quick else 5
    img = _photo()
    rng = np.random.default_rng(0)
    crops = []
    while len(crops) < 32:  # textured crops (on near-flat sky crops OpenCV's float32 scores drift)
        y, x = rng.integers(0, 1024 - 32, 2)
        if img[y:y + 32, x:x + 32].std() > 20:
            crops.append(img[y:y + 32, x:x + 32])
    stack = np.stack(crops)
    ref = np.stack([cv2.matchTemplate(img, t, cv2.TM_CCOEFF_NORMED) for t in stack])
    assert np.abs(sigcorr.match_template(img, stack) - ref).max() < 5e-3
    times = best_times({
        "s": lambda: sigcorr.match_template(img, stack),
        "cv": lambda: [cv2.matchTemplate(img, t, cv2.TM_CCOEFF_NORMED) for t in stack],
    }, repeat=rep, burst=1)
    out = [Row("match_template 1024x1024 float32, stack of 32 templates 32x32, ccoeff_normed", times["s"],
               "cv2.matchTemplate loop", times["cv"], "<= 0.35x", 0.35)]
    holes = img.copy()
    holes[rng.random(img.shape) < 0.05] = np.nan
    tpl = img[600:632, 300:332].copy()
    times = best_times({
        "s": lambda: sigcorr.match_template(holes, tpl, nan_policy="omit"),
        "p": lambda: sigcorr.match_template(img, tpl),
    }, repeat=rep)
    out.append(Row("match_template 1024x1024 float32, 5% missing pixels, 32x32, nan_policy='omit'", times["s"],
                   "sigcorr plain call (no missing pixels)", times["p"], "<= 3x", 3.0))
    return out + scale_rows(quick) + cli_rows(quick)


def _cv_scale_loop(img, tpl, scales):
    import cv2

    best = None
    for s in scales:
        t = cv2.resize(tpl, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        _, v, _, loc = cv2.minMaxLoc(cv2.matchTemplate(img, t, cv2.TM_CCOEFF_NORMED))
        if best is None or v > best[0]:
            best = (v, loc[::-1], s, t.shape)
    return best


def scale_rows(quick: bool = False) -> list[Row]:
    import cv2

    rep = 2 if quick else 4
    img = _photo()
    tpl = cv2.resize(img[500:580, 300:380], (64, 64))  # the object at 0.8x in the image
    scales = np.linspace(0.5, 2.0, 16)
    m = sigcorr.locate(img, tpl, scales=scales)
    best = _cv_scale_loop(img, tpl, scales)
    cv_centre = np.array(best[1]) + (np.array(best[3]) - 1) / 2
    same = "same best position" if np.abs(m.centers[0] - cv_centre).max() <= 2 else "DIFFERENT best position"
    times = best_times({"s": lambda: sigcorr.locate(img, tpl, scales=scales, pyramid_levels=2),
                        "full": lambda: sigcorr.locate(img, tpl, scales=scales),
                        "cv": lambda: _cv_scale_loop(img, tpl, scales)}, repeat=rep, burst=1)
    pyr = sigcorr.locate(img, tpl, scales=scales, pyramid_levels=2)
    same_p = "same best position" if np.abs(pyr.centers[0] - cv_centre).max() <= 2 else "DIFFERENT best position"
    return [Row(f"locate 1024x1024, 64x64 template, 16 scales 0.5-2x, pyramid_levels=2 ({same_p})", times["s"],
                "cv2 resize + matchTemplate + minMaxLoc loop", times["cv"], "<= 0.3x", 0.3),
            Row(f"locate 1024x1024, 64x64 template, 16 scales 0.5-2x, full search ({same})", times["full"],
                "cv2 resize + matchTemplate + minMaxLoc loop", times["cv"], "<= 0.3x", 0.3)]


def cli_rows(quick: bool = False) -> list[Row]:
    """``sigcorr match 'frames/*.png' --template T --jsonl`` on 640x480 PNG
    frames (a subprocess, start-up and image reading included) beside a
    Python loop of cv2.imread + matchTemplate + minMaxLoc."""
    import subprocess
    import tempfile
    from pathlib import Path

    import cv2

    n = 200 if quick else 1000
    photo = cv2.resize(_photo(), (800, 600)).astype(np.uint8)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for i in range(n):
            y, x = rng.integers(0, 120, 2)
            cv2.imwrite(str(d / f"f{i:04d}.png"), photo[y:y + 480, x:x + 640])
        cv2.imwrite(str(d / "t.png"), photo[300:364, 400:464])
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        cmd = [sys.executable, "-m", "sigcorr.cli", "match", str(d / "f*.png"), "--template", str(d / "t.png"),
               "--jsonl"]

        def cli():
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
            assert out.count("\n") == n

        tpl = cv2.imread(str(d / "t.png"), cv2.IMREAD_GRAYSCALE).astype(np.float32)

        def loop():
            for p in sorted(d.glob("f*.png")):
                im = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).astype(np.float32)
                cv2.minMaxLoc(cv2.matchTemplate(im, tpl, cv2.TM_CCOEFF_NORMED))

        times = best_times({"s": cli, "cv": loop}, repeat=1, warmup=0, burst=1)
    fps = n / times["s"]
    return [Row(f"CLI match on {n} PNG frames 640x480, 64x64 template: {fps:.0f} frames/s", times["s"],
                "Python loop of cv2.imread + matchTemplate + minMaxLoc", times["cv"], "report", None)]


def extra(quick: bool = False) -> str:
    """Scale and angle recovery: textured 40x40 crops of three photographs,
    their surroundings scaled 0.6-1.8x and rotated 0-360 degrees, searched
    over 12 scales and 24 angles (15 degree steps)."""
    import time

    from skimage import data

    n = 24 if quick else 100
    rng = np.random.default_rng(15)
    photos = []
    for name in ("camera", "astronaut", "coffee"):
        p = getattr(data, name)()
        photos.append((p.mean(axis=2) if p.ndim == 3 else p).astype(np.float32))
    scales, angles = np.geomspace(0.6, 1.8, 12), np.arange(0, 360, 15.0)
    hits = {"position": 0, "scale": 0, "angle": 0, "all": 0}
    t0 = time.perf_counter()
    for i in range(n):
        s, a = rng.uniform(0.6, 1.8), rng.uniform(0, 360)
        scene, crop, centre = transformed_scene(photos[i % 3], rng, s, a)
        m = sigcorr.locate(scene, crop, scales=scales, angles=angles)
        ok = (np.hypot(*(m.centers[0] - centre)) <= 2, abs(m.scales[0] / s - 1) <= 0.05,
              abs((m.angles[0] - a + 180) % 360 - 180) <= 15)
        for key, v in zip(("position", "scale", "angle"), ok):
            hits[key] += bool(v)
        hits["all"] += all(ok)
    secs = (time.perf_counter() - t0) / n
    return "\n".join([
        f"Scale/angle recovery, {n} cases (crops of camera, astronaut, coffee; scale 0.6-1.8x, angle 0-360; "
        f"grid 12 scales x 24 angles; {secs:.2f} s per search of a ~100-370 px scene):",
        "",
        "| criterion | found | target |",
        "| --- | ---: | --- |",
        f"| position within 2 px | {hits['position']}/{n} | |",
        f"| scale within 5% | {hits['scale']}/{n} | |",
        f"| angle within one step (15 deg) | {hits['angle']}/{n} | |",
        f"| all three | {hits['all']}/{n} ({100 * hits['all'] / n:.0f}%) | >= 95% |",
    ])
