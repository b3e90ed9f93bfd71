"""conv1d / conv2d against torch.nn.functional, and the worked examples."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigcorr

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def test_worked_examples(rng):
    # 1x1x28x28 input, five 5x5 filters -> 1x5x24x24; 2x2 max pooling -> 1x5x12x12
    x = rng.standard_normal((1, 1, 28, 28)).astype(np.float32)
    w = rng.standard_normal((5, 1, 5, 5)).astype(np.float32)
    y = sigcorr.conv2d(x, w)
    assert y.shape == (1, 5, 24, 24)
    assert sigcorr.max_pool2d(y, 2).shape == (1, 5, 12, 12)
    # the window [[1,2,3],[0,1,5],[1,0,2]] under [[1,0,1],[0,1,0],[1,0,1]] gives 8, plus the bias
    patch = np.array([[1.0, 2, 3], [0, 1, 5], [1, 0, 2]])[None, None]
    filt = np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]])[None, None]
    assert sigcorr.conv2d(patch, filt).item() == 8.0
    assert sigcorr.conv2d(patch, filt, bias=np.array([0.5])).item() == 8.5


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 2), ci=st.integers(1, 3), co=st.integers(1, 9), h=st.integers(3, 14), w=st.integers(3, 16),
    kh=st.integers(1, 5), kw=st.integers(1, 11), stride=st.sampled_from([1, 2, (1, 2)]),
    dilation=st.sampled_from([1, 2, (2, 1)]), padding=st.sampled_from([0, 1, 2, (1, 2), "valid", "same"]),
    bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
)
def test_conv2d_matches_torch(n, ci, co, h, w, kh, kw, stride, dilation, padding, bias, dtype):
    rng = np.random.default_rng(h * 31 + w)
    x = rng.standard_normal((n, ci, h, w)).astype(dtype)
    wt = rng.standard_normal((co, ci, kh, kw)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    try:
        ref = F.conv2d(_t(x), _t(wt), None if b is None else _t(b), **kwargs).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            sigcorr.conv2d(x, wt, b, **kwargs)
        return
    got = sigcorr.conv2d(x, wt, b, **kwargs)
    assert got.dtype == dtype and got.shape == ref.shape
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("padding", [0, 3, "same", "valid"])
def test_conv1d_matches_torch(padding, rng):
    x = rng.standard_normal((3, 2, 50)).astype(np.float32)
    w = rng.standard_normal((4, 2, 6)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    for dilation in (1, 3):
        ref = F.conv1d(_t(x), _t(w), _t(b), padding=padding, dilation=dilation).numpy()
        np.testing.assert_allclose(sigcorr.conv1d(x, w, b, padding=padding, dilation=dilation), ref, atol=1e-4)
    ref = F.conv1d(_t(x), _t(w), stride=3, padding=2).numpy()
    np.testing.assert_allclose(sigcorr.conv1d(x, w, stride=3, padding=2), ref, atol=1e-4)


def test_filter_bank_size_and_inputs_untouched(rng):
    x = rng.standard_normal((2, 3, 40, 37)).astype(np.float32)
    w = rng.standard_normal((16, 3, 5, 5)).astype(np.float32)
    x0, w0 = x.copy(), w.copy()
    ref = F.conv2d(_t(x), _t(w), padding=2).numpy()
    np.testing.assert_allclose(sigcorr.conv2d(x, w, padding=2), ref, atol=1e-4)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_bad_input():
    x = np.ones((1, 2, 8, 8), np.float32)
    w = np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="input channels"):
        sigcorr.conv2d(x, np.ones((3, 1, 3, 3)))
    with pytest.raises(ValueError, match="bias must have shape"):
        sigcorr.conv2d(x, w, bias=np.ones(2))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        sigcorr.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        sigcorr.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="greater than the padded input"):
        sigcorr.conv2d(x, np.ones((3, 2, 9, 9)))
    with pytest.raises(ValueError, match="not supported for strided"):
        sigcorr.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int"):
        sigcorr.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="x must be 4-D"):
        sigcorr.conv2d(x[0], w)
    with pytest.raises(ValueError, match="weight must be 3-D"):
        sigcorr.conv1d(x[0], w)
    with pytest.raises(TypeError, match="weight must have a numeric dtype"):
        sigcorr.conv2d(x, np.array(["a"]))


@pytest.mark.parametrize("co, k", [(4, 5), (6, 3), (7, 9), (9, (5, 11))])
def test_channel_blocks_and_tap_passes_match_torch(co, k, rng):
    # four-channel blocks plus single leftover channels; 5-, 3- and 1-tap passes
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((2, 3, 23, 37)).astype(np.float32)
    wt = rng.standard_normal((co, 3, kh, kw)).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    for padding in (0, "same", (kh // 2, 1)):
        ref = F.conv2d(_t(x), _t(wt), _t(b), padding=padding).numpy()
        np.testing.assert_allclose(sigcorr.conv2d(x, wt, b, padding=padding), ref, rtol=1e-4, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2), ci=st.integers(1, 3), co=st.integers(1, 6), shape=st.tuples(st.integers(3, 7), st.integers(3, 8),
                                                                                       st.integers(3, 9)),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5)), stride=st.sampled_from([1, 2, (2, 1, 1)]),
    dilation=st.sampled_from([1, 2, (1, 1, 2)]), padding=st.sampled_from([0, 1, (1, 0, 2), "valid", "same"]),
    bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
)
def test_conv3d_matches_torch(n, ci, co, shape, k, stride, dilation, padding, bias, dtype):
    rng = np.random.default_rng(sum(shape) * 31 + k[2])
    x = rng.standard_normal((n, ci) + shape).astype(dtype)
    w = rng.standard_normal((co, ci) + k).astype(dtype)
    b = rng.standard_normal(co).astype(dtype) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    try:
        ref = F.conv3d(_t(x), _t(w), None if b is None else _t(b), **kw).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            sigcorr.conv3d(x, w, b, **kw)
        return
    got = sigcorr.conv3d(x, w, b, **kw)
    assert got.shape == ref.shape and got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


def test_conv3d_shapes_groups_and_bad_input(rng, monkeypatch):
    from sigcorr import layers

    x = rng.standard_normal((2, 3, 9, 6, 7))
    w = rng.standard_normal((4, 3, 3, 3, 3))
    want = F.conv3d(_t(x), _t(w), padding=1).numpy()
    monkeypatch.setattr(layers, "_GATHER_BYTES", 1)  # one output slice per batch of conv2d
    np.testing.assert_allclose(sigcorr.conv3d(x, w, padding=1), want, atol=1e-10)
    # the layer arithmetic: (n + 2p - d(k - 1) - 1) // s + 1
    assert sigcorr.conv3d(np.zeros((1, 1, 16, 16, 16)), np.zeros((2, 1, 3, 3, 3)), stride=2, padding=1,
                          dilation=2).shape == (1, 2, 7, 7, 7)
    with pytest.raises(ValueError, match=r"x must be 5-D \(N, C_in, D, H, W\)"):
        sigcorr.conv3d(np.ones((1, 3, 4, 4)), w)
    with pytest.raises(ValueError, match=r"weight must be 5-D \(C_out, C_in, kD, kH, kW\)"):
        sigcorr.conv3d(x, np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="input channels"):
        sigcorr.conv3d(x, np.ones((4, 2, 3, 3, 3)))
