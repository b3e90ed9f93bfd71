"""Pooling against torch.nn.functional: shapes, values, NaN and indices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigcorr

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def _same(a, b):
    b = b.numpy()
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True)


def _max_pool_as_torch(ours, theirs, x, kw):
    """``ours`` (a sigcorr max pool) against torch's ``theirs`` on ``x``:
    values (with and without indices) and indices equal, or a ValueError
    where torch refuses the arguments."""
    try:
        ref, ref_idx = theirs(_t(x), return_indices=True, **kw)
    except RuntimeError:
        with pytest.raises(ValueError):
            ours(x, **kw)
        return
    got, idx = ours(x, return_indices=True, **kw)
    _same(got, ref)
    _same(ours(x, **kw), ref)
    np.testing.assert_array_equal(idx, ref_idx.numpy())


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 12), w=st.integers(1, 12), k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2)), ceil=st.booleans(), nan=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_max_pool2d_matches_torch(h, w, k, s, p, d, ceil, nan, dtype):
    rng = np.random.default_rng(h * 100 + w)
    x = rng.standard_normal((2, 3, h, w)).astype(dtype)
    if nan:
        x[0, 1, rng.integers(h), rng.integers(w)] = np.nan
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    _max_pool_as_torch(sigcorr.max_pool2d, F.max_pool2d, x, kw)  # (the values-only paths too)


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 12), w=st.integers(1, 12), k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ceil=st.booleans(), include=st.booleans(),
)
def test_avg_pool2d_matches_torch(h, w, k, s, p, ceil, include):
    x = np.random.default_rng(h + 13 * w).standard_normal((3, h, w))
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include)
    try:
        ref = F.avg_pool2d(_t(x), **kw)
    except RuntimeError:
        with pytest.raises(ValueError):
            sigcorr.avg_pool2d(x, **kw)
        return
    _same(sigcorr.avg_pool2d(x, **kw), ref)


@pytest.mark.parametrize("ceil", [False, True])
def test_1d_pooling(ceil, rng):
    x = rng.standard_normal((4, 2, 23)).astype(np.float32)
    x[1, 1, 7] = np.nan
    for k, s, p, d in [(2, None, 0, 1), (3, 2, 1, 1), (4, 3, 2, 2), (5, 1, 2, 1)]:
        got, idx = sigcorr.max_pool1d(x, k, s, p, dilation=d, ceil_mode=ceil, return_indices=True)
        ref, ridx = F.max_pool1d(_t(x), k, s, p, dilation=d, ceil_mode=ceil, return_indices=True)
        _same(got, ref)
        np.testing.assert_array_equal(idx, ridx.numpy())
        if d == 1:
            for inc in (False, True):
                _same(sigcorr.avg_pool1d(x, k, s, p, ceil_mode=ceil, count_include_pad=inc),
                      F.avg_pool1d(_t(x), k, s, p, ceil_mode=ceil, count_include_pad=inc))


def test_fast_paths_and_batch_shapes(rng):
    x = rng.standard_normal((2, 3, 2, 16, 10)).astype(np.float32)
    x[0, 0, 0, 3, 3] = np.nan
    flat = x.reshape(-1, 16, 10)
    for fn, tf in ((sigcorr.max_pool2d, F.max_pool2d), (sigcorr.avg_pool2d, F.avg_pool2d)):
        got = fn(x, 2)
        assert got.shape == (2, 3, 2, 8, 5)
        _same(got.reshape(-1, 8, 5), tf(_t(flat), 2))
        _same(fn(x[0, 0, 0], 2), tf(_t(x[0, 0, 0][None]), 2)[0])  # a bare (H, W) plane
    odd = rng.standard_normal((1, 7, 9))
    _same(sigcorr.max_pool2d(odd, 2), F.max_pool2d(_t(odd), 2))
    _same(sigcorr.max_pool2d(odd, 3, 2, 1), F.max_pool2d(_t(odd), 3, 2, 1))


def test_integer_input(rng):
    x = rng.integers(-100, 100, (2, 6, 6)).astype(np.int32)
    got = sigcorr.max_pool2d(x, 2)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, F.max_pool2d(_t(x.astype(np.float64)), 2).numpy().astype(np.int32))
    avg = sigcorr.avg_pool2d(x, 2)
    assert avg.dtype == np.float64
    np.testing.assert_allclose(avg, F.avg_pool2d(_t(x.astype(np.float64)), 2).numpy())
    u8 = x.astype(np.uint8)
    assert sigcorr.max_pool1d(u8, 3).dtype == np.uint8


def test_input_not_modified_and_noncontiguous(rng):
    x = rng.standard_normal((3, 20, 20))
    view = x[:, ::2, ::-1]
    before = x.copy()
    _same(sigcorr.max_pool2d(view, 3, 1, 1), F.max_pool2d(_t(view), 3, 1, 1))
    np.testing.assert_array_equal(x, before)


def test_bad_input():
    x = np.ones((1, 8, 8), np.float32)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        sigcorr.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        sigcorr.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        sigcorr.max_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match="padding should be at most half"):
        sigcorr.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="padding should be at most half"):
        sigcorr.avg_pool1d(x, 3, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        sigcorr.max_pool2d(x, 9)
    with pytest.raises(ValueError, match="at least 2 dimension"):
        sigcorr.max_pool2d(np.ones(5), 2)
    with pytest.raises(TypeError, match="kernel_size must be an integer"):
        sigcorr.max_pool2d(x, 2.5)
    with pytest.raises(ValueError, match="kernel_size must be an int or a sequence of 2"):
        sigcorr.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match="x must have a numeric dtype"):
        sigcorr.avg_pool2d(np.array([["a", "b"]]), 1)
    with pytest.raises(ValueError, match="must not be empty"):
        sigcorr.max_pool1d(np.ones((2, 0)), 1)


@pytest.mark.parametrize("shape", [(3, 1, 1), (2, 5, 7), (4, 6, 9)])
def test_2x2_with_ceil_mode_takes_the_partial_last_window(shape, rng):
    # regression: the specialised 2x2 kernels once read past the plane here
    x = rng.standard_normal(shape)
    for f, g in ((sigcorr.avg_pool2d, F.avg_pool2d), (sigcorr.max_pool2d, F.max_pool2d)):
        kw = dict(ceil_mode=True)
        if f is sigcorr.avg_pool2d:
            kw["count_include_pad"] = False
        _same(f(x, 2, **kw), g(_t(x), 2, **kw))


def test_padding_limit_ignores_dilation_as_torch_does():
    x = np.zeros((1, 1, 8, 8))
    with pytest.raises(RuntimeError):
        F.max_pool2d(_t(x), kernel_size=3, padding=2, dilation=2)
    with pytest.raises(ValueError, match="at most half of kernel size"):
        sigcorr.max_pool2d(x, kernel_size=3, padding=2, dilation=2)


def test_window_entirely_in_padding_gets_torchs_index(rng):
    # dilation can make a window hold only padding: value -inf, and torch's
    # index is the first tap at or past 0
    x = rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
    kw = dict(kernel_size=(1, 2), stride=1, padding=(0, 1), dilation=(1, 2))
    ref, ref_idx = F.max_pool2d(_t(x), return_indices=True, **kw)
    got, idx = sigcorr.max_pool2d(x, return_indices=True, **kw)
    _same(got, ref)
    np.testing.assert_array_equal(idx, ref_idx.numpy())


def test_window_rows_entirely_in_padding_give_minus_inf(rng):
    # regression: the values-only kernel read an unset column buffer here
    x = rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
    kw = dict(kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(2, 1))
    _same(sigcorr.max_pool2d(x, **kw), F.max_pool2d(_t(x), **kw))


# --------------------------------------------------------------------------- volumes


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    p=st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)), ceil=st.booleans(), nan=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_max_pool3d_matches_torch(shape, k, s, p, d, ceil, nan, dtype):
    rng = np.random.default_rng(sum(shape) * 7 + k[0])
    x = rng.standard_normal((2, 2) + shape).astype(dtype)
    if nan:
        x[1, 0, rng.integers(shape[0]), rng.integers(shape[1]), rng.integers(shape[2])] = np.nan
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    _max_pool_as_torch(sigcorr.max_pool3d, F.max_pool3d, x, kw)  # (values only: the planes, then the depth)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    p=st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)), ceil=st.booleans(), include=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_avg_pool3d_matches_torch(shape, k, s, p, ceil, include, dtype):
    x = np.random.default_rng(sum(shape) + 5 * k[1]).standard_normal((3,) + shape).astype(dtype)
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include)
    try:
        ref = F.avg_pool3d(_t(x), **kw)
    except RuntimeError:
        with pytest.raises(ValueError):
            sigcorr.avg_pool3d(x, **kw)
        return
    got = sigcorr.avg_pool3d(x, **kw)
    assert got.shape == tuple(ref.shape) and got.dtype == dtype
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_pool3d_batch_axes_integers_and_bad_input(rng):
    x = rng.integers(-9, 9, size=(2, 3, 4, 6, 6, 8)).astype(np.int32)  # two leading batch axes
    x0 = x.copy()
    got = sigcorr.max_pool3d(x, 2)
    assert got.dtype == np.int32 and got.shape == (2, 3, 4, 3, 3, 4)
    ref = F.max_pool3d(_t(x.reshape(6, 4, 6, 6, 8).astype(np.float64)), 2).numpy().reshape(got.shape)
    np.testing.assert_array_equal(got, ref)
    a = sigcorr.avg_pool3d(x, (2, 3, 2), padding=(1, 1, 0))
    assert a.dtype == np.float64
    ref = F.avg_pool3d(_t(x.reshape(6, 4, 6, 6, 8).astype(np.float64)), (2, 3, 2), padding=(1, 1, 0)).numpy()
    np.testing.assert_allclose(a.reshape(ref.shape), ref, atol=1e-12)
    np.testing.assert_array_equal(x, x0)
    with pytest.raises(ValueError, match="at least 3 dimension"):
        sigcorr.max_pool3d(np.ones((4, 4)), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        sigcorr.avg_pool3d(np.ones((4, 4, 4)), (2, 2))
    with pytest.raises(ValueError, match="padding should be at most half"):
        sigcorr.max_pool3d(np.ones((4, 4, 4)), 2, padding=(0, 2, 0))
