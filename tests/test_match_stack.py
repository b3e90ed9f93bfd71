"""Template stacks: match_template / find_matches / locate on (T, h, w[, C])."""

import numpy as np
import pytest

import naive
from sigcorr._testing import transformed_scene
import sigcorr

cv2 = pytest.importorskip("cv2")
data = pytest.importorskip("skimage.data")

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]
CAMERA = data.camera().astype(np.float32)


def _crops(img, rng, n, h, w):
    ys = rng.integers(0, img.shape[0] - h, n)
    xs = rng.integers(0, img.shape[1] - w, n)
    return np.stack([img[y:y + h, x:x + w] for y, x in zip(ys, xs)]), ys, xs


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("size", [(7, 9), (48, 40)])  # direct and FFT tile paths
def test_stack_equals_per_template_calls(method, size):
    rng = np.random.default_rng(0)
    img = CAMERA[:300, :280]
    stack, ys, xs = _crops(img, rng, 5, *size)
    stack[2] = 7.0  # a flat template in the stack
    got = sigcorr.match_template(img, stack, method)
    assert got.shape == (5,) + tuple(np.subtract(img.shape, size) + 1)
    assert got.dtype == np.float32
    for k in range(5):
        one = sigcorr.match_template(img, stack[k], method)
        np.testing.assert_array_equal(got[k], one)
    # single calls are checked against OpenCV in test_match.py; here the best
    # windows of the (textured) large crops are the crops themselves
    if size[0] > 20 and method in ("sqdiff", "ccoeff_normed", "ccorr_normed"):
        for k in (0, 1, 3, 4):
            best = np.argmin(got[k]) if method == "sqdiff" else np.argmax(got[k])
            assert np.unravel_index(best, got[k].shape) == (ys[k], xs[k])


@pytest.mark.parametrize("kind", ["float64", "colour", "1-D", "nan", "mask", "pad_input", "uint8"])
def test_stack_variants_equal_per_template_calls(kind):
    rng = np.random.default_rng(1)
    img = CAMERA[100:260, 50:250].astype(np.float64)
    kw = {}
    if kind == "colour":
        img = np.dstack([img, img[::-1], img ** 0.5])
    elif kind == "1-D":
        img = img[80]
    elif kind == "nan":
        img = img.copy()
        img[40:43, 60] = np.nan
    elif kind == "uint8":
        img = img.astype(np.uint8)
    if kind == "1-D":
        stack = np.stack([img[i:i + 17] for i in (3, 50, 120)])
    else:
        stack = np.stack([img[y:y + 12, x:x + 15] for y, x in ((0, 0), (30, 50), (100, 160))])
    if kind == "mask":
        kw["mask"] = rng.random((12, 15))
    if kind == "pad_input":
        kw["pad_input"] = True
    got = sigcorr.match_template(img, stack, **kw)
    want = np.stack([sigcorr.match_template(img, t, **kw) for t in stack])
    np.testing.assert_array_equal(got, want)


