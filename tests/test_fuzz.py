"""Property-based fuzz of the public API and its Dask twins (hypothesis).

Hypothesis draws the shapes, parameters, scales, layouts and chunkings; the
data come from a numpy generator seeded by a drawn integer (random floats
drawn value by value would mostly test flat and degenerate windows).  The
properties:

* normalized results do not depend on the data's scale (1e-300 to 1e300 in
  float64, float32's range) or offset;
* the same data in any memory layout or dtype give the same result;
* the Dask twins equal the in-memory functions for any chunking;
* every refusal is a ValueError or TypeError that names the argument;
* absurd parameters (distances, counts, lags) allocate no more than the
  inputs' order of magnitude.

CI runs a few derandomized examples per property (profile "sigcorr");
``HYPOTHESIS_PROFILE=explore SIGCORR_FUZZ_EXAMPLES=2000 python -m pytest
tests/test_fuzz.py`` draws new ones for a long run (BENCHMARKS.md,
"Reliability", records the last).
"""

import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sigcorr

da = pytest.importorskip("dask.array")
import sigcorr.dask as sd  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("SIGCORR_FUZZ_EXAMPLES", "12")),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NORMED = ("ccoeff_normed", "ccorr_normed", "sqdiff_normed")
METHODS = NORMED + ("ccoeff", "ccorr", "sqdiff")
seeds = st.integers(0, 2 ** 32 - 1)
# powers of ten across float64's range, and across float32's for images
scales64 = st.sampled_from([1e-300, 1e-200, 1e-155, 1e-100, 1e-20, 1.0, 3.7, 1e20, 1e100, 1e155, 1e200, 1e300])
scales32 = st.sampled_from([1e-30, 1e-19, 1e-10, 1.0, 1e10, 1e19, 1e30])


def _rng(seed):
    return np.random.default_rng(seed)


