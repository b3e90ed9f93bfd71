"""match_template's six scores against OpenCV, scikit-image and the float64
truth: photographs, dtypes, masks, colour, 1-D, flat and NaN windows, FFT tilings."""

import numba
import numpy as np
import pytest

import naive
import sigcorr
from sigcorr._testing import photos

cv2 = pytest.importorskip("cv2")
data = pytest.importorskip("skimage.data")
sk_match = pytest.importorskip("skimage.feature").match_template

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]
CV = {m: i for i, m in enumerate(METHODS)}  # cv2.TM_SQDIFF == 0 ... TM_CCOEFF_NORMED == 5


PHOTOS = photos()


def _energy(img, tpl, method):
    """Per window: the quantity the normalized scores divide by."""
    from sigcorr._kernels.windows import window_sums

    h, w = tpl.shape[:2]
    x = img.astype(np.float64)
    if x.ndim == 3:
        q = sum(window_sums(np.ascontiguousarray(x[..., c] ** 2), h, w) for c in range(x.shape[2]))
        s2 = sum(window_sums(np.ascontiguousarray(x[..., c]), h, w) ** 2 for c in range(x.shape[2]))
    else:
        q = window_sums(np.ascontiguousarray(x ** 2), h, w)
        s2 = window_sums(np.ascontiguousarray(x), h, w) ** 2
    return q - s2 / (h * w) if method.startswith("ccoeff") else q


def _check_against_cv(img, tpl, method, mask=None):
    if mask is None:
        ref = cv2.matchTemplate(img, tpl, CV[method])
    else:
        ref = cv2.matchTemplate(img, tpl, CV[method], mask=mask)
        # masked OpenCV does not clamp its normalized scores; sigcorr does
        if method.endswith("normed"):
            ref = np.clip(ref, 0 if method == "sqdiff_normed" else -1, 1)
    got = sigcorr.match_template(img, tpl, method, mask=mask)
    assert got.shape == ref.shape
    if method.endswith("normed"):
        # OpenCV's float32 arithmetic is off on (near-)black or flat windows,
        # where the score is a ratio of two tiny numbers: compare elsewhere
        # (and compare everywhere with the float64 truth, in the callers)
        e = _energy(img, tpl, method)
        ok = e > 1e-2 * np.median(e)
        assert ok.mean() > 0.8
        np.testing.assert_allclose(got[ok], ref[ok], rtol=0, atol=2e-3, err_msg=method)
    else:
        # 1e-4 of the magnitudes OpenCV computes through: its float32 cross
        # term sum I T (ccoeff subtracts a large sum from it; we centre first)
        scale = np.abs(cv2.matchTemplate(img, tpl, cv2.TM_CCORR) if mask is None else ref).max()
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4 * scale, err_msg=method)
    return got


@pytest.mark.parametrize("name", sorted(PHOTOS))
@pytest.mark.parametrize("method", METHODS)
def test_six_scores_equal_opencv_on_photographs(name, method, rng):
    img = PHOTOS[name]
    for th, tw in [(9, 13), (24, 24), (40, 31)]:  # direct and FFT cross terms
        while True:  # a textured template (OpenCV's float32 is poor on flat ones)
            y, x = rng.integers(0, img.shape[0] - th), rng.integers(0, img.shape[1] - tw)
            if img[y:y + th, x:x + tw].std() > 0.25 * img.std():
                break
        tpl = img[y:y + th, x:x + tw] + rng.normal(0, 3, (th, tw)).astype(np.float32)
        got = _check_against_cv(img, tpl, method)
        truth = naive.match_scores(img[None], tpl[None], method, step=5)
        if method.endswith("normed"):
            # close to the float64 truth everywhere, degenerate windows included,
            # and within 1e-4 of it where the window has energy
            e = _energy(img, tpl, method)[::5, ::5]
            ok = e > 1e-3 * np.median(e)
            np.testing.assert_allclose(got[::5, ::5][ok], truth[ok], atol=1e-4)
            np.testing.assert_allclose(got[::5, ::5], truth, atol=1e-2)
            assert got.min() >= (0 if method == "sqdiff_normed" else -1) and got.max() <= 1
        else:
            np.testing.assert_allclose(got[::5, ::5], truth, atol=2e-6 * np.abs(truth).max())


