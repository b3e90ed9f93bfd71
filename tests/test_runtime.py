"""The parallel runtime is safe in real programs: threads, fork, start-up."""

import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.signal

import sigcorr


def _run(code, env=None):
    full_env = dict(os.environ)
    full_env.pop("NUMBA_THREADING_LAYER", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, env=full_env,
    )


def test_import_compiles_nothing():
    code = """
        import sys
        import numba
        from numba.core.registry import CPUDispatcher
        import sigcorr
        compiled = []
        for name, mod in list(sys.modules.items()):
            if not name.startswith("sigcorr"):
                continue
            for attr in vars(mod).values():
                if isinstance(attr, CPUDispatcher) and attr.signatures:
                    compiled.append(f"{name}.{attr.__name__}")
        print("COMPILED:", compiled)
    """
    res = _run(code)
    assert res.returncode == 0, res.stderr
    assert "COMPILED: []" in res.stdout


def test_threading_layer_is_fork_and_thread_safe():
    res = _run("""
        import numpy as np, numba, sigcorr
        sigcorr.correlate(np.ones(1000), np.ones(10), method="direct")
        print("LAYER:", numba.threading_layer())
    """)
    assert res.returncode == 0, res.stderr
    layer = res.stdout.split("LAYER:")[1].strip()
    info = sigcorr._runtime.threading_info()
    # either TBB, or the workqueue with sigcorr serializing the calls
    assert layer == "tbb" or (layer == "workqueue" and info["serialized"])


def test_user_threading_layer_is_kept():
    res = _run(
        "import numba, sigcorr; print('LAYER:', numba.config.THREADING_LAYER)",
        env={"NUMBA_THREADING_LAYER": "workqueue"},
    )
    assert res.returncode == 0, res.stderr
    assert "LAYER: workqueue" in res.stdout


def test_many_threads_same_answers():
    rng = np.random.default_rng(0)
    inputs = [(rng.standard_normal(20_000), rng.standard_normal(33)) for _ in range(8)]
    expected = [scipy.signal.correlate(a, b, method="direct") for a, b in inputs]
    results = [None] * 8
    errors = []

    def work(i):
        try:
            for _ in range(20):
                results[i] = sigcorr.correlate(inputs[i][0], inputs[i][1], method="direct")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_every_family_from_threads_gives_the_single_threaded_answers():
    rng = np.random.default_rng(1)
    img = rng.random((300, 280)).astype(np.float32)
    series = rng.standard_normal((80, 400))  # enough series for the lane-vectorized FFT
    x4 = rng.standard_normal((2, 3, 40, 40)).astype(np.float32)
    w4 = rng.standard_normal((6, 3, 5, 5)).astype(np.float32)
    calls = [
        lambda: sigcorr.match_template(img, img[100:140, 50:90]),
        lambda: sigcorr.match_template(img, img[10:18, 20:28], "sqdiff_normed"),
        lambda: sigcorr.autocorrelation(series, 150),
        lambda: sigcorr.detect_period(series).period,
        lambda: sigcorr.max_pool2d(x4, 3, 2, 1),
        lambda: sigcorr.conv2d(x4, w4, padding=2),
    ]
    expected = [f() for f in calls]
    results = {}
    errors = []

    def work(i):
        try:
            for _ in range(5):
                results[i] = calls[i % len(calls)]()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2 * len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors
    for i, got in results.items():
        np.testing.assert_array_equal(got, expected[i % len(calls)])


def _child(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(5000), rng.standard_normal(17)
    return float(np.max(np.abs(sigcorr.correlate(a, b, method="direct")
                                - scipy.signal.correlate(a, b, method="direct"))))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_fork_pool_after_use():
    sigcorr.correlate(np.ones(4000), np.ones(9), method="direct")  # runtime started
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        errs = pool.map(_child, range(4))
    assert max(errs) < 1e-9


def test_output_array_pages_touched_once_each():
    from sigcorr._kernels.memory import HUGE_PAGE, touch_pages
    from sigcorr._runtime import output_array

    buf = np.ones(2 * HUGE_PAGE + 12345, np.uint8)
    touch_pages(buf, 4096)
    zero = np.flatnonzero(buf == 0)
    np.testing.assert_array_equal(zero, np.arange(0, buf.size, 4096))
    for shape in [(3, 5), (1000, 1000), (0, 7)]:
        out = output_array(shape, np.float32)
        assert out.shape == shape and out.dtype == np.float32 and out.flags.c_contiguous
        out[...] = 1.0  # writable, every page
        assert out.sum() == out.size