def _close(got, want, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def _layouts(a, rng):
    """The same values in other memory layouts and byte orders."""
    yield np.asfortranarray(a)
    big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
    big[tuple(slice(None, None, 2) for _ in a.shape)] = a
    yield big[tuple(slice(None, None, 2) for _ in a.shape)]  # strided view
    flipped = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
    yield flipped[(slice(None, None, -1),) * a.ndim]  # negative strides
    yield a.astype(a.dtype.newbyteorder(">") if a.dtype.byteorder in "=<" else a.dtype.newbyteorder("<"))


# ---------------------------------------------------------------------------
# scale and offset invariance of normalized results
# ---------------------------------------------------------------------------


@FUZZ
@given(seed=seeds, scale=scales64, offset=st.sampled_from([0.0, 1.0, -50.0]),
       shape=st.tuples(st.integers(12, 40), st.integers(12, 40)), t=st.integers(2, 8),
       method=st.sampled_from(METHODS))
def test_match_scores_are_scale_free_float64(seed, scale, offset, shape, t, method):
    rng = _rng(seed)
    img = rng.standard_normal(shape) + offset
    y, x = rng.integers(0, shape[0] - t + 1), rng.integers(0, shape[1] - t + 1)
    tpl = img[y:y + t, x:x + t] + 0.1 * rng.standard_normal((t, t))
    want = sigcorr.match_template(img, tpl, method)
    got = sigcorr.match_template(img * scale, tpl * scale, method)
    if method in NORMED:
        _close(got, want, rtol=1e-7, atol=1e-9)
    else:  # unnormalized scores carry scale**2 (inf or 0 where that leaves float64)
        with np.errstate(over="ignore"):
            want_scaled = want * scale * scale
        ok = np.isfinite(want_scaled) & (np.abs(want_scaled) > 1e-290)
        _close(got[ok], want_scaled[ok], rtol=1e-7, atol=1e-9 * np.abs(want_scaled[ok]).max(initial=0))


@FUZZ
@given(seed=seeds, scale=scales32, shape=st.tuples(st.integers(10, 30), st.integers(10, 30)), t=st.integers(2, 6),
       method=st.sampled_from(NORMED))
def test_match_scores_are_scale_free_float32(seed, scale, shape, t, method):
    rng = _rng(seed)
    img = rng.standard_normal(shape).astype(np.float32)
    tpl = img[1:1 + t, 2:2 + t].copy()
    want = sigcorr.match_template(img, tpl, method)
    got = sigcorr.match_template(img * np.float32(scale), tpl * np.float32(scale), method)
    assert got.dtype == np.float32
    _close(got, want, rtol=1e-3, atol=2e-3)


@FUZZ
@given(seed=seeds, scale=scales64, offset=st.sampled_from([0.0, 5.0, -1e3]), n=st.integers(8, 300),
       batch=st.integers(1, 3), lag=st.integers(1, 12))
def test_autocorrelation_is_scale_and_offset_free(seed, scale, offset, n, batch, lag):
    x = _rng(seed).standard_normal((batch, n))
    want = sigcorr.autocorrelation(x, min(lag, n - 1))
    _close(sigcorr.autocorrelation(x * scale + offset * scale, min(lag, n - 1)), want, rtol=1e-7, atol=1e-9)


@FUZZ
@given(seed=seeds, sx=scales64, sy=scales64, n=st.integers(8, 300), lag=st.integers(0, 12))
def test_crosscorrelation_is_scale_free(seed, sx, sy, n, lag):
    rng = _rng(seed)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    lag = min(lag, n - 1)
    want = sigcorr.crosscorrelation(x, y, lag)
    _close(sigcorr.crosscorrelation(x * sx + 3 * sx, y * sy, lag), want, rtol=1e-7, atol=1e-9)


@FUZZ
@given(seed=seeds, scale=scales64, period=st.integers(3, 24), cycles=st.integers(4, 12))
def test_period_and_delay_are_scale_free(seed, scale, period, cycles):
    rng = _rng(seed)
    t = np.arange(period * cycles)
    x = np.sin(2 * np.pi * t / period) + 0.2 * rng.standard_normal(t.size)
    want = sigcorr.detect_period(x)
    got = sigcorr.detect_period(x * scale + 7 * scale)
    _close([got.period, got.strength], [want.period, want.strength], rtol=1e-6, atol=1e-9)
    shift = int(rng.integers(-period // 2, period // 2 + 1))
    y = rng.standard_normal(t.size + 2 * period)
    a, b = np.roll(y, shift)[period:-period], y[period:-period]
    for weighting in (None, "phat"):
        want = sigcorr.estimate_delay(a, b, max_lag=period, weighting=weighting)
        got = sigcorr.estimate_delay(a * scale, b * scale, max_lag=period, weighting=weighting)
        _close(got.delay, want.delay, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# the same data in any layout or dtype
# ---------------------------------------------------------------------------


@FUZZ
@given(seed=seeds, shape=st.tuples(st.integers(1, 30), st.integers(1, 30)), kshape=st.tuples(st.integers(1, 6),
       st.integers(1, 6)), mode=st.sampled_from(["full", "same", "valid"]), method=st.sampled_from(["direct", "fft"]))
def test_convolution_is_the_same_in_any_layout_and_dtype(seed, shape, kshape, mode, method):
    rng = _rng(seed)
    assume(mode != "valid" or (shape[0] >= kshape[0] and shape[1] >= kshape[1]))
    a = rng.integers(-50, 50, shape)
    k = rng.integers(-5, 5, kshape)
    want = sigcorr.correlate(a.astype(np.float64), k.astype(np.float64), mode, method)
    want2d = sigcorr.correlate2d(a.astype(np.float64), k.astype(np.float64), mode)  # scipy's 'same' differs
    _close(sigcorr.correlate(a, k, mode, method), want, rtol=1e-12, atol=1e-9)  # int64 computes in float64
    for other in _layouts(a.astype(np.float64), rng):
        _close(sigcorr.correlate(other, k, mode, method), want, rtol=1e-12, atol=1e-9)
        _close(sigcorr.correlate2d(other, k, mode), want2d, rtol=1e-12, atol=1e-9)
    _close(sigcorr.correlate(a.astype(np.float32), k.astype(np.float32), mode, method), want, rtol=1e-5, atol=1e-3)


@FUZZ
@given(seed=seeds, shape=st.tuples(st.integers(6, 30), st.integers(6, 30)), t=st.integers(1, 5),
       method=st.sampled_from(METHODS))
def test_match_is_the_same_in_any_layout_and_dtype(seed, shape, t, method):
    rng = _rng(seed)
    img = rng.integers(0, 256, shape).astype(np.uint8)
    tpl = img[:t, -t:].copy()
    want = sigcorr.match_template(img.astype(np.float32), tpl.astype(np.float32), method)
    _close(sigcorr.match_template(img, tpl, method), want, rtol=0, atol=0)  # uint8 computes in float32
    for other in _layouts(img.astype(np.float32), rng):
        _close(sigcorr.match_template(other, tpl, method), want, rtol=1e-6, atol=1e-6 * max(1, np.abs(want).max()))


@FUZZ
@given(seed=seeds, n=st.integers(4, 200), batch=st.integers(1, 4), lag=st.integers(0, 20))
def test_series_are_the_same_in_any_layout_and_dtype(seed, n, batch, lag):
    rng = _rng(seed)
    x = rng.standard_normal((batch, n))
    lag = min(lag, n - 1)
    want = sigcorr.autocorrelation(x, lag)
    for other in _layouts(x, rng):
        _close(sigcorr.autocorrelation(other, lag), want, rtol=1e-12, atol=1e-12)
    _close(sigcorr.autocorrelation(x.T, lag, axis=0).T, want, rtol=1e-12, atol=1e-12)
    _close(sigcorr.autocorrelation(x.astype(np.float32), lag), sigcorr.autocorrelation(
        x.astype(np.float32).astype(np.float64), lag), rtol=1e-12, atol=1e-12)  # series compute in float64
    p = sigcorr.detect_period(x)
    q = sigcorr.detect_period(np.asfortranarray(x))
    _close(q.period, p.period, rtol=0)


# ---------------------------------------------------------------------------
# Dask equals in-memory for any chunking
# ---------------------------------------------------------------------------


def _chunks(draw_sizes, shape):
    return tuple(max(1, min(c, s)) for c, s in zip(draw_sizes, shape))


@FUZZ
@given(seed=seeds, shape=st.tuples(st.integers(1, 40), st.integers(1, 40)), kshape=st.tuples(st.integers(1, 7),
       st.integers(1, 7)), chunks=st.tuples(st.integers(1, 15), st.integers(1, 15)),
       mode=st.sampled_from(["full", "same", "valid"]), boundary=st.sampled_from(["fill", "wrap", "symm"]))
def test_dask_convolution_equals_in_memory(seed, shape, kshape, chunks, mode, boundary):
    rng = _rng(seed)
    assume(mode != "valid" or (shape[0] >= kshape[0] and shape[1] >= kshape[1]))
    a, k = rng.standard_normal(shape), rng.standard_normal(kshape)
    c = _chunks(chunks, shape)
    if boundary != "fill" and (kshape[0] > shape[0] or kshape[1] > shape[1]):  # refused, naming the chunked array
        with pytest.raises(ValueError, match="in1"):
            sd.correlate2d(a, k, mode, boundary, chunks=c)
        return
    _close(sd.correlate2d(a, k, mode, boundary, chunks=c).compute(scheduler="sync"),
           sigcorr.correlate2d(a, k, mode, boundary), rtol=1e-10, atol=1e-10)
    _close(sd.convolve(a, k, mode, chunks=c).compute(scheduler="sync"), sigcorr.convolve(a, k, mode),
           rtol=1e-10, atol=1e-10)


@FUZZ
@given(seed=seeds, shape=st.tuples(st.integers(8, 40), st.integers(8, 40)), t=st.integers(1, 6),
       chunks=st.tuples(st.integers(3, 20), st.integers(3, 20)), method=st.sampled_from(METHODS),
       stack=st.integers(0, 3))
def test_dask_match_equals_in_memory(seed, shape, t, chunks, method, stack):
    rng = _rng(seed)
    img = rng.standard_normal(shape)
    tpl = rng.standard_normal((stack, t, t) if stack else (t, t))
    kw = {"stack": True} if stack else {}
    want = sigcorr.match_template(img, tpl, method, **kw)
    got = sd.match_template(img, tpl, method, chunks=_chunks(chunks, shape), **kw).compute(scheduler="sync")
    _close(got, want, rtol=1e-7, atol=1e-7 * max(1.0, np.abs(want).max()))


@FUZZ
@given(seed=seeds, n=st.integers(8, 200), bx=st.integers(1, 3), by=st.sampled_from([0, 1]), lag=st.integers(0, 10),
       chunk=st.integers(1, 80), tchunk=st.integers(1, 3))
def test_dask_series_equal_in_memory_with_broadcasting(seed, n, bx, by, lag, chunk, tchunk):
    rng = _rng(seed)
    x = rng.standard_normal((bx, n))
    y = rng.standard_normal((1, n) if by else (bx, n))
    lag = min(lag, n - 1)
    c = (min(tchunk, bx), min(chunk, n))
    _close(sd.crosscorrelation(x, y, lag, chunks=c).compute(scheduler="sync"), sigcorr.crosscorrelation(x, y, lag),
           rtol=1e-9, atol=1e-10)
    _close(sd.autocorrelation(x, lag, chunks=c).compute(scheduler="sync"), sigcorr.autocorrelation(x, lag),
           rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------------------
# refusals name the argument; absurd parameters stay cheap
# ---------------------------------------------------------------------------

junk = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12), st.floats(allow_nan=True),
                 st.text(max_size=3), st.just([1, 2]), st.just(((1, 2), 3)), st.just(np.array([[1, 2], [3, 4]])),
                 st.just(1j), st.just(np.ones((2, 2, 2))))

# (function, the arguments it is called with, the name of the argument fuzzed)
_X1, _X2 = np.sin(np.arange(64.0) / 3), np.cos(np.arange(64.0) / 3)
_IMG = np.add.outer(np.sin(np.arange(20.0)), np.cos(np.arange(24.0) / 2))
TARGETS = [
    (sigcorr.correlate, (_X1, _X1[:5]), "mode"),
    (sigcorr.correlate, (_X1, _X1[:5]), "method"),
    (sigcorr.correlate2d, (_IMG, _IMG[:3, :3]), "boundary"),
    (sigcorr.correlate2d, (_IMG, _IMG[:3, :3]), "fillvalue"),
    (sigcorr.correlate, (_X1, _X1[:5]), "lags"),
    (sigcorr.choose_conv_method, (_X1, _X1[:5]), "measure"),
    (sigcorr.match_template, (_IMG, _IMG[:4, :4]), "method"),
    (sigcorr.match_template, (_IMG, _IMG[:4, :4]), "nan_policy"),
    (sigcorr.match_template, (_IMG, _IMG[:4, :4]), "min_overlap"),
    (sigcorr.find_matches, (_IMG,), "threshold"),
    (sigcorr.find_matches, (_IMG,), "max_matches"),
    (sigcorr.find_matches, (_IMG,), "min_distance"),
    (sigcorr.locate, (_IMG, _IMG[:4, :4]), "pyramid_levels"),
    (sigcorr.locate, (_IMG, _IMG[:4, :4]), "threshold"),
    (sigcorr.autocorrelation, (_X1,), "max_lag"),
    (sigcorr.autocorrelation, (_X1,), "axis"),
    (sigcorr.detect_period, (_X1,), "min_period"),
    (sigcorr.detect_period, (_X1,), "max_period"),
    (sigcorr.detect_period, (_X1,), "fs"),
    (sigcorr.detect_periods, (_X1,), "max_periods"),
    (sigcorr.crosscorrelation, (_X1, _X2), "max_lag"),
    (sigcorr.estimate_delay, (_X1, _X2), "max_lag"),
    (sigcorr.estimate_delay, (_X1, _X2), "weighting"),
    (sigcorr.max_pool2d, (_IMG[None],), "kernel_size"),
    (sigcorr.avg_pool1d, (_IMG, 2), "padding"),
    (sigcorr.conv2d, (_IMG[None, None], np.ones((1, 1, 3, 3))), "stride"),
    (sd.correlate2d, (_IMG, _IMG[:3, :3]), "chunks"),
    (sd.autocorrelation, (_X1,), "max_lag"),
]


@FUZZ
@given(target=st.sampled_from(TARGETS), value=junk)
def test_every_refusal_names_the_argument(target, value):
    func, args, name = target
    try:
        out = func(*args, **{name: value})
        if hasattr(out, "compute"):
            out.compute(scheduler="sync")
    except (ValueError, TypeError) as exc:
        words = name.replace("_", " ")
        assert name in str(exc) or words in str(exc), f"{func.__name__}({name}={value!r}): {exc}"


@FUZZ
@given(big=st.sampled_from([10 ** 3, 10 ** 7, 10 ** 9, 10 ** 18]), which=st.integers(0, 4))
def test_absurd_parameters_allocate_no_more_than_the_input(big, which):
    x = np.sin(np.arange(256.0) / 5)
    img = np.add.outer(x[:40], x[:50])
    calls = [
        lambda: sigcorr.find_matches(img, min_distance=big),
        lambda: sigcorr.locate(img, img[:5, :5], min_distance=big, max_matches=big),
        lambda: sigcorr.detect_periods(x, max_periods=big),
        lambda: sigcorr.find_matches(img, max_matches=big),
        lambda: sigcorr.correlate(x, x[:9], lags=big),
    ]
    tracemalloc.start()
    try:
        calls[which]()
    except (ValueError, TypeError):
        pass
    finally:
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak_bytes < 64 * img.nbytes + (1 << 20), (which, big, peak_bytes)