def test_uint8_and_float64_inputs():
    img8 = data.camera()[::2, ::2]
    tpl8 = img8[100:120, 60:90]
    for method in METHODS:
        ref = cv2.matchTemplate(img8, tpl8, CV[method])
        got = sigcorr.match_template(img8, tpl8, method)
        assert got.dtype == np.float32
        if method.endswith("normed"):
            e = _energy(img8, tpl8, method)
            ok = e > 1e-3 * np.median(e)
            np.testing.assert_allclose(got[ok], ref[ok], atol=2e-3)
        else:
            np.testing.assert_allclose(got, ref, atol=1e-4 * np.abs(ref).max())
    got64 = sigcorr.match_template(img8.astype(np.float64), tpl8.astype(np.float64))
    assert got64.dtype == np.float64
    np.testing.assert_allclose(got64, naive.match_scores(img8[None], tpl8[None], "ccoeff_normed"), atol=1e-9)


def test_pad_input_equals_skimage():
    img = PHOTOS["coins"].astype(np.float64)
    for shape in [(15, 20), (16, 16), (7, 30)]:
        tpl = img[50:50 + shape[0], 100:100 + shape[1]]
        got = sigcorr.match_template(img, tpl, pad_input=True)
        assert got.shape == img.shape
        np.testing.assert_allclose(got, sk_match(img, tpl, pad_input=True), atol=1e-9)
    np.testing.assert_allclose(sigcorr.match_template(img, tpl), sk_match(img, tpl), atol=1e-9)


@pytest.mark.parametrize("mode", ["constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
                                  "reflect", "symmetric", "wrap"])
def test_pad_input_modes_equal_skimage(mode, rng):
    # scikit-image's mode= (numpy.pad's), its test's constant_values=image.mean() among them
    img = PHOTOS["coins"][:90, :110].astype(np.float64)
    kw = {"constant_values": float(img.mean())} if mode == "constant" else {}
    for shape in [(15, 20), (16, 16), (1, 7)]:
        r, c = rng.integers(0, 60), rng.integers(0, 80)
        tpl = img[r:r + shape[0], c:c + shape[1]]
        got = sigcorr.match_template(img, tpl, pad_input=True, mode=mode, **kw)
        np.testing.assert_allclose(got, sk_match(img, tpl, pad_input=True, mode=mode, **kw), atol=1e-9)
        # without pad_input the padding is never read
        np.testing.assert_array_equal(sigcorr.match_template(img, tpl, mode=mode, **kw), sigcorr.match_template(img, tpl))


def test_pad_input_modes_on_missing_pixels_and_errors(rng):
    img = rng.random((30, 40))
    tpl = img[5:12, 8:17]
    holes = img.copy()
    holes[0, 0] = np.nan  # a corner pixel: copied into the padding by 'reflect' (missing there too)
    got = sigcorr.match_template(holes, tpl, pad_input=True, mode="symmetric")
    assert np.isnan(got[:4, :5]).all() and np.isfinite(got[10:, 10:]).all()
    omit = sigcorr.match_template(holes, tpl, pad_input=True, mode="symmetric", nan_policy="omit")
    assert np.isfinite(omit[:4, :5]).all()
    # NaN padding is missing: 'omit' scores the border windows over the image's pixels only
    nanpad = sigcorr.match_template(img, tpl, pad_input=True, constant_values=np.nan, nan_policy="omit")
    assert np.isnan(sigcorr.match_template(img, tpl, pad_input=True, constant_values=np.nan)[0, 0])
    np.testing.assert_allclose(nanpad[3:-3, 4:-4], sigcorr.match_template(img, tpl), atol=1e-9)
    with pytest.raises(ValueError, match="mode must be one of"):
        sigcorr.match_template(img, tpl, pad_input=True, mode="empty")
    with pytest.raises(ValueError, match="constant_values is used only with mode='constant'"):
        sigcorr.match_template(img, tpl, pad_input=True, mode="edge", constant_values=3)
    with pytest.raises(TypeError, match="constant_values must be a real number"):
        sigcorr.match_template(img, tpl, pad_input=True, constant_values="1")


