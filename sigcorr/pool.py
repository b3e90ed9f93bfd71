"""pool: not implemented yet."""


def max_pool1d(*args, **kwargs):
    raise NotImplementedError("max_pool1d is not implemented yet")


def max_pool2d(*args, **kwargs):
    raise NotImplementedError("max_pool2d is not implemented yet")


def avg_pool1d(*args, **kwargs):
    raise NotImplementedError("avg_pool1d is not implemented yet")


def avg_pool2d(*args, **kwargs):
    raise NotImplementedError("avg_pool2d is not implemented yet")
