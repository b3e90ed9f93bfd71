"""convolve / correlate over three or more axes (volumes) against scipy.signal."""

import numpy as np
import pytest
import scipy.signal as ss

import sigcorr
from sigcorr._testing import random_array as _rand

MODES = ["full", "same", "valid"]
METHODS = ["direct", "fft", "auto"]
DTYPES = [np.float32, np.float64, np.complex64, np.complex128, np.int16]

# (in1, in2) shapes: odd, even, kernels larger than the input (swapped in
# 'valid'), length-1 axes, 7-tap rows (two output rows per task)
SHAPES_3D = [((9, 10, 11), (3, 4, 2)), ((5, 6, 7), (7, 8, 9)), ((6, 6, 6), (6, 6, 6)), ((1, 8, 9), (1, 3, 7)),
             ((12, 1, 5), (4, 1, 2)), ((7, 9, 20), (2, 3, 7))]


def _wide(dtype):
    return np.complex128 if np.dtype(dtype).kind == "c" else np.float64


def _check(got, ref, dtype):
    assert got.dtype == sigcorr._validate.result_dtype(np.dtype(dtype))
    assert got.shape == ref.shape
    single = np.dtype(dtype) in (np.float32, np.complex64)
    tol = 2e-4 if single else 1e-9
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * scale)


def _comparable(s1, s2):
    return all(x >= y for x, y in zip(s1, s2)) or all(x <= y for x, y in zip(s1, s2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["convolve", "correlate"])
def test_3d_parity(func, mode, method, dtype, rng):
    ours, ref = getattr(sigcorr, func), getattr(ss, func)
    for s1, s2 in SHAPES_3D:
        if mode == "valid" and not _comparable(s1, s2):
            continue
        a, b = _rand(rng, s1, dtype), _rand(rng, s2, dtype)
        want = ref(a.astype(_wide(dtype)), b.astype(_wide(dtype)), mode=mode, method="direct")
        _check(ours(a, b, mode=mode, method=method), want, dtype)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("mode", MODES)
def test_4d_parity(mode, method, rng):
    a, b = rng.standard_normal((4, 5, 3, 6)), rng.standard_normal((2, 3, 3, 4))
    for func in ("convolve", "correlate"):
        want = getattr(ss, func)(a, b, mode=mode, method="direct")
        np.testing.assert_allclose(getattr(sigcorr, func)(a, b, mode=mode, method=method), want, atol=1e-9)


def test_the_issue_example():
    got = sigcorr.convolve(np.ones((8, 8, 8)), np.ones((3, 3, 3)))
    np.testing.assert_allclose(got, ss.convolve(np.ones((8, 8, 8)), np.ones((3, 3, 3))), atol=1e-9)
    assert got.shape == (10, 10, 10)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("mode", MODES)
def test_axes_subsets_broadcast_as_fftconvolve(mode, method, rng):
    a = rng.standard_normal((3, 7, 2, 8, 9))
    for axes, bshape in [((1, 3, 4), (3, 3, 1, 2, 4)), ((0, 1, 3), (2, 3, 2, 4, 9)), ((-1, -2, -4), (1, 4, 2, 3, 3)),
                         ((0, 1, 2, 3, 4), (2, 3, 1, 2, 2))]:
        b = rng.standard_normal(bshape)
        want = ss.fftconvolve(a, b, mode=mode, axes=axes)
        np.testing.assert_allclose(sigcorr.convolve(a, b, mode=mode, method=method, axes=axes), want, atol=1e-9)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_nan_reaches_only_its_windows(method, rng):
    a = rng.standard_normal((9, 8, 10))
    a[4, 3, 5] = np.nan
    k = rng.standard_normal((3, 2, 4))
    got = sigcorr.correlate(a, k, "same", method=method)
    want = ss.correlate(a, k, "same", method="direct")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert 0 < np.isnan(got).sum() < got.size
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-9)


def test_valid_swaps_as_scipy(rng):
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((6, 7, 8))
    for func in ("convolve", "correlate"):
        np.testing.assert_allclose(getattr(sigcorr, func)(a, b, "valid"), getattr(ss, func)(a, b, "valid"), atol=1e-9)
    with pytest.raises(ValueError, match="For 'valid' mode, one must be at least as large as the other"):
        sigcorr.convolve(np.ones((3, 5, 5)), np.ones((5, 3, 5)), mode="valid")


def test_lags_per_axis(rng):
    a, b = rng.standard_normal((8, 9, 10)), rng.standard_normal((3, 4, 5))
    full = ss.correlate(a, b)
    for lags, win in [(2, [(-2, 2)] * 3), ((1, (0, 3), (-4, -1)), [(-1, 1), (0, 3), (-4, -1)])]:
        want = full[tuple(slice(lo + m - 1, hi + m) for (lo, hi), m in zip(win, b.shape))]
        for method in ("direct", "fft", "auto"):
            np.testing.assert_allclose(sigcorr.correlate(a, b, lags=lags, method=method), want, atol=1e-9)
    with pytest.raises(ValueError, match="one item per axis"):
        sigcorr.correlate(a, b, lags=(1, 2))
    with pytest.raises(ValueError, match="on axis 2"):
        sigcorr.correlate(a, b, lags=(1, 1, (0, 10)))


def test_choose_conv_method_volumes():
    assert sigcorr.choose_conv_method(np.ones((64, 64, 64)), np.ones((3, 3, 3))) == "direct"
    assert sigcorr.choose_conv_method(np.ones((64, 64, 64)), np.ones((15, 15, 15))) == "fft"


def test_inputs_untouched_and_large_batch(rng):
    a = rng.standard_normal((2, 6, 7, 8)).astype(np.float32)
    k = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    a0, k0 = a.copy(), k.copy()
    got = sigcorr.correlate(a, k, "same", method="direct", axes=(1, 2, 3))
    np.testing.assert_allclose(got, ss.correlate(a.astype(float), k.astype(float), "same"), atol=2e-5)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(k, k0)


@pytest.mark.parametrize("mode", MODES)
def test_fft_slabs_bound_memory_and_agree(mode, rng, monkeypatch):
    # a tiny slab budget: the volume is convolved in slabs along its first axis
    import dataclasses

    from sigcorr import _costs, _fft

    calls = []
    inner = _fft._slabs
    monkeypatch.setattr(_fft, "_slabs", lambda *args: calls.append(1) or inner(*args))
    a, k = rng.standard_normal((2, 23, 9, 10)), rng.standard_normal((1, 5, 3, 4))
    with _costs.pinned(dataclasses.replace(_costs.DEFAULTS, fft_nd_slab_bytes=4096)):
        got = sigcorr.convolve(a, k, mode, method="fft", axes=(1, 2, 3))
        got_c = sigcorr.correlate(a + 1j * a[::-1], k, mode, method="fft", axes=(1, 2, 3))
    assert calls
    np.testing.assert_allclose(got, ss.fftconvolve(a, k, mode, axes=(1, 2, 3)), atol=1e-9)
    want_c = np.stack([ss.correlate(x, k[0], mode) for x in a + 1j * a[::-1]])
    np.testing.assert_allclose(got_c, want_c, atol=1e-9)
