"""convolve / correlate / convolve2d / correlate2d against scipy.signal."""

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import sigcorr
from sigcorr._testing import random_array as _rand

MODES = ["full", "same", "valid"]
METHODS = ["direct", "fft", "auto"]
DTYPES = [np.float32, np.float64, np.complex64, np.complex128, np.int32]


def _tol(dtype):
    single = np.dtype(dtype) in (np.float32, np.complex64)
    return dict(rtol=2e-4, atol=2e-4) if single else dict(rtol=1e-9, atol=1e-9)


def _scale(ref):
    return max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0


def _check(got, ref, dtype):
    expect_dtype = sigcorr._validate.result_dtype(np.dtype(dtype))
    assert got.dtype == expect_dtype
    assert got.shape == ref.shape
    t = _tol(dtype)
    np.testing.assert_allclose(got, ref, rtol=t["rtol"], atol=t["atol"] * _scale(ref))


SHAPES_1D = [(50, 7), (7, 50), (13, 13), (1, 5), (200, 1), (64, 33)]
SHAPES_2D = [((12, 15), (3, 4)), ((5, 6), (7, 9)), ((9, 9), (9, 9)), ((1, 20), (1, 3)), ((20, 17), (5, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["convolve", "correlate"])
def test_1d_and_2d_parity(func, mode, method, dtype, rng):
    ours, ref = getattr(sigcorr, func), getattr(ss, func)
    for n, m in SHAPES_1D:
        a, b = _rand(rng, n, dtype), _rand(rng, m, dtype)
        _check(ours(a, b, mode=mode, method=method), ref(a.astype(_wide(dtype)), b.astype(_wide(dtype)), mode=mode), dtype)
    for s1, s2 in SHAPES_2D:
        if mode == "valid" and not (all(x >= y for x, y in zip(s1, s2)) or all(x <= y for x, y in zip(s1, s2))):
            continue
        a, b = _rand(rng, s1, dtype), _rand(rng, s2, dtype)
        _check(ours(a, b, mode=mode, method=method), ref(a.astype(_wide(dtype)), b.astype(_wide(dtype)), mode=mode), dtype)


def _wide(dtype):
    return np.complex128 if np.dtype(dtype).kind == "c" else np.float64


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_long_signals_use_every_path(method, rng):
    a = rng.standard_normal(60_000)
    for m in (5, 300, 3000):
        b = rng.standard_normal(m)
        for mode in MODES:
            if method == "direct" and m == 3000 and mode != "valid":
                continue
            ref = ss.correlate(a, b, mode=mode, method="fft")
            np.testing.assert_allclose(sigcorr.correlate(a, b, mode=mode, method=method), ref, atol=1e-8 * _scale(ref))
            # kernel longer than the signal (overlap-save with the roles swapped)
            ref = ss.convolve(b, a, mode=mode, method="fft")
            np.testing.assert_allclose(sigcorr.convolve(b, a, mode=mode, method=method), ref, atol=1e-8 * _scale(ref))


def test_float32_stays_within_2e4_of_float64(rng):
    x = rng.standard_normal((300, 300)).astype(np.float32)
    k = rng.standard_normal((7, 7)).astype(np.float32)
    ref = ss.correlate(x.astype(np.float64), k.astype(np.float64), mode="same")
    for method in ("direct", "fft"):
        got = sigcorr.correlate(x, k, mode="same", method=method)
        assert got.dtype == np.float32
        assert np.max(np.abs(got - ref)) <= 2e-4 * np.max(np.abs(ref))


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
def test_boundaries(func, mode, boundary, rng):
    ours, ref = getattr(sigcorr, func), getattr(ss, func)
    cases = [((10, 12), (3, 5)), ((6, 7), (6, 7)), ((8, 9), (2, 2)), ((4, 5), (6, 9)), ((9, 11), (4, 4))]
    for dtype in (np.float64, np.complex128, np.float32):
        for s1, s2 in cases:
            a, b = _rand(rng, s1, dtype), _rand(rng, s2, dtype)
            for fill in (0, 1.5):
                kw = dict(mode=mode, boundary=boundary, fillvalue=fill)
                _check(ours(a, b, **kw), ref(a.astype(_wide(dtype)), b.astype(_wide(dtype)), **kw), dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_batched_axes_match_fftconvolve(mode, method, rng):
    a = rng.standard_normal((3, 20, 4, 18))
    b = rng.standard_normal((1, 5, 4, 3))
    ref = ss.fftconvolve(a, b, mode=mode, axes=(1, 3))
    got = sigcorr.convolve(a, b, mode=mode, method=method, axes=(1, -1))
    np.testing.assert_allclose(got, ref, atol=1e-10)
    a1 = rng.standard_normal((5, 100))
    b1 = rng.standard_normal((5, 9))
    ref = ss.fftconvolve(a1, b1, mode=mode, axes=1)
    np.testing.assert_allclose(sigcorr.convolve(a1, b1, mode=mode, method=method, axes=1), ref, atol=1e-10)
    # the batch broadcasts the other way too: one signal, several kernels;
    # 'same' keeps in1's shape on the batch axis too (scipy's centred kernel)
    got = sigcorr.convolve(a1[:1], b1, mode=mode, method=method, axes=-1)
    ref = np.stack([ss.convolve(a1[0], kern, mode=mode) for kern in b1])
    if mode == "same":
        ref = ref[2:3]
        np.testing.assert_allclose(got, ss.fftconvolve(a1[:1], b1, mode=mode, axes=-1), atol=1e-10)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_odd_layouts_and_inputs_untouched(rng):
    base = rng.standard_normal((40, 30))
    k = rng.standard_normal((5, 4))
    layouts = {
        "noncontig": base[::2, ::3],
        "negstride": base[::-1, ::-1],
        "fortran": np.asfortranarray(base),
        "bigendian": base.astype(">f8"),
    }
    ro = base.copy()
    ro.setflags(write=False)
    layouts["readonly"] = ro
    for name, arr in layouts.items():
        before = arr.copy()
        for method in ("direct", "fft"):
            got = sigcorr.correlate(arr, k, mode="same", method=method)
            np.testing.assert_allclose(got, ss.correlate(np.array(arr), k, mode="same"), atol=1e-10, err_msg=name)
        np.testing.assert_array_equal(arr, before)
    kk = k.copy()
    sigcorr.convolve2d(base, kk, boundary="symm")
    np.testing.assert_array_equal(kk, k)


def test_nan_reaches_only_its_windows():
    x = np.arange(40, dtype=np.float64)
    x[20] = np.nan
    k = np.ones(3)
    for method in ("direct", "fft"):
        out = sigcorr.correlate(x, k, mode="same", method=method)
        assert np.isnan(out[19:22]).all()
        assert np.isfinite(np.delete(out, [19, 20, 21])).all()
        np.testing.assert_allclose(np.delete(out, [19, 20, 21]), np.delete(ss.correlate(np.nan_to_num(x), k, "same"), [19, 20, 21]))


@pytest.mark.parametrize("method", METHODS)
def test_bool_and_int_come_back_in_scipys_dtype(method, rng):
    a = np.array([True, False, True])
    for func in ("convolve", "correlate"):
        got = getattr(sigcorr, func)(a, a, method=method)
        assert got.dtype == bool
        # (scipy's own FFT method turns the rounding noise of a zero into True)
        np.testing.assert_array_equal(got, getattr(ss, func)(a, a, method="direct"))
    x, k = np.arange(5, dtype=np.int16), np.ones(2, np.uint8)
    assert sigcorr.convolve(x, k, method=method).dtype == np.int16
    assert sigcorr.convolve(x, np.ones(2, np.float32), method=method).dtype == np.float32  # numpy's promotion
    assert sigcorr.convolve(np.ones(5, np.float16), np.ones(2, np.float16), method=method).dtype == np.float32
    # exact integers (the FFT path rounds), 8-bit sums wrap around as scipy's do
    big = rng.integers(-2**20, 2**20, 3000)
    np.testing.assert_array_equal(sigcorr.correlate(big, big[:700], method=method), ss.correlate(big, big[:700], method="direct"))
    i8 = np.array([100, 100], np.int8)
    np.testing.assert_array_equal(sigcorr.convolve(i8, np.array([3, 3], np.int8), method=method), [44, 88, 44])
    for fill in (1.5, -2.7, True):  # cast to the integer output type first, as scipy does
        np.testing.assert_array_equal(sigcorr.correlate2d(big[:600].reshape(20, 30), np.ones((3, 4), int), fillvalue=fill),
                                      ss.correlate2d(big[:600].reshape(20, 30), np.ones((3, 4), int), fillvalue=fill))
    got = sigcorr.convolve2d(big[:600].reshape(20, 30), np.arange(12).reshape(3, 4), mode="same", boundary="symm")
    np.testing.assert_array_equal(got, ss.convolve2d(big[:600].reshape(20, 30), np.arange(12).reshape(3, 4), "same", "symm"))


def test_zero_rank_and_empty_as_scipy():
    for func in ("convolve", "correlate"):
        ours, ref = getattr(sigcorr, func), getattr(ss, func)
        assert ours(1289, 4567) == ref(1289, 4567)
        got = ours(np.complex64(2j), np.complex64(3 + 1j))
        assert got == ref(np.complex64(2j), np.complex64(3 + 1j)) and got.dtype == np.complex64
        for a, b in (([], []), ([5, 6], []), ([], [7.0]), (np.ones((0, 3)), np.ones((2, 2)))):
            out = ours(np.asarray(a), np.asarray(b))
            assert out.shape == (0,) and out.dtype == np.result_type(np.asarray(a), np.asarray(b))
            np.testing.assert_array_equal(out, ss.fftconvolve(np.asarray(a), np.asarray(b)))
        assert sigcorr.choose_conv_method(np.float64(1), np.float64(2)) == ss.choose_conv_method(np.float64(1), 2.0)
        assert sigcorr.choose_conv_method(np.ones((0, 3)), np.ones((2, 2))) == "direct"
    for func in ("convolve2d", "correlate2d"):
        for mode in MODES:
            for a, b in ((np.ones((0, 3)), np.ones((2, 2))), (np.ones((2, 2)), np.zeros((0, 3))),
                         (np.ones((3, 4)), np.zeros((2, 0)))):
                if mode == "valid" and (a.shape[0] < b.shape[0]) != (a.shape[1] < b.shape[1]):
                    with pytest.raises(ValueError, match="at least as large"):
                        getattr(sigcorr, func)(a, b, mode)
                    continue
                want = getattr(ss, func)(a, b, mode, fillvalue=2)
                np.testing.assert_array_equal(getattr(sigcorr, func)(a, b, mode, fillvalue=2), want)
        with pytest.raises(ValueError, match="cannot extend an empty in1"):
            getattr(sigcorr, func)(np.ones((0, 3)), np.ones((2, 2)), boundary="wrap")


def test_correlation_lags_match_scipy():
    for n1, n2, mode in itertools.product([1, 4, 5, 10], [1, 3, 4, 12], MODES):
        np.testing.assert_array_equal(sigcorr.correlation_lags(n1, n2, mode), ss.correlation_lags(n1, n2, mode))


def test_choose_conv_method():
    # only what holds on any machine: the prices are this machine's (after
    # sigcorr calibrate) or the defaults, and the cores vary
    from sigcorr import _costs

    choose = sigcorr.choose_conv_method
    for n in (10, 1000, 100_000):  # one or two taps: direct, by far
        assert choose(np.ones(n), np.ones(2)) == "direct"
        assert choose(np.ones(2), np.ones(n)) == "direct"
    assert choose(np.ones((300, 300)), np.ones((2, 2))) == "direct"
    assert choose(np.ones(20_000), np.ones(20_000)) == "fft"  # both long: fft, by far
    assert choose(np.ones((300, 300)), np.ones((300, 300)), "same") == "fft"
    with _costs.pinned():
        # the defaults' answers where the two estimates differ tenfold or more
        # (both scale as 1 / cores)
        assert choose(np.ones(100_000), np.ones(8)) == "direct"
        assert choose(np.ones((512, 512)), np.ones((64, 64))) == "fft"
        # monotonic: once the FFT wins, a longer kernel keeps it
        order = ["direct", "fft"].index
        for dtype in (np.float32, np.float64, np.complex128):
            picks = [choose(np.ones((256, 256), dtype), np.ones((k, k), dtype), "same") for k in range(1, 64, 2)]
            assert picks == sorted(picks, key=order) and picks[0] == "direct" and picks[-1] == "fft", picks
            picks = [choose(np.ones(100_000, dtype), np.ones(m, dtype)) for m in 2 ** np.arange(13)]
            assert picks == sorted(picks, key=order) and picks[0] == "direct" and picks[-1] == "fft", picks
    # the choice follows the prices
    cheap_direct = dataclasses.replace(_costs.DEFAULTS, direct_ns={4: 1e-6, 8: 1e-6})
    with _costs.pinned(cheap_direct):
        assert choose(np.ones((300, 300)), np.ones((300, 300)), "same") == "direct"
    costly_direct = dataclasses.replace(_costs.DEFAULTS, direct_ns={4: 1e3, 8: 1e3})
    with _costs.pinned(costly_direct):
        assert choose(np.ones(100_000), np.ones(8)) == "fft"


def test_seven_tap_rows_two_output_rows_per_task(rng):
    # 7-column kernels take a path that computes two output rows per task:
    # odd and even row counts, kernels taller than the image, every mode,
    # float32 and a batch of planes, against scipy
    for H in (1, 2, 3, 8, 13):
        for W in (7, 21):
            for h in (1, 2, 7, 9):
                a = rng.standard_normal((H, W))
                k = rng.standard_normal((h, 7))
                for mode in MODES:
                    if mode == "valid" and H < h:
                        continue
                    ref = ss.correlate(a, k, mode=mode)
                    got = sigcorr.correlate(a, k, mode=mode, method="direct")
                    np.testing.assert_allclose(got, ref, atol=1e-10, err_msg=f"{H}x{W} {h}x7 {mode}")
    x = rng.standard_normal((3, 11, 30)).astype(np.float32)
    k = rng.standard_normal((7, 7)).astype(np.float32)
    got = sigcorr.correlate(x, k[None], mode="same", method="direct", axes=(1, 2))
    ref = ss.correlate(x.astype(np.float64), k[None].astype(np.float64), mode="same")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=2e-4 * np.abs(ref).max())


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40), m=st.integers(1, 40), h=st.integers(1, 6), w=st.integers(1, 6),
    mode=st.sampled_from(MODES), method=st.sampled_from(METHODS), two_d=st.booleans(),
    flip=st.booleans(),
)
def test_shape_space(n, m, h, w, mode, method, two_d, flip):
    rng = np.random.default_rng(n * 1000 + m)
    s1, s2 = ((n, m), (h, w)) if two_d else ((n,), (m,))
    if flip:
        s1, s2 = s2, s1
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    if mode == "valid" and not (all(x >= y for x, y in zip(s1, s2)) or all(x <= y for x, y in zip(s1, s2))):
        with pytest.raises(ValueError, match="at least as large"):
            sigcorr.correlate(a, b, mode=mode, method=method)
        return
    np.testing.assert_allclose(sigcorr.correlate(a, b, mode=mode, method=method), ss.correlate(a, b, mode=mode), atol=1e-9)
    np.testing.assert_allclose(sigcorr.convolve(a, b, mode=mode, method=method), ss.convolve(a, b, mode=mode), atol=1e-9)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("func", [sigcorr.convolve, sigcorr.correlate])
