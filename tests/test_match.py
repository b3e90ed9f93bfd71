"""match_template / find_matches / locate against OpenCV and scikit-image."""

import numba
import numpy as np
import pytest

import naive
import sigcorr

cv2 = pytest.importorskip("cv2")
data = pytest.importorskip("skimage.data")
rgb2gray = pytest.importorskip("skimage.color").rgb2gray
sk_match = pytest.importorskip("skimage.feature").match_template

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]
CV = {m: i for i, m in enumerate(METHODS)}  # cv2.TM_SQDIFF == 0 ... TM_CCOEFF_NORMED == 5


def _photos():
    astro = (rgb2gray(data.astronaut()) * 255).astype(np.float32)
    return {
        "camera": data.camera().astype(np.float32),
        "coins": data.coins().astype(np.float32),
        "astronaut": astro,
    }


PHOTOS = _photos()


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
def test_six_scores_equal_opencv_on_photographs(name, method):
    img = PHOTOS[name]
    rng = np.random.default_rng(len(name))
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
def test_masks_equal_opencv(method):
    img = PHOTOS["camera"][::2, ::2].copy()
    tpl = img[80:110, 120:145].copy()
    rng = np.random.default_rng(7)
    weights = rng.uniform(0.2, 1.0, tpl.shape).astype(np.float32)
    binary = (rng.random(tpl.shape) > 0.3).astype(np.float32)
    for mask in (weights, binary):
        _check_against_cv(img, tpl, method, mask=mask)


@pytest.mark.parametrize("method", METHODS)
def test_colour_equals_opencv(method):
    img = data.astronaut()[::2, ::2].astype(np.float32)
    tpl = img[60:80, 100:125].copy()
    _check_against_cv(img, tpl, method)


def test_flat_windows_and_templates_score_zero():
    img = np.zeros((40, 40), np.float32)
    img[:, 20:] = np.random.default_rng(0).random((40, 20))
    tpl = np.random.default_rng(1).random((5, 5)).astype(np.float32)
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


def test_crop_found_again_after_noise():
    rng = np.random.default_rng(3)
    for name, img in PHOTOS.items():
        y, x = 123, 201
        tpl = img[y:y + 32, x:x + 48].copy()
        noisy = img + rng.normal(0, 10, img.shape).astype(np.float32)
        for method in ("ccoeff_normed", "ccorr_normed", "sqdiff", "sqdiff_normed"):
            m = sigcorr.locate(noisy, tpl, method=method)
            assert m.positions.tolist() == [[y, x]], (name, method)


def test_several_pasted_copies_found_best_first():
    rng = np.random.default_rng(4)
    canvas = rng.normal(100, 20, (300, 400)).astype(np.float32)
    tpl = PHOTOS["camera"][200:230, 250:290].copy()
    spots = [(20, 30), (150, 300), (240, 100), (90, 180)]
    for k, (y, x) in enumerate(spots):
        canvas[y:y + 30, x:x + 40] = tpl + rng.normal(0, 4 * k + 1, tpl.shape)
    scores = sigcorr.match_template(canvas, tpl)
    m = sigcorr.find_matches(scores, threshold=0.5, min_distance=10)
    assert [tuple(map(int, p)) for p in m.positions] == spots  # less noise = better score
    assert np.all(np.diff(m.scores) <= 0)
    m2 = sigcorr.locate(canvas, tpl, max_matches=10, threshold=0.5)
    assert sorted(map(tuple, m2.positions.astype(int).tolist())) == sorted(spots)


def test_find_matches_details():
    s = np.zeros((30, 30))
    s[5, 5], s[5, 8], s[20, 20], s[20, 21] = 1.0, 0.9, 0.8, 0.7
    m = sigcorr.find_matches(s, min_distance=4)
    assert m.positions.tolist() == [[5, 5], [20, 20]]
    assert len(sigcorr.find_matches(s, min_distance=1, threshold=0.75)) == 3
    assert len(sigcorr.find_matches(s, max_matches=1)) == 1
    low = sigcorr.find_matches(-s, maximize=False, min_distance=4)
    assert low.positions.tolist() == [[5, 5], [20, 20]]
    # sub-pixel: a sampled parabola's vertex is recovered
    yy, xx = np.mgrid[0:20, 0:20]
    p = -((yy - 7.3) ** 2) - 2 * (xx - 11.6) ** 2
    sub = sigcorr.find_matches(p, max_matches=1, subpixel=True).positions[0]
    np.testing.assert_allclose(sub, [7.3, 11.6], atol=1e-9)
    line = sigcorr.find_matches(np.array([0, 1, 3, 1, 0.0]))
    assert line.positions.tolist() == [[2.0]]
    nan = s.copy()
    nan[5, 5] = np.nan
    assert [5, 5] not in sigcorr.find_matches(nan).positions.tolist()


