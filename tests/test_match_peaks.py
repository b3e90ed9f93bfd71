"""Peaks: find_matches and the one best-first suppression rule (single maps
and stacks of maps, the best-k and single-best shortcuts, float32 maps, the
pyramid's neighbourhood rule, sub-pixel refinement) and the Matches type."""

import numpy as np
import pytest

import sigcorr

data = pytest.importorskip("skimage.data")

CAMERA = data.camera().astype(np.float32)
# the maps of test_few_peaks_from_3_wide_candidates_equal_the_full_filter, a
# fixed draw: the test checks that the 3-wide candidate path is taken on 2-D
# and on 1-D maps, and on a 1-D map it is only for a small drawn min_distance
# (64 windows of 2d + 1 samples must fit in the map), which other seeds miss
FILTER_SEED = 15


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


def test_several_pasted_copies_found_best_first(rng):
    canvas = rng.normal(100, 20, (300, 400)).astype(np.float32)
    tpl = CAMERA[200:230, 250:290].copy()
    spots = [(20, 30), (150, 300), (240, 100), (90, 180)]
    for k, (y, x) in enumerate(spots):
        canvas[y:y + 30, x:x + 40] = tpl + rng.normal(0, 4 * k + 1, tpl.shape)
    scores = sigcorr.match_template(canvas, tpl)
    m = sigcorr.find_matches(scores, threshold=0.5, min_distance=10)
    assert [tuple(map(int, p)) for p in m.positions] == spots  # less noise = better score
    assert np.all(np.diff(m.scores) <= 0)
    m2 = sigcorr.locate(canvas, tpl, max_matches=10, threshold=0.5)
    assert sorted(map(tuple, m2.positions.astype(int).tolist())) == sorted(spots)


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


def test_find_matches_stack_of_one_equals_the_map(rng):
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


def test_find_matches_single_best_equals_the_first_of_all(rng):
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


def test_one_window_covering_the_map_keeps_its_best_score(rng):
    # the pyramid search asks for max_matches=1 where one suppression window
    # covers the whole map: the same match as the full peak search
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


def test_best_of_a_stack_of_maps_is_the_first_of_all_its_matches(rng):
    # locate on a template stack asks _peaks for the one best match across the
    # maps: the same as the first match of the full search (ties in raster
    # order, then by map; flat maps and non-finite scores are no peaks)
    from sigcorr.match.peaks import stack_peaks as _peaks

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


def test_peaks_best_k_are_the_first_k_of_all(rng):
    # _peaks sorts only the best few peaks when max_matches is small: the
    # result must be the first max_matches of the full, sorted suppression
    from sigcorr.match.peaks import stack_peaks as _peaks

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


def test_few_peaks_from_3_wide_candidates_equal_the_full_filter(monkeypatch):
    # with few matches asked for, _peaks filters 3-wide local maxima and
    # checks only the best of them against their whole window: the result
    # must be the first k of the full-filter result (2-D and 1-D maps, ties,
    # NaN, thresholds, both senses, stacks), and the path must be taken
    from sigcorr.match import peaks as match

    taken = []
    real = match._window_max
    monkeypatch.setattr(match, "_window_max", lambda work, *a: taken.append(a[-1]) or real(work, *a))
    rng = np.random.default_rng(FILTER_SEED)
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


def test_float32_maps_peak_as_their_float64_copies(rng):
    # _peaks works on float32 maps in float32: the same peaks, order and
    # sub-pixel offsets as on the exact float64 copy, and a threshold just
    # above a float32 score (equal to it once rounded to float32) rejects it
    from sigcorr.match.peaks import stack_peaks as _peaks

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


def test_peak_filter_equals_scipys_maximum_filter(rng):
    from scipy.ndimage import maximum_filter

    from sigcorr.match.peaks import max_filter as _max_filter

    for shape in [(1, 241, 241), (3, 40, 57), (1, 1, 300), (2, 5, 5), (1, 64, 1)]:
        work = np.round(rng.standard_normal(shape), 1)  # ties
        work[rng.random(shape) < 0.05] = -np.inf
        rows = shape[1] > 1
        for d in (0, 1, 2, 5, 16, 40):  # windows wider than the maps too
            size = (1, 2 * d + 1 if rows else 1, 2 * d + 1)
            want = maximum_filter(work, size=size, mode="constant", cval=-np.inf)
            np.testing.assert_array_equal(_max_filter(work, d, rows), want)