def test_bad_input(func):
    one = np.ones(5)
    with pytest.raises(ValueError, match="when provided, axes cannot be empty"):
        func(np.ones((2, 3, 4)), np.ones((1, 1, 2)), axes=())
    with pytest.raises(ValueError, match="same dimensionality"):
        func(np.ones((3, 3)), one)
    with pytest.raises(ValueError, match="Acceptable mode flags are 'valid', 'same', or 'full'."):
        func(one, one, mode="middle")
    with pytest.raises(ValueError, match="Acceptable method flags are 'auto', 'direct', or 'fft'."):
        func(one, one, method="winograd")
    with pytest.raises(TypeError, match="in1 must have a numeric dtype"):
        func(np.array([object(), object()]), one)
    with pytest.raises(TypeError, match="in2 must have a numeric dtype"):
        func(one, np.array(["a", "b"]))
    with pytest.raises(TypeError, match="in1"):
        func("abc", one)
    with pytest.raises(ValueError, match="For 'valid' mode, one must be at least as large as the other in every dimension"):
        func(np.ones((3, 5)), np.ones((5, 3)), mode="valid")
    with pytest.raises(ValueError, match="axes exceeds dimensionality of input: axis 3 is out of bounds"):
        func(one, one, axes=3)
    with pytest.raises(ValueError, match="axes must be a scalar or iterable of integers"):
        func(one, one, axes=[0.0])
    with pytest.raises(ValueError, match="all axes must be unique"):
        func(one, one, axes=[0, -1])
    with pytest.raises(ValueError, match="^acceptable mode flags are 'valid', 'same', or 'full'$"):
        func(one, one, mode="middle", method="fft")  # fftconvolve's words, as scipy's convolve(method='fft')
    with pytest.raises(ValueError, match="incompatible shapes"):
        func(np.ones((3, 5)), np.ones((2, 5)), axes=1)


