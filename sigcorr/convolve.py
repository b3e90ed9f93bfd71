"""convolve: not implemented yet."""


def convolve(*args, **kwargs):
    raise NotImplementedError("convolve is not implemented yet")


def correlate(*args, **kwargs):
    raise NotImplementedError("correlate is not implemented yet")


def convolve2d(*args, **kwargs):
    raise NotImplementedError("convolve2d is not implemented yet")


def correlate2d(*args, **kwargs):
    raise NotImplementedError("correlate2d is not implemented yet")


def choose_conv_method(*args, **kwargs):
    raise NotImplementedError("choose_conv_method is not implemented yet")


def correlation_lags(*args, **kwargs):
    raise NotImplementedError("correlation_lags is not implemented yet")