def test_pyramid_finds_the_same_position():
    img = cv2.resize(PHOTOS["camera"], (1024, 1024))
    rng = np.random.default_rng(5)
    for _ in range(4):
        y, x = rng.integers(0, 1024 - 64, 2)
        tpl = img[y:y + 64, x:x + 64].copy()
        full = sigcorr.locate(img, tpl)
        pyr = sigcorr.locate(img, tpl, pyramid_levels=2)
        assert pyr.positions.tolist() == full.positions.tolist() == [[y, x]]
        np.testing.assert_allclose(pyr.scores, full.scores, atol=1e-6)
    for method in ("sqdiff", "ccorr_normed"):
        assert (sigcorr.locate(img, tpl, method=method, pyramid_levels=2).positions.tolist()
                == sigcorr.locate(img, tpl, method=method).positions.tolist())


@pytest.mark.parametrize("method", ["ccoeff_normed", "ccorr_normed", "sqdiff_normed", "ccoeff", "ccorr", "sqdiff"])
def test_pyramid_scores_are_the_full_maps(method):
    # the refinement scores every candidate's neighbourhood in one mosaic:
    # each match it returns carries the full map's score at its position
    img = cv2.resize(PHOTOS["camera"], (512, 384)).astype(np.float64)
    tpl = img[200:232, 300:340].copy()
    full = sigcorr.match_template(img, tpl, method)
    m = sigcorr.locate(img, tpl, method=method, max_matches=5, min_distance=10, pyramid_levels=1)
    assert len(m) == 5
    ys, xs = m.positions.astype(int).T
    np.testing.assert_allclose(m.scores, full[ys, xs], rtol=1e-6, atol=1e-6 * np.abs(full).max())
    if method.endswith("normed") or method == "sqdiff":  # (ccorr and ccoeff favour bright, contrasted windows)
        assert m.positions[0].tolist() == [200, 300]


def test_peak_filter_equals_scipys_maximum_filter():
    from scipy.ndimage import maximum_filter

    from sigcorr.match.peaks import max_filter as _max_filter

    rng = np.random.default_rng(11)
    for shape in [(1, 241, 241), (3, 40, 57), (1, 1, 300), (2, 5, 5), (1, 64, 1)]:
        work = np.round(rng.standard_normal(shape), 1)  # ties
        work[rng.random(shape) < 0.05] = -np.inf
        rows = shape[1] > 1
        for d in (0, 1, 2, 5, 16, 40):  # windows wider than the maps too
            size = (1, 2 * d + 1 if rows else 1, 2 * d + 1)
            want = maximum_filter(work, size=size, mode="constant", cval=-np.inf)
            np.testing.assert_array_equal(_max_filter(work, d, rows), want)


def test_few_peaks_from_3_wide_candidates_equal_the_full_filter(monkeypatch):
    # with few matches asked for, _peaks filters 3-wide local maxima and
    # checks only the best of them against their whole window: the result
    # must be the first k of the full-filter result (2-D and 1-D maps, ties,
    # NaN, thresholds, both senses, stacks), and the path must be taken
    from sigcorr.match import peaks as match

    taken = []
    real = match._window_max
    monkeypatch.setattr(match, "_window_max", lambda work, *a: taken.append(a[-1]) or real(work, *a))
    rng = np.random.default_rng(15)
    for trial in range(24):
        T = 1 if trial % 3 else 2
        H = 1 if trial % 4 == 3 else int(rng.integers(60, 200))
        shape = (T, H, int(rng.integers(150, 400)))
        s3 = rng.standard_normal(shape)
        if trial % 2:  # smooth maps: few peaks, wide plateaus of ties once rounded
            from scipy.ndimage import gaussian_filter
            s3 = gaussian_filter(s3, (0, 0 if H == 1 else 3, 3))
        s3 = np.round(s3, int(rng.integers(1, 3)))
        s3[rng.random(shape) < 0.01] = np.nan
        d = int(rng.integers(1, 12))
        threshold = None if trial % 5 else 0.0
        maximize = bool(trial % 7)
        ts_all, pos_all, sc_all = match.stack_peaks(s3, threshold, None, d, maximize, False)
        for k in (2, 5, 12):
            ts, pos, sc = match.stack_peaks(s3, threshold, k, d, maximize, False)
            np.testing.assert_array_equal(ts, ts_all[:k])
            np.testing.assert_array_equal(pos, pos_all[:k])
            np.testing.assert_array_equal(sc, sc_all[:k])
    assert True in taken and False in taken