@pytest.mark.parametrize("func", [sigcorr.convolve2d, sigcorr.correlate2d])
def test_bad_input_2d(func):
    a = np.ones((4, 4))
    with pytest.raises(ValueError, match="2-D"):
        func(np.ones(4), a)
    with pytest.raises(ValueError, match="Acceptable boundary flags"):
        func(a, a, boundary="reflect")
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        func(a, a, mode="x")
    with pytest.raises(ValueError, match="`fillvalue` must be scalar"):
        func(a, a, fillvalue=[1, 2])
    with pytest.raises(ValueError, match="at least as large"):
        func(np.ones((3, 5)), np.ones((5, 3)), mode="valid")
    with pytest.raises(ValueError, match="`fillvalue` cannot be an empty array"):
        func(a, a, fillvalue=[])
    with pytest.raises(ValueError, match="could not cast `fillvalue` directly to the output type"):
        func(a, a, fillvalue=1j)


def test_bad_lags():
    with pytest.raises(ValueError, match="in1_len"):
        sigcorr.correlation_lags(0, 3)
    with pytest.raises(TypeError, match="in2_len"):
        sigcorr.correlation_lags(3, 2.5)
    with pytest.raises(ValueError, match="Mode x is invalid"):
        sigcorr.correlation_lags(3, 2, "x")


