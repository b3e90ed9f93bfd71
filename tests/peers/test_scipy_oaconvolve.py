"""scipy 1.17's own convolution tests with only ``oaconvolve`` swapped for
sigcorr's FFT path: every expected value comes from scipy's own
``fftconvolve``."""

import scipy_peer

# the classes that call oaconvolve (the others would test scipy against itself)
globals().update(scipy_peer.load(scipy_peer.OACONVOLVE, ("TestOAConvolve", "TestAllFreqConvolves")))

#: sigcorr's documented differences from scipy (README, "Differences from scipy").
DIFFERENCES = {}