@pytest.mark.parametrize("method", METHODS)
def test_1d_equals_opencv_on_one_row(method):
    row = PHOTOS["camera"][200].copy()
    tpl = row[100:140].copy()
    ref = cv2.matchTemplate(row[None, :], tpl[None, :], CV[method])[0]
    got = sigcorr.match_template(row, tpl, method)
    assert got.shape == (row.size - tpl.size + 1,)
    tol = 2e-3 if method.endswith("normed") else 1e-4 * np.abs(ref).max()
    np.testing.assert_allclose(got, ref, atol=tol)


@pytest.mark.parametrize("method", METHODS)
def test_masks_equal_opencv(method, rng):
    img = PHOTOS["camera"][::2, ::2].copy()
    tpl = img[80:110, 120:145].copy()
    weights = rng.uniform(0.2, 1.0, tpl.shape).astype(np.float32)
    binary = (rng.random(tpl.shape) > 0.3).astype(np.float32)
    for mask in (weights, binary):
        _check_against_cv(img, tpl, method, mask=mask)


@pytest.mark.parametrize("method", METHODS)
def test_colour_equals_opencv(method):
    img = data.astronaut()[::2, ::2].astype(np.float32)
    tpl = img[60:80, 100:125].copy()
    _check_against_cv(img, tpl, method)


def test_flat_windows_and_templates_score_zero(rng):
    img = np.zeros((40, 40), np.float32)
    img[:, 20:] = rng.random((40, 20))
    tpl = rng.random((5, 5)).astype(np.float32)
    s = sigcorr.match_template(img, tpl)
    assert np.all(np.isfinite(s))
    assert np.all(s[:, :16] == 0)  # flat (all-zero) windows
    assert np.all(sigcorr.match_template(img, np.ones((5, 5), np.float32)) == 0)  # flat template
    assert np.all(sigcorr.match_template(img, tpl, "sqdiff_normed")[:, :16] == 1)
    assert np.all(sigcorr.match_template(img, tpl, "ccorr_normed")[:, :16] == 0)


def test_nan_reaches_only_its_windows():
    img = PHOTOS["coins"][:80, :80].copy()
    img[40, 40] = np.nan
    tpl = PHOTOS["coins"][10:20, 10:20].copy()
    for method in METHODS:
        s = sigcorr.match_template(img, tpl, method)
        nan = np.isnan(s)
        assert nan[31:41, 31:41].all()
        assert nan.sum() == 100, method


def test_inputs_not_modified():
    img = PHOTOS["coins"][:100, :100].copy()
    tpl = img[10:30, 10:30].copy()
    mask = np.ones_like(tpl)
    before = [a.copy() for a in (img, tpl, mask)]
    sigcorr.match_template(img, tpl, mask=mask)
    sigcorr.match_template(img, tpl, pad_input=True)
    sigcorr.locate(img, tpl, pyramid_levels=1)
    for a, b in zip((img, tpl, mask), before):
        np.testing.assert_array_equal(a, b)