# ---------------------------------------------------------------------------
# lags=: a window of the 'full' output
# ---------------------------------------------------------------------------

LAG_CASES_1D = [(50, 7, 3), (7, 50, (-49, -40)), (13, 13, 12), (300, 200, (-5, 17)), (40_000, 30_000, 25),
                (30_000, 40_000, (-39_999, -39_990)), (20_000, 20_000, (19_990, 19_999)), (1, 1, 0)]


def _full_slice(ref, lags, n2):
    lo, hi = (-lags, lags) if isinstance(lags, int) else lags
    return ref[..., lo + n2 - 1:hi + n2], np.arange(lo, hi + 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("func", ["convolve", "correlate"])
def test_lags_1d_equal_full_sliced(func, method, dtype, rng):
    for n, m, lags in LAG_CASES_1D:
        a, b = _rand(rng, n, dtype), _rand(rng, m, dtype)
        ref = getattr(ss, func)(a.astype(_wide(dtype)), b.astype(_wide(dtype)))
        want, lagvals = _full_slice(ref, lags, m)
        got = getattr(sigcorr, func)(a, b, method=method, lags=lags)
        _check(got, want, dtype)
        np.testing.assert_array_equal(sigcorr.correlation_lags(n, m, lags=lags), lagvals)
        np.testing.assert_array_equal(ss.correlation_lags(n, m)[lagvals + m - 1], lagvals)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_lags_batch_axes(method, dtype, rng):
    a = _rand(rng, (3, 1, 20_000), dtype)
    b = _rand(rng, (1, 4, 17_000), dtype)
    got = sigcorr.correlate(a, b, axes=-1, method=method, lags=(-30, 12))
    ref = ss.fftconvolve(a.astype(_wide(dtype)), np.conj(b[..., ::-1]).astype(_wide(dtype)), axes=-1)
    _check(got, ref[..., -30 + 17_000 - 1:12 + 17_000], dtype)
    # a batch axis first, the time axis in the middle
    a2 = _rand(rng, (5, 3000, 2), dtype)
    b2 = _rand(rng, (5, 100, 2), dtype)
    got = sigcorr.correlate(a2, b2, axes=1, method=method, lags=40)
    ref = np.stack([np.stack([ss.correlate(a2[i, :, j].astype(_wide(dtype)), b2[i, :, j].astype(_wide(dtype)))
                              for j in range(2)], -1) for i in range(5)])
    _check(got, ref[:, 99 - 40:99 + 41], dtype)


@pytest.mark.parametrize("func", ["convolve2d", "correlate2d", "convolve", "correlate"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_lags_2d(func, dtype, rng):
    ref_f = getattr(ss, func)
    for s1, s2, lags in [((30, 40), (5, 7), 2), ((30, 40), (5, 7), ((-4, 3), (-4, 3))), ((8, 9), (12, 5), ((-11, 7), (0, 8))),
                         ((64, 64), (64, 64), ((-63, 63), (-63, 63)))]:
        a, b = _rand(rng, s1, dtype), _rand(rng, s2, dtype)
        got = getattr(sigcorr, func)(a, b, lags=lags)
        ref = ref_f(a.astype(_wide(dtype)), b.astype(_wide(dtype)))
        wins = sigcorr._validate.check_lags(lags, s1, s2, "full")
        want = ref[tuple(slice(lo + m - 1, hi + m) for (lo, hi), m in zip(wins, s2))]
        _check(got, want, dtype)


@pytest.mark.parametrize("boundary", ["wrap", "symm", "fill"])
def test_lags_2d_boundaries(boundary, rng):
    a, b = rng.standard_normal((15, 20)), rng.standard_normal((4, 5))
    for func in ("convolve2d", "correlate2d"):
        got = getattr(sigcorr, func)(a, b, boundary=boundary, fillvalue=1.5, lags=((-2, 3), 4))
        ref = getattr(ss, func)(a, b, boundary=boundary, fillvalue=1.5)
        np.testing.assert_allclose(got, ref[-2 + 3:3 + 4, -4 + 4:4 + 5], rtol=1e-10, atol=1e-10)


def test_lags_nan_reaches_only_its_lags(rng):
    x = rng.standard_normal(50_000)
    y = rng.standard_normal(40_000)
    x[:100] = np.nan  # only lags whose window reaches x[:100]: lag + n < 100 for some n >= 0, i.e. lag < 100
    for method in METHODS:
        got = sigcorr.correlate(x, y, lags=(-40_000 + 1, -39_990), method=method)
        assert np.isnan(got).all()
        got = sigcorr.correlate(x, y, lags=(100, 120), method=method)
        ref = ss.correlate(np.nan_to_num(x), y)[100 + 39_999:121 + 39_999]
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


def test_lags_long_pair_split_over_blocks(rng):
    # the lag_window path (one long pair, a few hundred lags), against naive sums
    x, y = rng.standard_normal(100_003), rng.standard_normal(99_991)
    got = sigcorr.correlate(x, y, lags=100, method="direct")
    want = np.array([np.dot(x[max(0, k):min(x.size, y.size + k)], y[max(0, -k):min(y.size, x.size - k)])
                     for k in range(-100, 101)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


@pytest.mark.parametrize("lags, message", [
    (5, "must lie inside the full range"), ((-10, 0), "must lie inside the full range"),
    ((3, 1), "lo <= hi"), ((1, 2, 3), "(lo, hi) pair"), (-1, ">= 0"), (1.5, "integer"),
])
def test_lags_errors(lags, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")):
        sigcorr.correlate(np.ones(5), np.ones(3), lags=lags)


def test_lags_need_full_mode():
    with pytest.raises(ValueError, match="mode='full'"):
        sigcorr.correlate(np.ones(5), np.ones(3), mode="same", lags=1)
    with pytest.raises(ValueError, match="mode='full'"):
        sigcorr.correlation_lags(5, 3, mode="valid", lags=1)
    with pytest.raises(ValueError, match="axis 1"):
        sigcorr.correlate2d(np.ones((5, 5)), np.ones((3, 3)), lags=((0, 1), (0, 9)))


@pytest.mark.parametrize("func", ["correlate", "convolve", "correlate2d", "convolve2d"])
def test_a_bare_pair_of_lags_is_ambiguous_for_two_axes(func):
    # (5, 7) could mean lags 5..7 on both axes or -5..5 and -7..7: refused,
    # and the message shows both spellings; per-axis pairs and an int stay
    a, b = np.ones((30, 30)), np.ones((20, 20))
    f = getattr(sigcorr, func)
    with pytest.raises(ValueError, match=r"ambiguous.*lags=\(\(5, 7\), \(5, 7\)\).*lags=\(\(-5, 5\), \(-7, 7\)\)"):
        f(a, b, lags=(5, 7))
    with pytest.raises(ValueError, match="ambiguous"):
        f(a, b, lags=[5, 7])
    assert f(a, b, lags=((5, 7), (5, 7))).shape == (3, 3)
    assert f(a, b, lags=((-5, 5), (-7, 7))).shape == (11, 15)
    assert f(a, b, lags=4).shape == (9, 9)
    # one convolved axis (a batch of rows): the pair is that axis' window
    if func in ("correlate", "convolve"):
        assert f(a, b[:1], axes=-1, lags=(5, 7)).shape == (30, 3)


def test_lags_auto_picks_direct_for_a_narrow_window():
    import importlib

    conv = importlib.import_module("sigcorr._conv")
    # only the extremes, which any calibration of the cost model agrees on:
    # 3 lags of 10^6 products each against the full correlation's transforms,
    # and every lag (10^12 products) against the same transforms
    x = np.ones((1, 1_000_000))
    assert conv._choose_window(x, x, 1, [(-1, 1)]) == "direct"
    assert conv._choose_window(x, x, 1, [(-999_999, 999_999)]) == "fft"


@pytest.mark.parametrize("method", METHODS)
def test_lags_nan_in_in2_reaches_only_overlapping_lags(method, rng):
    # as scipy's 1-D correlate: a NaN meets the zero extension of in1 nowhere
    x, y = rng.standard_normal(30_000), rng.standard_normal(20_000)
    y[5] = np.nan
    ref = ss.correlate(x, y, method="direct")
    for lags in [(-19_999, -19_980), (-100, 100), (29_980, 29_999)]:
        got = sigcorr.correlate(x, y, lags=lags, method=method)
        want = ref[lags[0] + 19_999:lags[1] + 20_000]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.nanmax(np.abs(want)))
