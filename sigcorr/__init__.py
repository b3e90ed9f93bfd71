"""sigcorr: convolution, cross-correlation, template matching, period detection
and pooling on parallel Numba kernels, with the results of scipy, OpenCV,
statsmodels and torch.

Importing sigcorr compiles nothing.  A kernel is loaded from numba's on-disk
cache on its first call; if it is not there yet, the call is answered by
scipy / numpy while a background process compiles the kernels into the cache
(``sigcorr warmup`` does that ahead of time).
"""

from ._runtime import tune_allocator
from .convolve import (
    choose_conv_method,
    convolve,
    convolve2d,
    correlate,
    correlate2d,
    correlation_lags,
)
from .delay import DelayResult, crosscorrelation, estimate_delay
from .layers import conv1d, conv2d, conv3d
from .match import Matches, find_matches, locate, match_template
from .network import mad_threshold, matched_filter
from .period import PeriodResult, Periods, autocorrelation, detect_period, detect_periods
from .pool import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from . import stream  # noqa: F401  (sigcorr.stream: Correlate, Convolve, ...)
from ._version import __version__  # noqa: F401  (sigcorr.__version__)
from ._warmup import warmup


__all__ = [
    "convolve",
    "correlate",
    "convolve2d",
    "correlate2d",
    "choose_conv_method",
    "correlation_lags",
    "crosscorrelation",
    "estimate_delay",
    "DelayResult",
    "match_template",
    "find_matches",
    "locate",
    "Matches",
    "matched_filter",
    "mad_threshold",
    "autocorrelation",
    "detect_period",
    "detect_periods",
    "Periods",
    "PeriodResult",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "conv1d",
    "conv2d",
    "conv3d",
    "warmup",
    "tune_allocator",
]