def test_float32_maps_peak_as_their_float64_copies():
    # _peaks works on float32 maps in float32: the same peaks, order and
    # sub-pixel offsets as on the exact float64 copy, and a threshold just
    # above a float32 score (equal to it once rounded to float32) rejects it
    from sigcorr.match.peaks import stack_peaks as _peaks

    rng = np.random.default_rng(13)
    for trial in range(30):
        shape = (1 + trial % 2, int(rng.integers(10, 70)), int(rng.integers(10, 70)))
        s32 = np.round(rng.standard_normal(shape), int(rng.integers(1, 4))).astype(np.float32)
        s32[rng.random(shape) < 0.03] = np.nan
        s32[rng.random(shape) < 0.01] = np.inf if trial % 3 else -np.inf
        maximize = bool(trial % 4)
        top = np.nanmax(np.where(np.isfinite(s32), s32, np.nan)) if maximize else \
            np.nanmin(np.where(np.isfinite(s32), s32, np.nan))
        threshold = [None, 0.3, float(top) + (1e-12 if maximize else -1e-12)][trial % 3]
        for k in (None, 1, 3):
            got = _peaks(s32, threshold, k, 1 + trial % 3, maximize, bool(trial % 2))
            want = _peaks(s32.astype(np.float64), threshold, k, 1 + trial % 3, maximize, bool(trial % 2))
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
            if trial % 3 == 2:
                assert float(top) not in got[2].tolist()


def test_neighbourhoods_best_equal_the_single_map_rule():
    # the pyramid's best of each candidate neighbourhood at once equals
    # _best_peak on each alone (ties, NaN, flat maps, thresholds, infinities)
    from sigcorr.match.peaks import best_peak as _best_peak, cells_best as _cells_best

    rng = np.random.default_rng(14)
    for trial in range(20):
        maps = []
        for _ in range(int(rng.integers(1, 9))):
            m = np.round(rng.standard_normal((int(rng.integers(1, 9)), int(rng.integers(1, 9)))), 1)
            m = m.astype(np.float32 if trial % 2 else np.float64)
            kind = rng.integers(0, 6)
            if kind == 0:
                m[...] = 0.5  # flat
            elif kind == 1:
                m[rng.random(m.shape) < 0.3] = np.nan
            elif kind == 2:
                m.flat[int(rng.integers(m.size))] = np.inf
            elif kind == 3:
                m[...] = np.nan
            maps.append(m)
        maximize = bool(trial % 3)
        threshold = [None, 0.2, -0.2][trial % 3]
        got = _cells_best(maps, (8, 8), threshold, maximize)
        for m, g in zip(maps, got):
            w = _best_peak(m[None], threshold, maximize)
            if w is None:
                assert g is None
            else:
                np.testing.assert_array_equal(g, w[1])


