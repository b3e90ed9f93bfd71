"""Session set-up: every kernel compiled once, up front; no stray signatures.

* The tests run in two pytest-xdist processes (``-n 2`` in pyproject.toml):
  most of their time is Python, subprocesses and Dask, not the kernels.
* The suite exercises the compiled kernels, so a call compiles in the
  foreground when its kernel is missing (``SIGCORR_BACKGROUND_COMPILE=0``),
  and every kernel is compiled before the first test by ``sigcorr.warmup``
  in parallel processes (or loaded from the cache when it is warm).  The
  cold path (reference twins, background compile) has its own tests in
  ``test_coldstart.py``, which turn it back on in child processes.
* Every kernel call made from the public API must match one of the
  signatures the kernel declares (``sigs=``): a call with another argument
  type would compile a specialization that ``sigcorr warmup`` does not
  provide.  ``ready`` is wrapped to check that on every call.
* The cost model is the built-in one: ``SIGCORR_COSTS`` names a file that
  does not exist, so a developer's calibration changes no method choice.
* Randomness is reproducible: the ``rng`` fixture seeds numpy from the
  test's id (``stable_seed``, the same in every process and on every
  machine) and a failing test's report shows the seed; hypothesis runs
  derandomized (profile "sigcorr"; ``HYPOTHESIS_PROFILE=explore`` draws new
  examples on each run) and prints how to reproduce a failure.
"""

import os
import zlib

os.environ.setdefault("SIGCORR_BACKGROUND_COMPILE", "0")
# the built-in cost model, whatever the developer calibrated (``sigcorr calibrate``)
os.environ["SIGCORR_COSTS"] = os.path.join(os.path.dirname(__file__), "no-such-costs-file.json")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("sigcorr", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sigcorr"))


def stable_seed(*parts):
    """A seed from the text of ``parts`` (CRC-32): unlike ``hash``, the same
    in every process (PYTHONHASHSEED) and on every machine."""
    return zlib.crc32(repr(parts).encode())


@pytest.fixture
def rng(request):
    """``np.random.default_rng`` seeded from the test's id (parameters
    included); the seed is shown in the report if the test fails."""
    seed = stable_seed(request.node.nodeid)
    request.node.user_properties.append(("seed", seed))
    return np.random.default_rng(seed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, value in item.user_properties:
            if name == "seed":
                report.sections.append(("random seed", f"np.random.default_rng({value})  # the rng fixture of {item.nodeid}"))


def pytest_sessionstart(session):
    # once, before any test; under pytest-xdist in the controller only, before
    # the workers start (they then load the kernels from the cache)
    if hasattr(session.config, "workerinput"):
        return
    import sigcorr

    sigcorr.warmup()


def _peers_only(config):
    return all("peers" in str(arg) for arg in config.args)


def _signature_check_scope(fixture_name, config):
    # installed once for the peers' 22,000 small tests (tests/peers), per test elsewhere
    return "session" if _peers_only(config) else "function"


@pytest.fixture(autouse=True, scope=_signature_check_scope)
def _declared_signatures_only():
    from sigcorr import _runtime
    from sigcorr._kernels._jit import REGISTRY

    declared = {id(disp): set(sigs) for disp, sigs in REGISTRY.values()}
    inner = _runtime.ready

    def checked(kernel, *args):
        sig = _runtime._signature(args)
        assert sig in declared.get(id(kernel), ()), (
            f"{getattr(kernel, 'sigcorr_name', kernel)} called with undeclared argument types {sig}")
        return inner(kernel, *args)

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_runtime, "ready", checked)
        yield


# The longest tests (seconds of Dask spilling, photograph searches, child
# processes) go first, so that pytest-xdist's two workers share them from the
# start instead of one of them finishing the suite alone.
_LONGEST_FIRST = (
    "test_dask.py::test_zarr_input_larger_than_worker_memory",
    "test_match_search.py::test_scale_and_angle_recovered_on_photographs",
    "test_coldstart.py::test_background_compile_fills_the_cache_and_takes_a_lock",
    "test_cli.py::test_demo_subprocess_json_and_plot",
    "test_dask.py::test_match_template_stacks_equal_in_memory",
    "test_cli.py::test_many_images_in_worker_processes",
    "test_dask.py::test_on_a_two_process_cluster",
    "test_import.py::test_a_pool_that_already_runs_is_respected",
    "test_dask.py::test_find_matches_nan_threshold_and_huge_min_distance",
)


def pytest_ignore_collect(collection_path, config):
    # the peers' own suites (tests/peers) are a CI step of their own, run
    # only when named: python -m pytest tests/peers
    if collection_path.name == "peers" and collection_path.parent.name == "tests":
        return not any("peers" in str(arg) for arg in config.args) or None
    return None


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        for i, name in enumerate(_LONGEST_FIRST):
            if name in item.nodeid:
                return i
        return len(_LONGEST_FIRST)

    items.sort(key=rank)  # (stable: the rest keep their order)
