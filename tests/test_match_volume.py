"""match_template on volumes (every axis spatial) against scikit-image's 3-D
match_template and the float64 definitions; the channel_axis rules."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
import sigcorr

sk_match = pytest.importorskip("skimage.feature").match_template

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]


def _volume(rng, shape=(26, 24, 28)):
    # smooth structure plus noise, so windows differ and the peak is unique
    x = rng.standard_normal(shape)
    for ax in range(3):
        x = x + np.roll(x, 1, axis=ax)
    return x


@pytest.mark.parametrize("pad_input", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_volume_matches_skimage(dtype, pad_input, rng):
    vol = _volume(rng)
    tpl = vol[5:12, 3:9, 10:18].copy()
    ref = sk_match(vol, tpl, pad_input=pad_input)  # float64 truth
    got = sigcorr.match_template(vol.astype(dtype), tpl.astype(dtype), pad_input=pad_input, channel_axis=None)
    assert got.dtype == dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=2e-3 if dtype == np.float32 else 1e-9)
    assert np.unravel_index(np.argmax(got), got.shape) == ((8, 6, 14) if pad_input else (5, 3, 10))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_equals_the_definition(method, rng):
    vol = _volume(rng, (12, 10, 13)) + 3.0
    vol[1:7, 2:8, 0:6] = 2.5  # flat windows: 0 (1 for sqdiff_normed), never NaN
    tpl = vol[3:8, 1:5, 6:12].copy()
    got = sigcorr.match_template(vol, tpl, method, channel_axis=None)
    want = naive.volume_scores(vol, tpl, method)
    np.testing.assert_allclose(got, want, atol=1e-8 * max(1.0, float(np.abs(want).max())))
    got32 = sigcorr.match_template(vol.astype(np.float32), tpl.astype(np.float32), method, channel_axis=None)
    np.testing.assert_allclose(got32, want, atol=2e-3 * max(1.0, float(np.abs(want).max())))


def test_stack_nan_and_inputs_untouched(rng):
    vol = _volume(rng, (20, 18, 16)).astype(np.float32)
    vol[10, 9, 8] = np.nan
    before = vol.copy()
    tpls = np.stack([np.nan_to_num(vol[2:6, 3:8, 1:6]), np.nan_to_num(vol[9:13, 0:5, 10:15])])
    got = sigcorr.match_template(vol, tpls, channel_axis=None)
    assert got.shape == (2, 17, 14, 12)
    for t in range(2):
        np.testing.assert_allclose(got[t], sigcorr.match_template(vol, tpls[t], channel_axis=None), atol=1e-6,
                                   equal_nan=True)
    # NaN reaches only the windows that hold the voxel
    hit = np.zeros(got.shape[1:], bool)
    hit[7:11, 5:10, 4:9] = True
    np.testing.assert_array_equal(np.isnan(got[0]), hit)
    np.testing.assert_array_equal(vol, before, strict=True)
    # a template with a NaN voxel scores NaN everywhere (nan_policy="propagate")
    bad = tpls[0].copy()
    bad[1, 1, 1] = np.nan
    assert np.isnan(sigcorr.match_template(vol, bad, channel_axis=None)).all()


def test_fft_and_direct_cross_terms_agree(rng):
    vol = _volume(rng, (30, 29, 31))
    small = vol[4:7, 5:8, 6:9].copy()  # 'auto' takes the direct kernel
    big = vol[4:20, 5:21, 6:22].copy()  # ... and the FFT path
    for tpl in (small, big):
        np.testing.assert_allclose(sigcorr.match_template(vol, tpl, channel_axis=None), sk_match(vol, tpl), atol=1e-9)


def test_channel_axis_rules(rng):
    img = rng.random((20, 22, 3))
    tpl = img[4:10, 5:12].copy()
    colour = sigcorr.match_template(img, tpl)  # OpenCV's (H, W, C)
    assert colour.shape == (15, 16)
    np.testing.assert_allclose(sigcorr.match_template(img, tpl, channel_axis=-1), colour, atol=1e-12)
    moved = sigcorr.match_template(np.moveaxis(img, 2, 0), np.moveaxis(tpl, 2, 0), channel_axis=0)
    np.testing.assert_allclose(moved, colour, atol=1e-12)
    # channel_axis=None: every axis spatial
    assert sigcorr.match_template(img, tpl, channel_axis=None).shape == (15, 16, 1)
    # the default: a 3-D template whose last axis is not the image's channels is a volume
    vol = rng.random((30, 30, 30))
    assert sigcorr.match_template(vol, vol[2:7, 3:9, 4:8]).shape == (26, 25, 27)
    with pytest.raises(ValueError, match="channel_axis=5 is out of range"):
        sigcorr.match_template(img, tpl, channel_axis=5)
    with pytest.raises(ValueError, match="image has 3 channels on that axis but template has 2"):
        sigcorr.match_template(img, tpl[..., :2], channel_axis=2)
    with pytest.raises(ValueError, match="names the colour axis of a 3-D"):
        sigcorr.match_template(img[..., 0], tpl[..., 0], channel_axis=1)
    with pytest.raises(TypeError, match="channel_axis"):
        sigcorr.match_template(img, tpl, channel_axis=1.5)


def test_volume_bad_input(rng):
    vol = rng.random((10, 11, 12))
    with pytest.raises(ValueError, match="4-D and higher images are not supported"):
        sigcorr.match_template(np.ones((4, 5, 6, 7)), np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="not be larger than image"):
        sigcorr.match_template(vol, np.ones((11, 2, 2)), channel_axis=None)
    with pytest.raises(ValueError, match="3-D template"):
        sigcorr.match_template(vol, np.ones((2, 2)), channel_axis=None)
    # mask: one template's (d, h, w) weights, a stack's too
    with pytest.raises(ValueError, match=r"^mask must have the template's shape \(2, 3, 4\), got \(2, 3\)"):
        sigcorr.match_template(vol, vol[:2, :3, :4], mask=np.ones((2, 3)), channel_axis=None)
    with pytest.raises(ValueError, match=r"^mask must have the template's shape \(2, 3, 4\), got \(2, 2, 3, 4\)"):
        sigcorr.match_template(vol, np.stack([vol[:2, :3, :4]] * 2), mask=np.ones((2, 2, 3, 4)), channel_axis=None)
    with pytest.raises(ValueError, match=r"^mask weights must be >= 0"):
        sigcorr.match_template(vol, vol[:2, :2, :2], mask=-np.ones((2, 2, 2)), channel_axis=None)
    with pytest.raises(ValueError, match=r"^mask must be finite"):
        sigcorr.match_template(vol, vol[:2, :2, :2], mask=np.full((2, 2, 2), np.nan), channel_axis=None)
    with pytest.raises(ValueError, match="mask must be binary"):
        sigcorr.match_template(vol, vol[:2, :2, :2], mask=np.full((2, 2, 2), 0.5), nan_policy="omit", channel_axis=None)
    # image_mask: the volume's (D, H, W), not a colour image's (H, W)
    with pytest.raises(ValueError, match=r"^image_mask must have the image's shape \(10, 11, 12\), got \(10, 11\)"):
        sigcorr.match_template(vol, vol[:2, :2, :2], image_mask=np.ones((10, 11), bool), channel_axis=None)
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        sigcorr.match_template(vol, vol[:2, :2, :2], nan_policy="raise", channel_axis=None)
    with pytest.raises(ValueError, match="min_overlap"):
        sigcorr.match_template(vol, vol[:2, :2, :2], nan_policy="omit", min_overlap=-0.1, channel_axis=None)
    hidden = np.ma.masked_array(vol, vol > 0.9)
    with pytest.raises(TypeError, match=r"^image is a masked array.*nan_policy='omit'"):
        sigcorr.match_template(hidden, vol[:2, :2, :2], channel_axis=None)
    with pytest.raises(ValueError, match="method must be one of"):
        sigcorr.match_template(vol, vol[:2, :2, :2], "nope", channel_axis=None)


def test_find_matches_volume_peaks_and_suppression():
    s = np.zeros((12, 13, 14))
    s[3, 4, 5] = 1.0
    s[3, 5, 7] = 0.9  # within 2 of the best in every axis: suppressed
    s[9, 10, 2] = 0.8
    s[3, 4, 12] = 0.7  # 5 away along x from the suppressed one, 7 from the best
    m = sigcorr.find_matches(s, min_distance=2, volume=True)
    assert m.positions.tolist() == [[3.0, 4.0, 5.0], [9.0, 10.0, 2.0], [3.0, 4.0, 12.0]]
    assert m.scores.tolist() == [1.0, 0.8, 0.7]
    assert len(sigcorr.find_matches(s, min_distance=2, volume=True, max_matches=2)) == 2
    assert sigcorr.find_matches(s, threshold=0.75, volume=True).scores.tolist() == [1.0, 0.9, 0.8]
    # a stack of volume maps: one suppression across them
    other = 0.95 * np.roll(s, 1, axis=0)  # the same objects, one slice on: suppressed
    other[8, 1, 10] = 0.85  # and one of its own
    m = sigcorr.find_matches(np.stack([s, other]), min_distance=2, volume=True)
    assert m.template.tolist() == [0, 1, 0, 0]
    assert m.positions.tolist() == [[3.0, 4.0, 5.0], [8.0, 1.0, 10.0], [9.0, 10.0, 2.0], [3.0, 4.0, 12.0]]
    # sub-voxel: a parabola per axis
    g = np.exp(-((np.indices((9, 9, 9)) - np.array([4.3, 3.8, 4.0])[:, None, None, None]) ** 2).sum(axis=0) / 4)
    pos = sigcorr.find_matches(g, max_matches=1, subpixel=True, volume=True).positions[0]
    np.testing.assert_allclose(pos, [4.3, 3.8, 4.0], atol=0.1)
    with pytest.raises(ValueError, match="3-D volume map"):
        sigcorr.find_matches(np.ones((4, 4)), volume=True)


def test_locate_in_a_volume(rng):
    vol = _volume(rng, (40, 36, 38)).astype(np.float32)
    a, b = vol[5:13, 6:14, 7:15].copy(), vol[22:30, 20:28, 25:33].copy()
    m = sigcorr.locate(vol, a, channel_axis=None)
    assert m.positions.tolist() == [[5.0, 6.0, 7.0]] and m.centers.tolist() == [[8.5, 9.5, 10.5]]
    m = sigcorr.locate(vol, np.stack([a, b]), max_matches=2, channel_axis=None)
    assert sorted(m.template.tolist()) == [0, 1]
    assert sorted(map(tuple, m.positions.tolist())) == [(5.0, 6.0, 7.0), (22.0, 20.0, 25.0)]
    m = sigcorr.locate(vol, a, method="sqdiff", channel_axis=None)
    assert m.positions.tolist() == [[5.0, 6.0, 7.0]]
    # the default reads a (D, H, W) volume with W > 4 channels' worth as a volume
    assert sigcorr.locate(vol, a).positions.tolist() == [[5.0, 6.0, 7.0]]
    for kw in ({"scales": [1.0]}, {"angles": [0.0, 90.0]}):
        with pytest.raises(ValueError, match=r"^scales and angles are not supported for volumes"):
            sigcorr.locate(vol, a, pyramid_levels=1, channel_axis=None, **kw)
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sigcorr.locate(vol, bad, channel_axis=None)


@pytest.mark.parametrize("mode", ["constant", "reflect", "linear_ramp", "edge", "mean"])
def test_volume_pad_input_modes_equal_skimage(mode):
    # scikit-image's mode= on volumes too (3-D padding, the template's extent)
    from skimage.feature import match_template as sk_match

    rng = np.random.default_rng(25)
    vol = rng.random((18, 16, 17))
    tpl = vol[4:9, 3:7, 5:11].copy()
    kw = {"constant_values": 0.4} if mode == "constant" else {}
    got = sigcorr.match_template(vol, tpl, pad_input=True, channel_axis=None, mode=mode, **kw)
    np.testing.assert_allclose(got, sk_match(vol, tpl, pad_input=True, mode=mode, **kw), atol=1e-9)


# ---------------------------------------------------------------------------
# mask, nan_policy="omit" and image_mask on volumes (issue 25), against the
# float64 definitions (naive.masked_volume_scores, naive.volume_omit_scores)
# ---------------------------------------------------------------------------

VOL = dict(channel_axis=None)


def _weights(rng, shape):
    # fractional weights, a quarter of them 0
    w = rng.uniform(0.1, 1.0, shape)
    w[rng.random(shape) < 0.25] = 0
    return w


def _same(got, want, method, atol):
    """Equal NaN patterns and scores within ``atol`` (of the largest score for the unnormalized methods)."""
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.abs(want[~np.isnan(want)])  # (may be empty: every window missing)
    scale = 1.0 if method.endswith("normed") or not finite.size else max(1.0, float(finite.max()))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0, atol=atol * scale)


def _degenerate(scores, method):
    # the degenerate-window rule's value of a normalized method
    return scores == (1.0 if method == "sqdiff_normed" else 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_masked_volume_equals_the_definition(method, rng):
    vol = _volume(rng, (10, 9, 11)) + 2.0
    vol[0:5, 0:6, 0:5] = 0.0  # windows of zeros: degenerate for every normalized method
    vol[7, 6, 8] = np.nan  # its windows score NaN, whatever their weight there
    tpl = vol[3:6, 2:6, 4:8].copy()  # (3, 4, 4)
    w = _weights(rng, tpl.shape)
    before = vol.copy(), tpl.copy(), w.copy()
    want = naive.masked_volume_scores(vol, tpl, w, method)
    assert np.isnan(want).sum() == 3 * 3 * 3  # (the windows holding it, clipped by the far edges)
    if method.endswith("normed"):
        assert _degenerate(want, method).sum() >= 6
    got = sigcorr.match_template(vol, tpl, method, mask=w, **VOL)
    assert got.dtype == np.float64
    _same(got, want, method, 1e-9)
    got32 = sigcorr.match_template(vol.astype(np.float32), tpl.astype(np.float32), method, mask=w, **VOL)
    assert got32.dtype == np.float32
    _same(got32.astype(np.float64), want, method, 1e-4)
    for a, b in zip((vol, tpl, w), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", METHODS)
def test_omit_volume_equals_the_definition(method, rng):
    vol = _volume(rng, (11, 10, 12)) + 2.0
    vol[rng.random(vol.shape) < 0.12] = np.nan
    vol[:4, :4, :5] = np.nan  # an all-missing corner: NaN windows
    vol[6:, 5:, 7:] = 0.0  # windows of zeros: degenerate
    present = rng.random(vol.shape) > 0.1
    tpl = np.nan_to_num(vol[4:7, 3:7, 2:6], nan=0.3)  # (3, 4, 4)
    tpl[0, 1, 2] = np.nan  # a missing template voxel
    tmask = (rng.random(tpl.shape) > 0.25).astype(np.float64)
    kept = int(((tmask > 0) & np.isfinite(tpl)).sum())
    # min_overlap as whole voxel counts (match_template keeps a window whose
    # count is within 0.5 of a fractional need: issue 22)
    lost = []
    for need in (1, kept // 2, (3 * kept) // 4):
        frac = need / kept
        want = naive.volume_omit_scores(vol, tpl, method, present, tmask, frac)
        got = sigcorr.match_template(vol, tpl, method, nan_policy="omit", image_mask=present, mask=tmask,
                                     min_overlap=frac, **VOL)
        _same(got, want, method, 1e-9)
        lost.append(np.isnan(want).mean())
    assert 0 < lost[0] < lost[1] < lost[2] < 0.9
    # no template mask, no image_mask
    kept = int(np.isfinite(tpl).sum())
    frac = (kept // 2) / kept
    want = naive.volume_omit_scores(vol, tpl, method, min_overlap=frac)
    if method.endswith("normed"):
        assert _degenerate(want, method).sum() >= 4
    _same(sigcorr.match_template(vol, tpl, method, nan_policy="omit", min_overlap=frac, **VOL), want, method, 1e-9)
    got32 = sigcorr.match_template(vol.astype(np.float32), tpl.astype(np.float32), method, nan_policy="omit",
                                   min_overlap=frac, **VOL)
    assert got32.dtype == np.float32
    _same(got32.astype(np.float64), want, method, 2e-4)


@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff"])
def test_omit_volume_on_the_fft_path(method, rng):
    # float32 28^3 with a 14^3 template: the N-D engine's FFT path (cost model), its rounding floors
    vol = _volume(rng, (28, 28, 28))
    vol[rng.random(vol.shape) < 0.1] = np.nan
    tpl = np.nan_to_num(vol[5:19, 8:22, 3:17], nan=0.5)
    got = sigcorr.match_template(vol.astype(np.float32), tpl.astype(np.float32), method, nan_policy="omit", **VOL)
    want = naive.volume_omit_scores(vol, tpl, method)
    _same(got.astype(np.float64), want, method, 2e-4)
    assert np.unravel_index(np.nanargmax(-want if method == "sqdiff" else want), want.shape) == (5, 8, 3)


@pytest.mark.parametrize("method", METHODS)
def test_a_depth_one_volume_scores_as_the_image(method, rng):
    img = _volume(rng, (1, 30, 28))[0] + 1.0
    img[rng.random(img.shape) < 0.01] = np.nan
    img[20:, 20:] = 0.0  # degenerate windows
    img[:7, :6] = np.nan  # an all-missing corner: NaN windows under omit too
    present = rng.random(img.shape) > 0.1
    tpl = np.nan_to_num(img[5:11, 7:14], nan=0.2)
    w = _weights(rng, tpl.shape)
    b = (w > 0).astype(np.float64)

    def both(**kw):
        flat = sigcorr.match_template(img, tpl, method, **kw)
        deep = {k: (v[None] if k in ("mask", "image_mask") else v) for k, v in kw.items()}
        return sigcorr.match_template(img[None], tpl[None], method, channel_axis=None, **deep)[0], flat

    # masked (NaN windows, weights), omit on the 2-D fast kernel's path and on the template-mask path
    for kw in (dict(mask=w), dict(nan_policy="omit"), dict(nan_policy="omit", mask=b, image_mask=present, min_overlap=0.8)):
        got, want = both(**kw)
        assert 0 < np.isnan(want).mean() < 0.9
        _same(got, want, method, 1e-10)


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32 - 1), shape=st.tuples(st.integers(2, 14), st.integers(2, 14)),
       fracs=st.tuples(st.floats(0.05, 1.0), st.floats(0.05, 1.0)), method=st.sampled_from(METHODS),
       missing=st.sampled_from([0.0, 0.1, 0.3]))
def test_depth_one_equals_the_image_for_any_shapes(seed, shape, fracs, method, missing):
    rng = np.random.default_rng(seed)
    img = rng.standard_normal(shape)
    img[rng.random(shape) < missing] = np.nan
    h, w = (max(1, int(round(f * n))) for f, n in zip(fracs, shape))
    tpl = np.nan_to_num(img[:h, -w:], nan=0.1)
    weights = _weights(rng, (h, w))
    for kw in (dict(mask=weights), dict(nan_policy="omit", mask=(weights > 0).astype(float))):
        flat = sigcorr.match_template(img, tpl, method, **kw)
        deep = sigcorr.match_template(img[None], tpl[None], method, mask=kw["mask"][None],
                                      nan_policy=kw.get("nan_policy", "propagate"), **VOL)
        assert deep.shape == (1,) + flat.shape
        _same(deep[0], flat, method, 1e-10)


def test_volume_stacks_and_pad_input_with_mask_and_omit(rng):
    vol = _volume(rng, (12, 11, 13))
    vol[5, 5, 5] = np.nan
    tpls = np.stack([np.nan_to_num(vol[1:4, 2:6, 3:8]), np.nan_to_num(vol[6:9, 0:4, 7:12])])  # (2, 3, 4, 5)
    w = _weights(rng, tpls.shape[1:])
    present = rng.random(vol.shape) > 0.1
    pads = [(n // 2, n - 1 - n // 2) for n in tpls.shape[1:]]
    for opts in (dict(mask=w), dict(mask=(w > 0).astype(float), nan_policy="omit"),
                 dict(nan_policy="omit", image_mask=present, min_overlap=0.3)):
        stacked = sigcorr.match_template(vol, tpls, "ccoeff_normed", **opts, **VOL)
        assert stacked.shape == (2, 10, 8, 9)
        for k in range(2):
            np.testing.assert_array_equal(stacked[k], sigcorr.match_template(vol, tpls[k], **opts, **VOL))
        # pad_input: the valid scores of the zero-padded volume (its padding present)
        padded = sigcorr.match_template(vol, tpls, pad_input=True, **opts, **VOL)
        assert padded.shape == (2,) + vol.shape
        if "image_mask" in opts:
            opts = dict(opts, image_mask=np.pad(present, pads, constant_values=True))
        want = sigcorr.match_template(np.pad(vol, pads), tpls, **opts, **VOL)
        np.testing.assert_allclose(padded, want, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(np.isnan(padded), np.isnan(want))
    # a NaN padding is missing: omit leaves it out
    got = sigcorr.match_template(vol, tpls[0], pad_input=True, constant_values=np.nan, nan_policy="omit", **VOL)
    want = naive.volume_omit_scores(np.pad(vol, pads, constant_values=np.nan), tpls[0], "ccoeff_normed")
    _same(got, want, "ccoeff_normed", 1e-9)


def test_volume_missing_voxel_rules(rng):
    vol = _volume(rng, (12, 11, 13))
    tpl = vol[2:6, 3:6, 4:9].copy()
    # propagate: image_mask's missing voxels are NaN, as given
    present = rng.random(vol.shape) > 0.02
    holes = np.where(present, vol, np.nan)
    np.testing.assert_array_equal(sigcorr.match_template(vol, tpl, image_mask=present, **VOL),
                                  sigcorr.match_template(holes, tpl, **VOL))
    # a NaN template voxel: no part in the scores at weight 0, NaN everywhere at weight > 0
    bad = tpl.copy()
    bad[1, 1, 1] = np.nan
    w = _weights(rng, tpl.shape)
    w[1, 1, 1] = 0
    np.testing.assert_allclose(sigcorr.match_template(vol, bad, "sqdiff", mask=w, **VOL),
                               sigcorr.match_template(vol, tpl, "sqdiff", mask=w, **VOL), rtol=1e-12)
    w[1, 1, 1] = 0.5
    assert np.isnan(sigcorr.match_template(vol, bad, mask=w, **VOL)).all()
    # a mask of ones is the unmasked score (another path: match_volume's running sums)
    for method in METHODS:
        _same(sigcorr.match_template(holes, tpl, method, mask=np.ones(tpl.shape), **VOL),
              sigcorr.match_template(holes, tpl, method, **VOL), method, 1e-9)
    # omit: no missing voxel is propagate; a masked array's masked voxels are NaN ones
    np.testing.assert_allclose(sigcorr.match_template(vol, tpl, nan_policy="omit", **VOL),
                               sigcorr.match_template(vol, tpl, **VOL), rtol=0, atol=1e-10)
    hidden = np.ma.masked_array(vol, ~present)
    np.testing.assert_array_equal(sigcorr.match_template(hidden, tpl, nan_policy="omit", **VOL),
                                  sigcorr.match_template(holes, tpl, nan_policy="omit", **VOL))
    # the scale-free rule: normalized scores of any scale, the others scaled back
    for opts in (dict(mask=w), dict(nan_policy="omit", image_mask=present)):
        base = sigcorr.match_template(vol, tpl, **opts, **VOL)
        for scale in (1e170, 1e-170):  # (sums of squares beyond float64's range unless scaled first)
            np.testing.assert_allclose(sigcorr.match_template(vol * scale, tpl * scale, **opts, **VOL), base, atol=1e-9)
        cc = sigcorr.match_template(vol, tpl, "ccorr", **opts, **VOL)
        tiny = sigcorr.match_template(vol * 1e-150, tpl * 1e-150, "ccorr", **opts, **VOL)
        np.testing.assert_allclose(tiny[np.isfinite(cc)] * 1e300, cc[np.isfinite(cc)], rtol=1e-9)


def _planted(rng, shape, tshape, corners, noise=0.3):
    """A smooth random volume, its (noise-free) crop at the first corner as
    the template, that crop planted again at the other corners, and noise."""
    vol = _volume(rng, shape)
    tpl = vol[tuple(slice(c, c + t) for c, t in zip(corners[0], tshape))].copy()
    for c in corners[1:]:
        vol[tuple(slice(a, a + t) for a, t in zip(c, tshape))] = tpl * 0.9 + 0.5
    return (vol + rng.normal(0, noise, shape)).astype(np.float32), tpl.astype(np.float32)


@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff", "ccorr_normed"])
def test_pyramid_finds_the_exhaustive_matches(method, rng):
    corners = [(5, 30, 9), (31, 4, 27), (28, 33, 2)]
    vol, tpl = _planted(rng, (52, 54, 50), (16, 17, 18), corners)
    full = sigcorr.locate(vol, tpl, method=method, max_matches=3, channel_axis=None)
    for levels in (1, 2):  # (2: the 16-voxel side keeps one level, as in 2-D)
        pyr = sigcorr.locate(vol, tpl, method=method, max_matches=3, pyramid_levels=levels, channel_axis=None)
        assert pyr.positions.tolist() == full.positions.tolist()
        np.testing.assert_allclose(pyr.scores, full.scores, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(pyr.centers, full.centers)
    if method != "ccorr_normed":  # (unnormalized-mean ccorr may rank the planted copies otherwise)
        assert sorted(map(tuple, full.positions.astype(int).tolist())) == sorted(corners)
    # every score the pyramid returns is the exhaustive map's at that place
    scores = sigcorr.match_template(vol, tpl, method, channel_axis=None)
    m = sigcorr.locate(vol, tpl, method=method, max_matches=6, min_distance=4, pyramid_levels=1, channel_axis=None)
    assert len(m) == 6
    np.testing.assert_allclose(m.scores, scores[tuple(m.positions.astype(int).T)], rtol=1e-4,
                               atol=1e-4 * float(np.abs(scores).max()))


def test_pyramid_stack_threshold_and_subpixel(rng):
    corners = [(4, 5, 6), (30, 28, 29)]
    vol, a = _planted(rng, (50, 48, 49), (16, 16, 16), corners, noise=0.2)
    b = vol[20:36, 2:18, 30:46].copy()  # an unplanted crop: found where it was cut
    before = vol.copy()
    for kw in ({}, {"subpixel": True}, {"threshold": 0.5}):
        full = sigcorr.locate(vol, np.stack([a, b]), max_matches=3, channel_axis=None, **kw)
        pyr = sigcorr.locate(vol, np.stack([a, b]), max_matches=3, pyramid_levels=1, channel_axis=None, **kw)
        np.testing.assert_allclose(pyr.positions, full.positions, atol=1e-3 if kw else 0)
        assert pyr.template.tolist() == full.template.tolist()
        np.testing.assert_allclose(pyr.scores, full.scores, rtol=1e-4, atol=1e-4)
    assert sorted(map(tuple, np.rint(pyr.positions).tolist())) == [(4, 5, 6), (20, 2, 30), (30, 28, 29)]
    assert sigcorr.locate(vol, a, threshold=1.01, pyramid_levels=1, channel_axis=None).positions.shape == (0, 3)
    np.testing.assert_array_equal(vol, before, strict=True)


def test_pyramid_levels_clamped_and_checked_as_in_2d(rng):
    vol = _volume(rng, (30, 28, 26))
    tpl = vol[3:13, 4:14, 5:15].copy()  # 10 voxels: pooled once it would be 5, below the 8 a level keeps
    want = sigcorr.locate(vol, tpl, channel_axis=None).positions.tolist()
    assert want == [[3.0, 4.0, 5.0]]
    for levels in (1, 3, 10 ** 12):
        assert sigcorr.locate(vol, tpl, pyramid_levels=levels, channel_axis=None).positions.tolist() == want
    with pytest.raises(ValueError, match="pyramid_levels"):
        sigcorr.locate(vol, tpl, pyramid_levels=-1, channel_axis=None)
    with pytest.raises(TypeError, match="pyramid_levels"):
        sigcorr.locate(vol, tpl, pyramid_levels=1.5, channel_axis=None)
