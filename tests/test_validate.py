"""The validation layer every public module shares: one dtype policy, one
message per mistake."""

import numpy as np
import pytest

import sigcorr
from sigcorr import _validate

SIGNAL = {  # input dtype -> the dtype convolve, layers and pooling compute in
    np.float16: np.float32, np.float32: np.float32, np.float64: np.float64, np.longdouble: np.float64,
    np.bool_: np.float64, np.int8: np.float64, np.uint8: np.float64, np.int16: np.float64,
    np.uint16: np.float64, np.int32: np.float64, np.int64: np.float64, np.uint64: np.float64,
    np.complex64: np.complex64, np.complex128: np.complex128, np.clongdouble: np.complex128,
}
IMAGE = {  # match_template: 8/16-bit and bool images stay exact in float32
    **{d: c for d, c in SIGNAL.items() if np.dtype(d).kind != "c"},
    np.bool_: np.float32, np.int8: np.float32, np.uint8: np.float32, np.int16: np.float32, np.uint16: np.float32,
}


@pytest.mark.parametrize("dtype", list(SIGNAL))
def test_one_dtype_table(dtype):
    assert _validate.compute_dtype(dtype) == SIGNAL[dtype]
    if dtype in IMAGE:
        assert _validate.compute_dtype(dtype, family="image") == IMAGE[dtype]
        assert _validate.compute_dtype(dtype, family="series") == np.float64


def test_dtypes_combine_and_byte_order_does_not_matter():
    assert _validate.compute_dtype(np.float32, np.int8) == np.float64
    assert _validate.compute_dtype(np.float32, np.complex64) == np.complex64
    assert _validate.compute_dtype(np.float64, np.complex64) == np.complex128
    assert _validate.compute_dtype(np.uint8, np.float32, family="image") == np.float32
    assert _validate.compute_dtype(np.uint8, np.int32, family="image") == np.float64
    for fam in _validate.DTYPE_FAMILIES:
        for d in (np.float16, np.float32, np.float64, np.int16):
            big = np.dtype(d).newbyteorder(">")
            got = _validate.compute_dtype(big, family=fam)
            assert got == _validate.compute_dtype(d, family=fam) and got.isnative
    with pytest.raises(ValueError, match="family must be one of"):
        _validate.compute_dtype(np.float64, family="audio")


def test_the_public_functions_follow_the_table():
    x = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert sigcorr.convolve(x, x[:2, :2]).dtype == np.uint8  # computed in float64, rounded back: scipy's dtype
    assert sigcorr.convolve(x, x[:2, :2].astype(np.float32)).dtype == np.float32
    assert sigcorr.match_template(x, x[:2, :2]).dtype == np.float32
    assert sigcorr.avg_pool2d(x, 2).dtype == np.float64
    assert sigcorr.max_pool2d(x, 2).dtype == np.uint8  # computed in float64, returned as given
    assert sigcorr.max_pool2d(x.astype(np.float16), 2).dtype == np.float16
    assert sigcorr.conv2d(x[None, None].astype(np.float32), np.ones((1, 1, 2, 2), np.float32)).dtype == np.float32
    assert sigcorr.autocorrelation(np.arange(10, dtype=np.float32)).dtype == np.float64


