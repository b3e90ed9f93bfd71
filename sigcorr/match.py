"""match: not implemented yet."""


def match_template(*args, **kwargs):
    raise NotImplementedError("match_template is not implemented yet")


def find_matches(*args, **kwargs):
    raise NotImplementedError("find_matches is not implemented yet")


def locate(*args, **kwargs):
    raise NotImplementedError("locate is not implemented yet")


class Matches:
    pass