def test_stack_input_errors():
    img = np.ones((20, 20))
    with pytest.raises(ValueError, match="at least one template"):
        sigcorr.match_template(img, np.ones((0, 3, 3)))
    with pytest.raises(ValueError, match="template must not be larger than image"):
        sigcorr.match_template(img, np.ones((2, 21, 3)))
    with pytest.raises(ValueError, match="channels"):
        sigcorr.match_template(np.ones((10, 10, 3)), np.ones((2, 3, 3, 2)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        sigcorr.find_matches(np.ones((2, 2, 2, 2)))


def test_find_matches_on_a_stack_suppresses_across_maps():
    s = np.zeros((3, 30, 30))
    s[0, 10, 10] = 0.9
    s[1, 11, 12] = 0.95  # the same object seen by another template: one match
    s[2, 25, 4] = 0.5
    s[0, 3, 27] = 0.6
    m = sigcorr.find_matches(s, min_distance=4)
    assert m.positions.tolist() == [[11, 12], [3, 27], [25, 4]]
    assert m.template.tolist() == [1, 0, 2]
    np.testing.assert_array_equal(m.scores, [0.95, 0.6, 0.5])
    # each map alone gives its own peaks
    for k in range(3):
        one = sigcorr.find_matches(s[k], min_distance=4)
        assert set(map(tuple, one.positions.tolist())) <= set(
            map(tuple, sigcorr.find_matches(s, min_distance=1).positions[
                sigcorr.find_matches(s, min_distance=1).template == k].tolist()))


def test_find_matches_stack_of_one_equals_the_map():
    rng = np.random.default_rng(2)
    for trial in range(50):
        s = rng.integers(0, 5, (rng.integers(1, 12), rng.integers(1, 12))).astype(np.float64)
        if trial % 3 == 0:
            s[rng.random(s.shape) < 0.2] = np.nan
        kw = dict(threshold=None if trial % 2 else 2.0, min_distance=1 + trial % 3,
                  maximize=bool(trial % 4), subpixel=trial % 5 == 0)
        a = sigcorr.find_matches(s, **kw)
        b = sigcorr.find_matches(s[None], **kw)
        assert a.positions.tolist() == b.positions.tolist()
        assert a.scores.tolist() == b.scores.tolist()
        assert (b.template == 0).all()


def test_locate_stack_finds_every_template():
    rng = np.random.default_rng(3)
    img = cv2.resize(CAMERA, (600, 600)) + rng.normal(0, 2, (600, 600)).astype(np.float32)
    ys, xs = np.array([40, 300, 520, 150]), np.array([500, 60, 300, 200])
    stack = np.stack([img[y:y + 40, x:x + 40] for y, x in zip(ys, xs)])
    for levels in (0, 2):
        m = sigcorr.locate(img, stack, max_matches=4, pyramid_levels=levels)
        got = sorted(zip(m.template.tolist(), m.positions.astype(int).tolist()))
        assert got == [(k, [int(ys[k]), int(xs[k])]) for k in range(4)], levels
        np.testing.assert_allclose(m.centers, m.positions + 19.5)
        np.testing.assert_allclose(m.scores, 1.0, atol=1e-5)
        assert (m.scales == 1).all() and (m.angles == 0).all()


def test_locate_stack_one_object_one_match():
    # two near-identical templates of the same object: one match, the better one
    img = CAMERA[:256, :256]
    a = img[100:132, 60:92]
    b = a + np.float32(3.0) * (np.arange(32, dtype=np.float32) % 2)  # a noisier copy
    m = sigcorr.locate(img, np.stack([b, a]), max_matches=2, min_distance=16)
    assert m.positions[0].tolist() == [100, 60] and m.template[0] == 1
    assert not (np.abs(m.positions[1:] - [100, 60]).max(axis=1) <= 16).any()


def test_matches_defaults_keep_old_constructor():
    m = sigcorr.Matches(np.array([[1.0, 2.0]]), np.array([0.5]))
    assert m.centers.tolist() == [[1.0, 2.0]]
    assert m.template.tolist() == [0] and m.scales.tolist() == [1.0] and m.angles.tolist() == [0.0]
    assert list(m) == [((1.0, 2.0), 0.5)]
    single = sigcorr.locate(CAMERA[:100, :100], CAMERA[20:30, 40:56])
    assert single.centers.tolist() == [[24.5, 47.5]] and single.template.tolist() == [0]


# --- missing pixels: nan_policy="omit" ---------------------------------------

def _holey(rng, shape, frac=0.08):
    img = CAMERA[200:200 + shape[0], 150:150 + shape[1]].astype(np.float64) / 255
    img = img.copy()
    img[rng.random(shape) < frac] = np.nan
    img[3:12, 4:14] = 0.4          # a flat patch: flat windows score 0 (1 for sqdiff_normed)
    img[-12:, -15:] = np.nan       # an all-missing corner: NaN windows
    return img


def _close(got, want, method, atol):
    assert np.array_equal(np.isnan(got), np.isnan(want))
    scale = 1.0 if method.endswith("normed") else max(1.0, float(np.nanmax(np.abs(want))))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=atol * scale)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("tshape", [(5, 7), (30, 26)])  # direct and FFT cross terms
def test_omit_equals_naive_present_pixels(method, tshape):
    rng = np.random.default_rng(4)
    img = _holey(rng, (60, 64))
    tpl = np.ascontiguousarray(np.nan_to_num(img[20:20 + tshape[0], 25:25 + tshape[1]], nan=0.3))
    got = sigcorr.match_template(img, tpl, method, nan_policy="omit")
    _close(got, naive.omit_scores(img, tpl, method), method, 1e-9)
    # float32 input: float32 FFTs, the same scores to float32 rounding
    got32 = sigcorr.match_template(img.astype(np.float32), tpl.astype(np.float32), method, nan_policy="omit")
    assert got32.dtype == np.float32
    _close(got32.astype(np.float64), naive.omit_scores(img, tpl, method), method, 2e-3)


@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff", "ccorr_normed"])
def test_omit_with_masks_colour_and_nan_templates(method):
    rng = np.random.default_rng(5)
    img = _holey(rng, (40, 44))
    present = rng.random(img.shape) > 0.1
    tpl = np.nan_to_num(img[10:19, 12:22], nan=0.1)
    tmask = (rng.random(tpl.shape) > 0.2).astype(np.float64)
    got = sigcorr.match_template(img, tpl, method, nan_policy="omit", image_mask=present, mask=tmask)
    _close(got, naive.omit_scores(img, tpl, method, present, tmask), method, 1e-9)
    # NaN template pixels are missing template pixels
    tnan = tpl.copy()
    tnan[tmask == 0] = np.nan
    got = sigcorr.match_template(img, tnan, method, nan_policy="omit", image_mask=present)
    _close(got, naive.omit_scores(img, tpl, method, present, tmask), method, 1e-9)
    # colour: sums over the channels, per-channel means
    col = np.dstack([img, np.sqrt(np.abs(img)), 1 - img])
    ctpl = np.dstack([tpl, np.sqrt(np.abs(tpl)), 1 - tpl])
    got = sigcorr.match_template(col, ctpl, method, nan_policy="omit")
    _close(got, naive.omit_scores(col, ctpl, method), method, 1e-9)


def test_omit_min_overlap_and_policies():
    rng = np.random.default_rng(6)
    img = _holey(rng, (50, 50), frac=0.3)
    tpl = np.nan_to_num(img[5:15, 20:30], nan=0.2)
    for frac in (0.0, 0.5, 0.75, 1.0):
        got = sigcorr.match_template(img, tpl, nan_policy="omit", min_overlap=frac)
        _close(got, naive.omit_scores(img, tpl, "ccoeff_normed", min_overlap=frac), "ccoeff_normed", 1e-9)
    # no missing pixel: "omit" equals "propagate"
    clean = CAMERA[:80, :90].astype(np.float64)
    np.testing.assert_allclose(sigcorr.match_template(clean, clean[10:30, 5:25], nan_policy="omit"),
                               sigcorr.match_template(clean, clean[10:30, 5:25]), atol=1e-9)
    # "propagate" with an image_mask: the masked pixels are NaN, as given
    present = np.ones(clean.shape, bool)
    present[40, 50] = False
    holes = clean.copy()
    holes[40, 50] = np.nan
    np.testing.assert_array_equal(sigcorr.match_template(clean, clean[:9, :9], image_mask=present),
                                  sigcorr.match_template(holes, clean[:9, :9]))
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        sigcorr.match_template(clean, clean[:3, :3], nan_policy="raise")
    with pytest.raises(ValueError, match="min_overlap"):
        sigcorr.match_template(clean, clean[:3, :3], nan_policy="omit", min_overlap=1.5)
    with pytest.raises(ValueError, match="image_mask must have the image's shape"):
        sigcorr.match_template(clean, clean[:3, :3], image_mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="binary"):
        sigcorr.match_template(clean, clean[:3, :3], mask=np.full((3, 3), 0.5), nan_policy="omit")


def test_omit_finds_a_crop_through_missing_pixels():
    rng = np.random.default_rng(7)
    img = cv2.resize(CAMERA, (400, 400))
    holes = img.copy()
    holes[rng.random(img.shape) < 0.05] = np.nan
    tpl = img[210:242, 90:122].copy()
    scores = sigcorr.match_template(holes, tpl, nan_policy="omit")
    assert not np.isnan(scores).any()
    assert np.unravel_index(np.nanargmax(scores), scores.shape) == (210, 90)
    assert np.isnan(sigcorr.match_template(holes, tpl)).mean() > 0.5  # "propagate" loses most windows


def test_omit_kernel_equals_its_reference_twin():
    from sigcorr import _twins
    from sigcorr._kernels import windows

    rng = np.random.default_rng(8)
    for dtype in (np.float32, np.float64):
        for method in range(6):
            C, H, W, h, w = 2, 40, 37, 6, 5
            img = rng.standard_normal((C, H + 3, W + 2)).astype(dtype)
            pres = (rng.random((H + 3, W + 2)) > 0.2).astype(dtype)
            img *= pres
            oh, ow = H - h + 1, W - w + 1
            by, bx = 13, 11
            ny, nx = -(-oh // by), -(-ow // bx)
            def blocks(ny=ny, nx=nx, by=by, bx=bx, dtype=dtype):
                return rng.standard_normal((ny, nx, by + 2, bx + 3)).astype(dtype)

            cross, qt = blocks(), np.abs(blocks()) * 30
            st = np.concatenate([blocks(), blocks()])
            args = (img, pres, cross, st, qt, by, bx, h, w, method, 1e-12, 1e-6, 0.5 * h * w)
            a = windows.omit_scores(*args, np.empty((oh, ow), dtype))
            b = _twins.omit_scores(*args, np.empty((oh, ow), dtype))
            np.testing.assert_allclose(a, b, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-4)
            assert np.array_equal(np.isnan(a), np.isnan(b))


# --- scales and angles ---------------------------------------------------------

def test_scale_and_angle_recovered_on_photographs():
    # the criterion (position within 2 px, scale within 5%, angle
    # within one step) on the first cases of benchmarks/bench_match_stack.py's
    # recovery table: textured crops of three photographs, random scale in
    # 0.6-1.8x and angle in 0-360 degrees; one miss in six is allowed
    scales, angles = np.geomspace(0.6, 1.8, 12), np.arange(0, 360, 15.0)
    photos = []
    for name in ("camera", "astronaut", "coffee"):
        p = getattr(data, name)()
        photos.append((p.mean(axis=2) if p.ndim == 3 else p).astype(np.float32))
    rng = np.random.default_rng(15)
    hits = []
    for i in range(6):
        scale, angle = rng.uniform(0.6, 1.8), rng.uniform(0, 360)
        scene, crop, centre = transformed_scene(photos[i % 3], rng, scale, angle)
        m = sigcorr.locate(scene, crop, scales=scales, angles=angles)
        da = (m.angles[0] - angle + 180) % 360 - 180
        hits.append(bool(np.hypot(*(m.centers[0] - centre)) <= 2 and abs(m.scales[0] / scale - 1) <= 0.05
                         and abs(da) <= 15))
    assert sum(hits) >= 5, hits


def test_scales_only_equal_the_opencv_loop():
    img = cv2.resize(CAMERA, (400, 400))
    big = cv2.resize(img[100:180, 200:280], (96, 96))  # the object at 1.2x
    scales = np.linspace(0.5, 2.0, 16)
    m = sigcorr.locate(img, big, scales=scales)
    best = None
    for s in scales:
        t = cv2.resize(big, None, fx=s, fy=s)
        if t.shape[0] > img.shape[0]:
            continue
        _, v, _, loc = cv2.minMaxLoc(cv2.matchTemplate(img, t, cv2.TM_CCOEFF_NORMED))
        if best is None or v > best[0]:
            best = (v, loc[::-1], s)
    assert np.abs(m.positions[0] - best[1]).max() <= 2
    assert np.hypot(*(m.centers[0] - [139.5, 239.5])) <= 2
    assert abs(m.scales[0] / (80 / 96) - 1) <= 0.05 and m.angles[0] == 0
    pyr = sigcorr.locate(img, big, scales=scales, pyramid_levels=1)
    assert np.abs(pyr.centers[0] - m.centers[0]).max() <= 1
    assert abs(pyr.scales[0] / m.scales[0] - 1) <= 0.02


def test_scale_angle_stack_and_errors():
    img = cv2.resize(CAMERA, (300, 300))
    stack = np.stack([img[50:90, 60:100], img[200:240, 150:190]])
    m = sigcorr.locate(img, stack, scales=[0.9, 1.0, 1.1], angles=[-10, 0, 10], max_matches=2)
    assert sorted(zip(m.template.tolist(), np.rint(m.centers).tolist())) == [(0, [70, 80]), (1, [220, 170])]
    np.testing.assert_allclose(m.scales, 1.0, atol=0.02)
    np.testing.assert_allclose((m.angles + 180) % 360 - 180, 0.0, atol=1.0)
    with pytest.raises(ValueError, match="scales must be > 0"):
        sigcorr.locate(img, stack[0], scales=[0, 1])
    with pytest.raises(ValueError, match="angles must be a non-empty"):
        sigcorr.locate(img, stack[0], angles=[])
    with pytest.raises(ValueError, match="2-D"):
        sigcorr.locate(img[0], img[0, :10], scales=[1.0])


@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff", "ccorr_normed"])
def test_templates_of_several_sizes_share_one_tiling(method):
    from sigcorr.match.scores import match_sizes as _match_sizes

    img = CAMERA[:400, :380].copy()
    img[100, 50] = np.nan  # non-finite counts per template size
    tpls = [np.ascontiguousarray(img[200:200 + h, 100:100 + w][None]) for h, w in ((40, 40), (64, 50), (90, 110))]
    got = _match_sizes(img[None], tpls, method, np.dtype(np.float32))
    for g, t in zip(got, tpls):
        want = sigcorr.match_template(img, t[0], method)
        assert np.array_equal(np.isnan(g), np.isnan(want))
        scale = 1.0 if method.endswith("normed") else float(np.nanmax(np.abs(want)))
        np.testing.assert_allclose(g, want, atol=2e-5 * scale)


def test_find_matches_single_best_equals_the_first_of_all():
    rng = np.random.default_rng(11)
    for trial in range(150):
        shape = (1 + trial % 3, rng.integers(1, 10), rng.integers(1, 10))
        s = rng.integers(0, 4, shape).astype(np.float64)  # many ties
        if trial % 4 == 0:
            s[rng.random(shape) < 0.3] = np.nan
        if trial % 7 == 0:
            s[0] = 2.0  # a flat map
        kw = dict(threshold=None if trial % 3 else 2.0, min_distance=1 + trial % 4,
                  maximize=bool(trial % 2), subpixel=trial % 5 == 0)
        arr = s if shape[0] > 1 else s[0]
        one = sigcorr.find_matches(arr, max_matches=1, **kw)
        every = sigcorr.find_matches(arr, **kw)
        assert one.positions.tolist() == every.positions[:1].tolist(), (s, kw)
        assert one.scores.tolist() == every.scores[:1].tolist()
        assert one.template.tolist() == every.template[:1].tolist()