def test_one_message_per_mistake():
    # sampling rates: one check, one wording
    for call in (lambda: sigcorr.detect_period(np.ones(100), fs=0),
                 lambda: sigcorr.estimate_delay(np.ones(10), np.ones(10), fs=-1.0)):
        with pytest.raises(ValueError, match=r"^fs must be > 0, got "):
            call()
    with pytest.raises(ValueError, match=r"^min_period must be > 0, got "):
        sigcorr.detect_period(np.ones(100), min_period=0)
    # True/False flags
    for call, name in ((lambda: sigcorr.avg_pool1d(np.ones(8), 2, count_include_pad=1), "count_include_pad"),
                       (lambda: sigcorr.max_pool1d(np.ones(8), 2, ceil_mode="yes"), "ceil_mode"),
                       (lambda: sigcorr.autocorrelation(np.ones(8), demean=0), "demean"),
                       (lambda: sigcorr.crosscorrelation(np.ones(8), np.ones(8), two_sided=None), "two_sided"),
                       (lambda: sigcorr.match_template(np.ones(8), np.ones(3), pad_input="yes"), "pad_input"),
                       (lambda: sigcorr.find_matches(np.ones(8), maximize=1), "maximize"),
                       (lambda: sigcorr.find_matches(np.ones(8), subpixel=None), "subpixel"),
                       (lambda: sigcorr.locate(np.ones(8), np.ones(3), subpixel="no"), "subpixel")):
        with pytest.raises(TypeError, match=f"^{name} must be True or False, got "):
            call()
    # axes
    with pytest.raises(ValueError, match="axis 2 is out of bounds for a 2-D x"):
        sigcorr.autocorrelation(np.ones((3, 8)), axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of bounds for 2-D x and y"):
        sigcorr.crosscorrelation(np.ones((3, 8)), np.ones((3, 8)), axis=-3)
    # convolve2d's fill value, scipy's wording
    with pytest.raises(ValueError, match=r"`fillvalue` must be scalar or an array with one element\."):
        sigcorr.convolve2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=[1, 2])
    with pytest.raises(TypeError, match="fillvalue must be a number"):
        sigcorr.convolve2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue="x")
    with pytest.raises(ValueError, match="could not cast `fillvalue` directly to the output type"):
        sigcorr.correlate2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=1j)
    # score maps
    with pytest.raises(ValueError, match=r"scores must be 1-D or 2-D \(or a 3-D stack of 2-D maps\), got 4-D"):
        sigcorr.find_matches(np.ones((2, 2, 2, 2)))


def test_template_fits_is_the_rule_match_template_applies():
    assert _validate.template_fits((5, 5), (5, 5))
    assert not _validate.template_fits((5, 5), (6, 1))
    assert _validate.template_fits((5, 5, 3), (2, 2, 3))
    assert not _validate.template_fits((4,), (5,))
    with pytest.raises(ValueError, match=r"template must not be larger than image in any axis, got template "
                                         r"shape \(6, 1\) and image shape \(5, 5\)"):
        sigcorr.match_template(np.ones((5, 5)), np.ones((6, 1)))


def test_lags_read_arrays_as_the_nested_tuples():
    a, k = np.ones((20, 20)), np.ones((10, 10))
    want = sigcorr.correlate(a, k, lags=((-3, 3), (-5, 5)))
    for lags in (np.array([[-3, 3], [-5, 5]]), [[-3, 3], [-5, 5]], (np.array([-3, 3]), [-5, 5])):
        np.testing.assert_array_equal(sigcorr.correlate(a, k, lags=lags), want)
        np.testing.assert_array_equal(sigcorr.correlate2d(a, k, lags=lags), sigcorr.correlate2d(a, k, lags=((-3, 3),
                                                                                                          (-5, 5))))
    mixed = sigcorr.correlate(a, k, lags=(5, (6, 7)))  # -5..5 on axis 0, 6..7 on axis 1
    np.testing.assert_array_equal(mixed, sigcorr.correlate(a, k, lags=np.array([[-5, 5], [6, 7]], dtype=np.int32)))
    assert sigcorr.correlate(a[0], k[0], lags=np.array(3)).shape == (7,)
    with pytest.raises(TypeError, match="lags must be an integer"):
        sigcorr.correlate(a, k, lags=np.array([[-3.0, 3.0], [-5.0, 5.0]]))
    with pytest.raises(ValueError, match="ambiguous"):
        sigcorr.correlate(a, k, lags=np.array([2, 3]))


@pytest.mark.parametrize("measure", ["yes", 1, None])
def test_choose_conv_method_measure_is_a_flag(measure):
    with pytest.raises(TypeError, match="measure must be True or False"):
        sigcorr.choose_conv_method(np.ones(10), np.ones(3), measure=measure)
    assert sigcorr.choose_conv_method(np.ones(10), np.ones(3), measure=np.False_) in ("direct", "fft")
