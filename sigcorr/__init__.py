"""sigcorr: convolution, cross-correlation, template matching, period detection
and pooling on parallel Numba kernels, with the results of scipy, OpenCV,
statsmodels and torch.

Importing sigcorr compiles nothing.  A kernel is loaded from numba's on-disk
cache on its first call; if it is not there yet, the call is answered by
scipy / numpy while a background process compiles the kernels into the cache
(``sigcorr warmup`` does that ahead of time).
"""

from ._runtime import configure_allocator as _configure_allocator
from ._runtime import configure_threading as _configure_threading

_configure_threading()
_configure_allocator()

from .convolve import (  # noqa: E402
    choose_conv_method,
    convolve,
    convolve2d,
    correlate,
    correlate2d,
    correlation_lags,
)
from .delay import DelayResult, crosscorrelation, estimate_delay  # noqa: E402
from .layers import conv1d, conv2d  # noqa: E402
from .match import Matches, find_matches, locate, match_template  # noqa: E402
from .period import PeriodResult, Periods, autocorrelation, detect_period, detect_periods  # noqa: E402
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: E402
from ._warmup import warmup  # noqa: E402

__version__ = "0.1.0"

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
    "autocorrelation",
    "detect_period",
    "detect_periods",
    "Periods",
    "PeriodResult",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "warmup",
]
