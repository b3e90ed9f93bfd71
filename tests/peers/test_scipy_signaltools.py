"""scipy 1.17's own convolution and correlation tests, every name swapped for
sigcorr's (``convolve``, ``correlate``, ``convolve2d``, ``correlate2d``,
``correlation_lags``, ``choose_conv_method``; ``fftconvolve`` and
``oaconvolve`` as ``convolve(..., method="fft")``).  Where scipy's tests
compute their reference with these names, sigcorr is compared with itself:
``test_scipy_oaconvolve.py`` swaps ``oaconvolve`` alone."""

import scipy_peer

globals().update(scipy_peer.load(scipy_peer.ALL))

#: sigcorr's documented differences from scipy (README, "Differences from scipy").
DIFFERENCES = {
    "test_convolve_longdtype_input[[]numpy-longdouble[]]":
        "long double is computed in float64 and returned as float64 (scipy's direct method keeps long double)",
    "test_convolve_longdtype_input[[]numpy-clongdouble[]]":
        "complex long double is computed in complex128 and returned as complex128",
    "TestFFTConvolve::test_fft_nan[[]numpy[]]":
        "NaN and inf reach only the outputs whose window holds them, on the FFT path too, so there is "
        "no 'Use of fft convolution on input with NAN or inf' warning: the outputs are not all NaN",
}