def test_peaks_best_k_are_the_first_k_of_all():
    # _peaks sorts only the best few peaks when max_matches is small: the
    # result must be the first max_matches of the full, sorted suppression
    from sigcorr.match.peaks import stack_peaks as _peaks

    rng = np.random.default_rng(12)
    for trial in range(40):
        T = 1 if trial % 2 else 3
        shape = (T, int(rng.integers(20, 90)), int(rng.integers(20, 90)))
        s3 = np.round(rng.standard_normal(shape), int(rng.integers(0, 3)))  # many ties
        s3[rng.random(shape) < 0.02] = np.nan
        d = int(rng.integers(0, 4))
        threshold = None if trial % 3 else 0.5
        maximize = bool(trial % 5)
        ts_all, pos_all, sc_all = _peaks(s3, threshold, None, d, maximize, False)
        for k in (1, 2, 5, 17, 100):
            ts, pos, sc = _peaks(s3, threshold, k, d, maximize, False)
            np.testing.assert_array_equal(ts, ts_all[:k])
            np.testing.assert_array_equal(pos, pos_all[:k])
            np.testing.assert_array_equal(sc, sc_all[:k])
    # a plateau of best scores, every pixel of it a peak, of which the
    # suppression keeps about one in 11 x 11: the best few must grow
    s3 = rng.random((1, 120, 200))
    s3[0, 40:70, 50:80] = 2.0
    ts_all, pos_all, _ = _peaks(s3, None, None, 10, True, False)
    assert len(pos_all) > 40
    for k in (5, 17, 40):
        ts, pos, _ = _peaks(s3, None, k, 10, True, False)
        assert len(pos) == min(k, len(pos_all))
        np.testing.assert_array_equal(pos, pos_all[:k])


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
def test_every_fft_tiling_equals_the_direct_cross_term(monkeypatch, tiles):
    from sigcorr import _fft
    from sigcorr.match import scores as smatch

    rng = np.random.default_rng(7)
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


def test_one_window_covering_the_map_keeps_its_best_score():
    # the pyramid search asks for max_matches=1 where one suppression window
    # covers the whole map: the same match as the full peak search
    rng = np.random.default_rng(3)
    for trial in range(400):
        s = rng.integers(0, 4, (rng.integers(1, 9), rng.integers(1, 9))).astype(np.float64)
        if trial % 5 == 0:
            s[rng.random(s.shape) < 0.2] = np.nan
        if trial % 7 == 0:  # infinities are no scores either
            s[rng.random(s.shape) < 0.15] = rng.choice([-np.inf, np.inf])
        if trial % 11 == 0:
            s = s.astype(np.float32)
        maximize = bool(trial % 2)
        threshold = None if trial % 3 else 2.0
        subpixel = trial % 4 == 0
        kw = dict(threshold=threshold, min_distance=max(s.shape), maximize=maximize, subpixel=subpixel)
        want = sigcorr.find_matches(s, **kw)
        got = sigcorr.find_matches(s, max_matches=1, **kw)
        assert got.positions.tolist() == want.positions.tolist(), (s, threshold, maximize)
        assert got.scores.tolist() == want.scores.tolist()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_paths_agree_on_near_degenerate_windows(dtype):
    # one degenerate-window rule for every path: a flat region plus noise far
    # below the rounding of the window sums scores as flat (0, 1 for
    # sqdiff_normed) with and without a mask and with nan_policy="omit"
    rng = np.random.default_rng(16)
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


def test_best_of_a_stack_of_maps_is_the_first_of_all_its_matches():
    # locate on a template stack asks _peaks for the one best match across the
    # maps: the same as the first match of the full search (ties in raster
    # order, then by map; flat maps and non-finite scores are no peaks)
    from sigcorr.match.peaks import stack_peaks as _peaks

    rng = np.random.default_rng(5)
    for trial in range(300):
        s3 = rng.integers(0, 3, (rng.integers(1, 4), rng.integers(1, 7), rng.integers(1, 7))).astype(np.float64)
        if trial % 4 == 0:
            s3[0] = 1.0  # a flat map
        if trial % 5 == 0:
            s3[rng.random(s3.shape) < 0.2] = np.nan
        if trial % 7 == 0:
            s3[rng.random(s3.shape) < 0.1] = np.inf
        maximize = bool(trial % 2)
        threshold = None if trial % 3 else 1.0
        radius = max(s3.shape[1:])
        want = _peaks(s3, threshold, None, radius, maximize, False)
        got = _peaks(s3, threshold, 1, radius, maximize, False)
        assert got[0].tolist() == want[0][:1].tolist(), (s3, threshold, maximize)
        assert got[1].tolist() == want[1][:1].tolist()
        assert np.asarray(got[2]).tolist() == np.asarray(want[2])[:1].tolist()
