"""The peers' own test suites, run against sigcorr (``python -m pytest tests/peers``).

Not part of the default run (``tests/conftest.py`` leaves this folder out
unless it is named on the command line); CI runs it as its own step.

* scipy's ``xp`` fixture (the array-API backend; NumPy only here) comes from
  scipy's own conftest, which the wheel ships.
* Each test module may define ``DIFFERENCES``: ``{test id pattern: reason}``;
  every test whose id (``Class::test[params]``, without the file) matches a
  pattern (``fnmatch``) is marked ``xfail(strict=True)`` with that reason, so a
  documented difference that goes away fails the run until its entry goes.
"""

from fnmatch import fnmatchcase

import pytest
from scipy.conftest import num_parallel_threads, xp  # noqa: F401  (fixtures)

_SCIPY_MARKERS = (
    "slow: scipy's slow tests",
    "xslow: scipy's extremely slow tests",
    "xfail_on_32bit: scipy: fails on 32-bit platforms",
    "array_api_backends: scipy: runs on every array API backend",
    "skip_xp_backends: scipy: backends to skip",
    "xfail_xp_backends: scipy: backends expected to fail",
    "fail_slow: scipy: a test's time limit",
    "timeout: scipy: a test's time limit",
    "parallel_threads_limit(n): scipy: threads of a parallel run",
    "thread_unsafe: scipy: single-threaded test",
    "iterations(n): scipy: repetitions of a parallel run",
)


def pytest_configure(config):
    for line in _SCIPY_MARKERS:
        config.addinivalue_line("markers", line)


def _test_id(item):
    return item.nodeid.split("::", 1)[1]


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        differences = getattr(item.module, "DIFFERENCES", None)
        if not differences:
            continue
        tid = _test_id(item)
        for pattern, reason in differences.items():
            if fnmatchcase(tid, pattern):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                break
