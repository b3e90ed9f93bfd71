"""layers: not implemented yet."""


def conv1d(*args, **kwargs):
    raise NotImplementedError("conv1d is not implemented yet")


def conv2d(*args, **kwargs):
    raise NotImplementedError("conv2d is not implemented yet")
