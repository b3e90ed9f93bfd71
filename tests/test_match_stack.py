"""Template stacks: match_template and locate on (T, h, w[, C])."""

import numpy as np
import pytest

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
def test_stack_equals_per_template_calls(method, size, rng):
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
def test_stack_variants_equal_per_template_calls(kind, rng):
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
        sigcorr.match_template(img, np.ones((0, 3, 3)), stack=True)
    with pytest.raises(ValueError, match="template must not be larger than image"):
        sigcorr.match_template(img, np.ones((2, 21, 3)), stack=True)
    with pytest.raises(ValueError, match="channels"):
        sigcorr.match_template(np.ones((10, 10, 3)), np.ones((2, 3, 3, 2)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        sigcorr.find_matches(np.ones((2, 2, 2, 2)))


def test_locate_stack_finds_every_template(rng):
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


@pytest.mark.parametrize("channels", [3, 4])
def test_a_colour_shaped_template_on_a_grey_image_is_ambiguous(channels, rng):
    # issue 23: an (h, w, 3) template on a grey image was read as h templates of w x 3
    img = rng.random((40, 50))
    colour = rng.random((6, 8, channels))
    for call in (lambda **kw: sigcorr.match_template(img, colour, **kw), lambda **kw: sigcorr.locate(img, colour, **kw)):
        with pytest.raises(ValueError, match=r"ambiguous.*colour template.*stack of 6 templates.*stack=True") as info:
            call()
        assert "grey" in str(info.value)
        # stack=False: one template, of the wrong number of axes for a grey image
        with pytest.raises(ValueError, match="same number of dimensions"):
            call(stack=False)
    # stack=True: 6 templates of 8 x channels, each equal to its own call
    got = sigcorr.match_template(img, colour, stack=True)
    np.testing.assert_array_equal(got, np.stack([sigcorr.match_template(img, t) for t in colour]))
    m = sigcorr.locate(img, colour, stack=True)
    assert len(m) == 1 and 0 <= m.template[0] < 6
    # 1-D images: a (w, 3) template is ambiguous too; the grey reading by converting
    line = rng.random(60)
    with pytest.raises(ValueError, match="1-D image is ambiguous"):
        sigcorr.match_template(line, rng.random((5, channels)))
    assert sigcorr.match_template(line, rng.random((5, channels)), stack=True).shape == (5, 60 - channels + 1)
    grey = colour.mean(axis=-1)
    assert sigcorr.match_template(img, grey).shape == (35, 43)


def test_stack_inference_unchanged_where_unambiguous(rng):
    img = rng.random((40, 50))
    crops = np.stack([img[3:9, 4:9], img[20:26, 30:35]])  # (2, 6, 5): last axis 5, no channels
    for stack in (None, True):
        got = sigcorr.match_template(img, crops, stack=stack)
        assert got.shape == (2, 35, 46)
        np.testing.assert_array_equal(got[1], sigcorr.match_template(img, crops[1]))
        assert sigcorr.locate(img, crops, stack=stack, max_matches=2).template.tolist() in ([0, 1], [1, 0])
    # a colour image's stack (T, h, w, C) is not ambiguous
    col = rng.random((30, 30, 3))
    assert sigcorr.match_template(col, np.stack([col[:4, :5], col[5:9, 2:7]])).shape == (2, 27, 26)
    # a list of templates is a stack whatever their width, also of width 3
    narrow = [img[3:9, 4:7], img[10:16, 20:23]]
    m = sigcorr.locate(img, narrow, max_matches=2)
    assert sorted(m.positions.tolist()) == [[3.0, 4.0], [10.0, 20.0]]
    with pytest.raises(ValueError, match="stack=True template must be a stack"):
        sigcorr.match_template(img, img[:3, :3], stack=True)
    with pytest.raises(TypeError, match="stack must be True or False"):
        sigcorr.match_template(img, crops, stack=1)
    with pytest.raises(ValueError, match="a list of templates is a stack"):
        sigcorr.locate(img, narrow, stack=False)
