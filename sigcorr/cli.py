"""cli: not implemented yet."""


def main(*args, **kwargs):
    raise NotImplementedError("main is not implemented yet")
