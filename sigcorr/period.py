"""period: not implemented yet."""


def autocorrelation(*args, **kwargs):
    raise NotImplementedError("autocorrelation is not implemented yet")


def detect_period(*args, **kwargs):
    raise NotImplementedError("detect_period is not implemented yet")


class PeriodResult:
    pass