def test_neighbourhoods_best_equal_the_single_map_rule(rng):
    # the pyramid's best of each candidate neighbourhood at once equals
    # _best_peak on each alone (ties, NaN, flat maps, thresholds, infinities)
    from sigcorr.match.peaks import best_peak as _best_peak, cells_best as _cells_best

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


def test_matches_defaults_keep_old_constructor():
    m = sigcorr.Matches(np.array([[1.0, 2.0]]), np.array([0.5]))
    assert m.centers.tolist() == [[1.0, 2.0]]
    assert m.template.tolist() == [0] and m.scales.tolist() == [1.0] and m.angles.tolist() == [0.0]
    assert list(m) == [((1.0, 2.0), 0.5)]
    single = sigcorr.locate(CAMERA[:100, :100], CAMERA[20:30, 40:56])
    assert single.centers.tolist() == [[24.5, 47.5]] and single.template.tolist() == [0]


# ---------------------------------------------------------------------------
# issue 23: a map's only score is its match; absurd min_distance; NaN thresholds
# ---------------------------------------------------------------------------


def test_a_maps_only_score_is_its_match_but_a_flat_maps_floor_is_not():
    # the rule "a map's minimum is no peak" (peak_local_max's) keeps a map's
    # only finite score: a 1 x 1 map (a template as large as the image)
    for s in (np.array([[0.7]]), np.array([0.7]), np.array([[np.nan, 0.7, np.nan]]),
              np.array([[0.7], [np.nan]])):
        for kw in ({}, {"max_matches": 1}, {"max_matches": 3}, {"min_distance": 5}):
            m = sigcorr.find_matches(s, **kw)
            assert m.scores.tolist() == [0.7], (s, kw)
            assert m.positions.tolist() == [list(np.argwhere(s == 0.7)[0])], (s, kw)
    # a flat map of two or more scores still has no peak (1 x k and k x 1 too)
    for s in (np.ones((1, 2)), np.ones((2, 1)), np.ones(4), np.ones((3, 3))):
        assert len(sigcorr.find_matches(s)) == 0
        assert len(sigcorr.find_matches(s, max_matches=1)) == 0
    # a stack: each map by its own rule
    stack = np.stack([np.ones((1, 1)), np.full((1, 1), np.nan)])
    assert sigcorr.find_matches(stack).template.tolist() == [0]
    assert sigcorr.find_matches(np.array([[1.0, 2.0]]), maximize=False).positions.tolist() == [[0, 0]]


def test_a_nan_threshold_is_refused_everywhere(rng):
    s = rng.random((10, 10))
    for thr in (np.nan, float("nan"), np.float32("nan")):
        with pytest.raises(ValueError, match=r"^threshold must be a number, not NaN"):
            sigcorr.find_matches(s, threshold=thr)
        for kw in ({}, {"pyramid_levels": 1}, {"scales": [1.0]}):
            with pytest.raises(ValueError, match=r"^threshold must be a number, not NaN"):
                sigcorr.locate(s, s[2:5, 3:7], threshold=thr, **kw)
    # infinite thresholds keep their meaning: all, or none
    assert len(sigcorr.find_matches(s, threshold=-np.inf)) == len(sigcorr.find_matches(s))
    assert len(sigcorr.find_matches(s, threshold=np.inf)) == 0


def test_a_min_distance_beyond_the_map_means_one_match(rng):
    # clamped to the map's extent: no window (or allocation) wider than the map
    s = rng.random((10, 10))
    one = sigcorr.find_matches(s, min_distance=9)
    assert len(one) == 1 and one.positions.tolist() == [list(np.unravel_index(np.argmax(s), s.shape))]
    for d in (10, 10**7, 10**9, 2**62):
        for kw in ({}, {"max_matches": 3}, {"subpixel": True}):
            m = sigcorr.find_matches(s, min_distance=d, **kw)
            assert m.positions.round().tolist() == one.positions.tolist(), (d, kw)
            assert m.scores.tolist() == one.scores.tolist()
    line = rng.random(50)
    assert len(sigcorr.find_matches(line, min_distance=10**12)) == 1
    stack = rng.random((3, 6, 8))
    assert len(sigcorr.find_matches(stack, min_distance=10**9)) == 1
    img = rng.random((64, 64))
    for kw in ({}, {"pyramid_levels": 1}, {"scales": [1.0, 1.1]}):
        m = sigcorr.locate(img, img[20:40, 10:30], min_distance=10**9, max_matches=5, **kw)
        assert m.positions.round().tolist() == [[20.0, 10.0]], kw
    with pytest.raises(ValueError, match="min_distance must be >= 1"):
        sigcorr.find_matches(s, min_distance=0)
