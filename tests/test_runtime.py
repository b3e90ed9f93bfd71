"""The parallel runtime is safe in real programs: threads, fork, start-up."""

import multiprocessing as mp
import os
import signal
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


# the inputs of the child programs below (run in fresh processes: no rng
# fixture there); any fixed draw does, they compare with scipy and numpy
CHILD_SEED = 0

_FORK = f"""
    CHILD_SEED = {CHILD_SEED}""" + """
    import os, signal, threading
    import numpy as np, numba, scipy.signal, sigcorr

    rng = np.random.default_rng(CHILD_SEED)
    a, b = rng.standard_normal(20_000), rng.standard_normal(33)
    want = scipy.signal.correlate(a, b, method="direct")
    x4 = rng.standard_normal((2, 3, 40, 40))
    pooled = x4.reshape(2, 3, 20, 2, 20, 2).max(axis=(3, 5))

    def check():
        # two parallel kernels (direct correlation, pooling)
        return (np.allclose(sigcorr.correlate(a, b, method="direct"), want, atol=1e-9)
                and np.array_equal(sigcorr.max_pool2d(x4, 2), pooled))

    box = []  # the pool started from another thread, then used from this one
    t = threading.Thread(target=lambda: box.append(check()))
    t.start()
    t.join()
    assert box == [True] and check()
    print("LAYER:", numba.threading_layer(), flush=True)
    pid = os.fork()
    if pid == 0:
        signal.alarm(60)  # a hang in the child ends it (SIGALRM) instead of the test
        try:
            code = 0 if check() else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print("CHILD:", os.waitstatus_to_exitcode(status), flush=True)
    print("PARENT:", check(), flush=True)
"""


def _run_bounded(code, timeout=180):
    """``code`` in a fresh interpreter, its own process group killed (children
    included) if it runs past ``timeout`` seconds: a hang fails the test."""
    env = dict(os.environ)
    env.pop("NUMBA_THREADING_LAYER", None)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"hung for {timeout} s; stdout: {out!r}; stderr: {err[-2000:]!r}")
    return proc.returncode, out, err


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")
def test_fork_after_parallel_kernels():
    # parallel kernels run (their thread pool started from another thread,
    # then used from the main one), the process forks, the child runs kernels
    # and exits 0, and the parent goes on: whatever threading layer sigcorr reports
    rc, out, err = _run_bounded(_FORK)
    assert rc == 0, err[-2000:]
    layer = out.split("LAYER:")[1].split()[0] if "LAYER:" in out else "?"
    assert "CHILD: 0" in out, f"layer {layer}: {out!r} {err[-2000:]!r}"
    assert "PARENT: True" in out, f"layer {layer}: {out!r}"


def test_many_threads_same_answers(rng):
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


def test_every_family_from_threads_gives_the_single_threaded_answers(rng):
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
        errs = pool.map_async(_child, range(4)).get(timeout=120)  # a hang fails, not blocks
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


def test_direct_outputs_half_a_page_from_their_source(rng):
    # the direct kernel's output is placed 2048 bytes (mod 4096, within one
    # cache line) from the image it reads, wherever the heap puts things: no
    # 4K aliasing between its stores and its loads; its element ``lead`` on
    # a cache line; small outputs are plain arrays
    from sigcorr._runtime import output_apart

    pool = np.zeros(300_000, np.float64)
    for k, (dtype, shape) in enumerate([(np.float32, (300, 512)), (np.float64, (2, 130, 257)),
                                         (np.complex128, (64, 1024)), (np.float32, (10, 10))]):
        src = pool.view(np.uint8)[16 * k + 48 * (k % 2):][:np.prod(shape) * np.dtype(dtype).itemsize]
        src = src.view(dtype).reshape(shape)
        lead = k % 4
        out = output_apart(shape, dtype, src, lead=lead)
        assert out.shape == shape and out.dtype == dtype and out.flags.c_contiguous and out.flags.writeable
        assert out.ctypes.data % np.dtype(dtype).alignment == 0
        if out.nbytes >= 1 << 16:
            assert 2048 <= (out.ctypes.data - src.ctypes.data) % 4096 < 2048 + 64
            assert (out.ctypes.data + lead * np.dtype(dtype).itemsize) % 64 == 0
        else:
            assert out.base is None
        out[...] = 1
        assert out.sum() == out.size
    img = rng.standard_normal((512, 1024)).astype(np.float32)
    k7 = rng.standard_normal((7, 7)).astype(np.float32)
    res = sigcorr.correlate(img, k7, "same", method="direct")
    assert 2048 <= (res.ctypes.data - img.ctypes.data) % 4096 < 2048 + 64
    assert (res.ctypes.data + 3 * 4) % 64 == 0  # the first column of the vector passes, past the 3 edge columns
    want = scipy.signal.correlate(img.astype(np.float64), k7.astype(np.float64), "same")
    np.testing.assert_allclose(res, want, rtol=1e-4, atol=1e-3)
    # rows of other lengths lie at every distance from their sources (and a
    # 1-D row anywhere): plain arrays
    def owner(a):
        while a.base is not None:
            a = a.base
        return a

    assert owner(res).nbytes == res.nbytes + 4096 + 64
    for r in (sigcorr.correlate(img, k7, "valid", method="direct"),
              sigcorr.correlate(img[0], k7[0], "same", method="direct")):
        assert owner(r).nbytes == r.nbytes