def test_bad_input():
    img = np.ones((20, 20))
    with pytest.raises(ValueError, match="template must not be larger than image"):
        sigcorr.match_template(img, np.ones((21, 5)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        sigcorr.match_template(img, np.ones(5))
    with pytest.raises(ValueError, match="method must be one of"):
        sigcorr.match_template(img, np.ones((3, 3)), "ssd")
    with pytest.raises(ValueError, match="mask must have the template's shape"):
        sigcorr.match_template(img, np.ones((3, 3)), mask=np.ones((3, 4)))
    with pytest.raises(ValueError, match="mask weights must be >= 0"):
        sigcorr.match_template(img, np.ones((3, 3)), mask=-np.ones((3, 3)))
    with pytest.raises(TypeError, match="threshold must be a real number"):
        sigcorr.locate(img, np.eye(3), threshold="high")
    with pytest.raises(TypeError, match="threshold"):
        sigcorr.find_matches(img, threshold=[0.5])
    with pytest.raises(TypeError, match="image must have a numeric dtype"):
        sigcorr.match_template(np.array([["a"]]), np.ones((1, 1)))
    with pytest.raises(TypeError, match="real"):
        sigcorr.match_template(img + 0j, np.ones((3, 3)))
    with pytest.raises(ValueError, match="must not be empty"):
        sigcorr.match_template(np.ones((0, 4)), np.ones((0, 1)))
    with pytest.raises(ValueError, match="channels"):
        sigcorr.match_template(np.ones((10, 10, 3)), np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="min_distance"):
        sigcorr.find_matches(img, min_distance=0)
    with pytest.raises(ValueError, match="pyramid_levels"):
        sigcorr.locate(img, np.eye(3), pyramid_levels=-1)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        sigcorr.find_matches(np.ones((2, 2, 2, 2)))


@pytest.mark.parametrize("tiles", [(64, 64), (96, 160), (128, 1024), (1024, 1024)])
def test_every_fft_tiling_equals_the_direct_cross_term(monkeypatch, tiles, rng):
    from sigcorr import _fft
    from sigcorr.match import scores as smatch

    img = rng.random((301, 283, 3)).astype(np.float32)
    tpl = img[40:61, 100:133].copy()
    ref = sigcorr.match_template(img, tpl, "ccoeff")  # direct: below the cost crossover
    monkeypatch.setattr(smatch, "_cross_plan", lambda *a: None)
    direct = sigcorr.match_template(img, tpl, "ccoeff")
    Ly, Lx = (min(tiles[0], _fft.sfft.next_fast_len(301, True)), min(tiles[1], _fft.sfft.next_fast_len(283, True)))
    plan = (0.0, (Ly, Lx), (-(-(301 - 21 + 1) // (Ly - 20)), -(-(283 - 33 + 1) // (Lx - 32))))
    monkeypatch.setattr(smatch, "_cross_plan", lambda *a: plan)
    for method in ("ccoeff", "ccoeff_normed", "sqdiff"):
        tiled = sigcorr.match_template(img, tpl, method)
        monkeypatch.setattr(smatch, "_cross_plan", lambda *a: None)
        want = sigcorr.match_template(img, tpl, method)
        monkeypatch.setattr(smatch, "_cross_plan", lambda *a: plan)
        np.testing.assert_allclose(tiled, want, atol=2e-5 * max(1.0, float(np.abs(want).max())))
    np.testing.assert_allclose(direct, ref, atol=1e-6 * float(np.abs(ref).max()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_paths_agree_on_near_degenerate_windows(dtype, rng):
    # one degenerate-window rule for every path: a flat region plus noise far
    # below the rounding of the window sums scores as flat (0, 1 for
    # sqdiff_normed) with and without a mask and with nan_policy="omit"
    img = rng.random((60, 70))
    img[5:35, 10:45] = 3.0 + 1e-7 * rng.standard_normal((30, 35))  # flat + noise
    img[40:60, 45:70] = 1e-7 * rng.standard_normal((20, 25))  # near zero + noise
    img = img.astype(dtype)
    tpl = rng.random((8, 9)).astype(dtype)
    flat = (slice(5, 35 - 7), slice(10, 45 - 8))
    zero = (slice(40, 60 - 7), slice(45, 70 - 8))
    tol = 2e-4 if dtype == np.float32 else 1e-8
    for method, region, expect in (("ccoeff_normed", flat, 0.0), ("ccoeff_normed", zero, 0.0),
                                   ("ccorr_normed", zero, 0.0), ("sqdiff_normed", zero, 1.0)):
        plain = sigcorr.match_template(img, tpl, method)
        masked = sigcorr.match_template(img, tpl, method, mask=np.ones_like(tpl))
        omit = sigcorr.match_template(img, tpl, method, nan_policy="omit")
        for got in (plain, masked, omit):
            assert got.dtype == dtype
            assert np.all(got[region] == expect), method
            np.testing.assert_allclose(got, plain, rtol=0, atol=tol, err_msg=method)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normed_score_kernel_equals_its_twin(dtype):
    # the rule at its edges: inside, just past +-1 (rounding: +-1), well past
    # (den is rounding noise: the fallback), den 0
    from sigcorr import _twins
    from sigcorr._kernels import windows

    num = np.array([0.5, -0.5, 1.0, 1.1, -1.1, 1.2, -3.0, 0.0, 1e-30, 0.0], dtype)
    den = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0], dtype)
    want = np.array([0.5, -0.5, 1.0, 1.0, -1.0, 7.0, 7.0, 7.0, 7.0, 0.0], dtype)
    twin = _twins.normed_score(num, den, 7.0, dtype)
    score = windows.normed_score  # a helper (no Python entry point): call it from a kernel

    @numba.njit
    def scores(num, den, fallback):
        out = np.empty_like(num)
        for i in range(num.size):
            out[i] = score(num[i], den[i], fallback)
        return out

    kern = scores(num, den, dtype(7.0))
    assert twin.dtype == dtype
    np.testing.assert_array_equal(twin, want)
    np.testing.assert_array_equal(kern, want)


SCALES = {np.float64: [1e30, 1e-30, 1e150, 1e-150, 1e300, 1e-300], np.float32: [1e19, 1e-19, 1e30, 1e-30]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", METHODS)
def test_scores_are_scale_free(method, dtype, rng):
    # issue 23: float32 scored 0 everywhere from about 1e19, float64 from 1e154 (and 1e-154)
    img = (rng.random((40, 44)) - 0.3).astype(dtype)
    tpl = img[5:15, 8:20].copy()
    ref = sigcorr.match_template(img, tpl, method).astype(np.float64)
    peak = float(np.abs(ref).max())
    fi = np.finfo(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-9
    for s in SCALES[dtype]:
        a, t = img * dtype(s), tpl * dtype(s)
        with np.errstate(over="ignore", under="ignore"):
            got = sigcorr.match_template(a, t, method)
            m = sigcorr.locate(a, t, method=method)
        assert got.dtype == dtype and got.shape == ref.shape
        assert m.positions.tolist() == [[5.0, 8.0]], s
        if method.endswith("_normed"):
            np.testing.assert_allclose(got, ref, rtol=0, atol=tol, err_msg=str(s))
            continue
        # unnormalized: the true scores, scale**2 times those at scale 1, where the dtype holds them,
        # inf beyond its range, zero or subnormal below it
        # (the dtype's limits in the units of scale 1: the squares of s overflow float64)
        r, top, tiny = np.abs(ref), float(fi.max) / s / s, float(fi.tiny) / s / s
        # (rounding noise at scale 1, e.g. sqdiff's ~1e-16 at the match, is 0 at any scale)
        fits, over, below = (r < top / 2) & (r > 1e3 * tiny), (r > 2 * top) & (r > 10 * tol * peak), r <= 1e3 * tiny
        np.testing.assert_allclose(got[fits].astype(np.float64) / s / s, ref[fits], rtol=0, atol=tol * peak,
                                   err_msg=str(s))
        assert np.isinf(got[over]).all(), s
        with np.errstate(over="ignore"):
            noise = 10 * tol * peak * s * s  # rounding at the scale of the largest scores
        if noise < float(fi.max):  # (float32's rounding of a true 0 at 1e30 is beyond its range)
            assert (np.abs(got[below].astype(np.float64)) <= 2e3 * float(fi.tiny) + noise).all(), s
        assert fits.any() or over.any() or below.any()


def test_scale_free_inside_the_safe_range_is_bit_identical(monkeypatch, rng):
    # ordinary data are not touched: the same bits as without the rule, up to the range's edges
    from sigcorr import _validate

    img = rng.random((30, 30))
    tpl = img[4:10, 5:12]
    cases = []
    for dtype in (np.float64, np.float32):
        lo, hi = _validate.SAFE[np.dtype(dtype)]
        cases += [((img * s).astype(dtype), (tpl * s).astype(dtype)) for s in (1.0, hi / 2, lo * 2)]
    with_rule = [[sigcorr.match_template(a, t, m) for m in METHODS] for a, t in cases]
    monkeypatch.setattr(_validate, "scale_free", lambda img, tpls, dtype: (img, tpls, 0, None))
    for (a, t), got in zip(cases, with_rule):
        for m, g in zip(METHODS, got):
            np.testing.assert_array_equal(g, sigcorr.match_template(a, t, m))


def test_unnormalized_thresholds_and_scores_keep_the_datas_units(rng):
    img = rng.random((30, 30))
    tpl = img[4:10, 5:12]
    # thresholds of unnormalized methods keep the data's units
    a, t = img * 1e150, tpl * 1e150
    best = float(sigcorr.match_template(a, t, "ccorr").max())
    assert len(sigcorr.locate(a, t, method="ccorr", threshold=best * 0.999999)) == 1
    assert len(sigcorr.locate(a, t, method="ccorr", threshold=best * 1.000001)) == 0
    assert sigcorr.locate(a, t, method="ccorr").scores[0] == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("pad_input", [False, True])
def test_scores_reuse_the_scale_checks_extrema_bit_identically(monkeypatch, pad_input, rng):
    # the scoring's rounding floor read off the scale check's per-channel
    # extrema equals the one of a pass over the (centred, padded) image
    from sigcorr import _validate

    grey = rng.random((40, 37)) + 3.0  # all positive: the centred extrema are not the raw ones
    colour = np.stack([grey, 1 - grey, grey * -2], axis=-1)
    cases = [(grey, grey[5:12, 6:15]), (colour, colour[5:12, 6:15]),
             (grey.astype(np.float32), grey[5:12, 6:15].astype(np.float32))]
    with_ext = [[sigcorr.match_template(a, t, m, pad_input=pad_input) for m in METHODS] for a, t in cases]
    real = _validate.scale_free
    monkeypatch.setattr(_validate, "scale_free", lambda *a: real(*a)[:3] + (None,))
    for (a, t), got in zip(cases, with_ext):
        for m, g in zip(METHODS, got):
            np.testing.assert_array_equal(g, sigcorr.match_template(a, t, m, pad_input=pad_input))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stats_peak_from_extrema_equals_a_pass(dtype, rng):
    # the rounding floor's peak read off the image's extrema, raw and centred
    from sigcorr import _validate
    from sigcorr.match.scores import stats_peak

    for shift in (0.0, 3.0, -7.5):
        img = ((rng.random((3, 20, 17)) - 0.3) * rng.choice([1e-3, 1.0, 1e4], (3, 1, 1)) + shift).astype(dtype)
        means = img.reshape(3, -1).mean(axis=1, dtype=np.float64)
        centred = img - means.astype(dtype)[:, None, None]
        ext = _validate.extrema(img)
        assert stats_peak(img, ext, None) == float(np.abs(img).max())
        assert stats_peak(centred, ext, means) == float(np.abs(centred).max())
        assert stats_peak(centred, None, None) == float(np.abs(centred).max())
