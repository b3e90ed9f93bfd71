"""Missing pixels: nan_policy="omit", image_mask and min_overlap against the
float64 truth over the present pixels (naive.omit_scores), and the omit
kernel against its twin."""

import numpy as np
import pytest

import naive
import sigcorr

cv2 = pytest.importorskip("cv2")
data = pytest.importorskip("skimage.data")

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]
CAMERA = data.camera().astype(np.float32)
# test_omit_equals_naive_present_pixels draws its holes from this seed, not
# from the rng fixture: with a 5 x 7 template min_overlap=0.5 asks for 17.5
# present pixels, and match_template keeps a window of 17 (it compares the
# count with need - 0.5) where naive.omit_scores gives NaN; other draws put
# such windows in the map and fail the NaN-pattern check (reported, issue 22)
HOLES_SEED = 4


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
    rng = np.random.default_rng(HOLES_SEED)
    img = _holey(rng, (60, 64))
    tpl = np.ascontiguousarray(np.nan_to_num(img[20:20 + tshape[0], 25:25 + tshape[1]], nan=0.3))
    got = sigcorr.match_template(img, tpl, method, nan_policy="omit")
    _close(got, naive.omit_scores(img, tpl, method), method, 1e-9)
    # float32 input: float32 FFTs, the same scores to float32 rounding
    got32 = sigcorr.match_template(img.astype(np.float32), tpl.astype(np.float32), method, nan_policy="omit")
    assert got32.dtype == np.float32
    _close(got32.astype(np.float64), naive.omit_scores(img, tpl, method), method, 2e-3)


@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff", "ccorr_normed"])
def test_omit_with_masks_colour_and_nan_templates(method, rng):
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


def test_omit_min_overlap_and_policies(rng):
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


def test_omit_finds_a_crop_through_missing_pixels(rng):
    img = cv2.resize(CAMERA, (400, 400))
    holes = img.copy()
    holes[rng.random(img.shape) < 0.05] = np.nan
    tpl = img[210:242, 90:122].copy()
    scores = sigcorr.match_template(holes, tpl, nan_policy="omit")
    assert not np.isnan(scores).any()
    assert np.unravel_index(np.nanargmax(scores), scores.shape) == (210, 90)
    assert np.isnan(sigcorr.match_template(holes, tpl)).mean() > 0.5  # "propagate" loses most windows


def test_omit_kernel_equals_its_reference_twin(rng):
    from sigcorr import _twins
    from sigcorr._kernels import windows

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


def test_a_nan_in_image_mask_is_refused_as_in_mask(rng):
    img = rng.random((20, 24))
    for bad in (np.nan, np.inf):
        present = np.ones(img.shape)
        present[3, 4] = bad
        for policy in ("propagate", "omit"):
            with pytest.raises(ValueError, match=r"^image_mask must be finite"):
                sigcorr.match_template(img, img[:5, :5], image_mask=present, nan_policy=policy)
        weights = np.ones((5, 5))
        weights[1, 1] = bad
        with pytest.raises(ValueError, match=r"^mask must be finite"):
            sigcorr.match_template(img, img[:5, :5], mask=weights)
    # a numeric image_mask keeps its meaning: nonzero is present
    present = np.where(rng.random(img.shape) > 0.2, 2.0, 0.0)
    np.testing.assert_array_equal(sigcorr.match_template(img, img[:5, :5], image_mask=present, nan_policy="omit"),
                                  sigcorr.match_template(img, img[:5, :5], image_mask=present > 0, nan_policy="omit"))


@pytest.mark.parametrize("method", METHODS)
def test_a_nan_template_scores_nan_under_propagate(method, rng):
    # issue 23: the normed scores were 0 (sqdiff_normed 1) everywhere, and locate found nothing
    img = rng.random((30, 34))
    tpl = img[5:12, 8:16].copy()
    for bad in (np.nan, np.inf):
        t = tpl.copy()
        t[2, 3] = bad
        got = sigcorr.match_template(img, t, method)
        assert got.shape == (24, 27) and np.isnan(got).all()
        # as a NaN image pixel makes its windows NaN (the image side's rule)
        holes = img.copy()
        holes[10, 12] = bad
        side = sigcorr.match_template(holes, tpl, method)
        assert np.isnan(side[4:11, 5:13]).all() and np.isfinite(side[:4]).all()
        # a stack: only that template's map
        both = sigcorr.match_template(img, np.stack([t, tpl]), method)
        assert np.isnan(both[0]).all()
        np.testing.assert_array_equal(both[1], sigcorr.match_template(img, tpl, method))
        # under a mask, a pixel of weight 0 takes no part; of weight > 0 it does
        w = np.ones(tpl.shape)
        w[2, 3] = 0
        np.testing.assert_allclose(sigcorr.match_template(img, t, method, mask=w),
                                   sigcorr.match_template(img, tpl, method, mask=w), rtol=1e-9, atol=1e-9)
        w[2, 3] = 0.5
        assert np.isnan(sigcorr.match_template(img, t, method, mask=w)).all()
        # locate: a clear error naming the way out, not an empty answer
        for kw in ({}, {"pyramid_levels": 1}, {"scales": [1.0]}):
            with pytest.raises(ValueError, match=r"template has NaN.*nan_policy='omit'"):
                sigcorr.locate(img, t, method=method, **kw)
        with pytest.raises(ValueError, match=r"template has NaN"):
            sigcorr.locate(img, [tpl, t[:5]])
    # "omit" reads them as missing template pixels (unchanged)
    t = tpl.copy()
    t[2, 3] = np.nan
    assert np.isfinite(sigcorr.match_template(img, t, method, nan_policy="omit")).all()


@pytest.mark.parametrize("policy", ["propagate", "omit"])
def test_masked_arrays_are_missing_pixels_with_omit_else_refused(policy, rng):
    img = rng.random((30, 34))
    tpl = img[5:12, 8:16].copy()
    hide = rng.random(img.shape) < 0.05
    thide = np.zeros(tpl.shape, bool)
    thide[1, 2] = thide[4, 6] = True
    mimg, mtpl = np.ma.masked_array(img, hide), np.ma.masked_array(tpl, thide)
    nimg, ntpl = np.where(hide, np.nan, img), np.where(thide, np.nan, tpl)
    if policy == "omit":
        for a, b, ra, rb in ((mimg, tpl, nimg, tpl), (img, mtpl, img, ntpl), (mimg, mtpl, nimg, ntpl)):
            got = sigcorr.match_template(a, b, nan_policy="omit")
            np.testing.assert_array_equal(got, sigcorr.match_template(ra, rb, nan_policy="omit"))
            assert np.isfinite(got).mean() > 0.9
        # float32 data stay float32, and the caller's masked array is not modified
        m32 = np.ma.masked_array(img.astype(np.float32), hide)
        before = m32.data.copy()
        assert sigcorr.match_template(m32, tpl.astype(np.float32), nan_policy="omit").dtype == np.float32
        np.testing.assert_array_equal(m32.data, before)
    else:
        for a, b, name in ((mimg, tpl, "image"), (img, mtpl, "template")):
            with pytest.raises(TypeError, match=rf"^{name} is a masked array.*nan_policy='omit'"):
                sigcorr.match_template(a, b, nan_policy=policy)
            with pytest.raises(TypeError, match=rf"^{name} is a masked array"):
                sigcorr.locate(a, b)
    # nothing masked: the data, under either policy
    np.testing.assert_array_equal(sigcorr.match_template(np.ma.masked_array(img), tpl, nan_policy=policy),
                                  sigcorr.match_template(img, tpl, nan_policy=policy))
