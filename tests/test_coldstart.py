"""The first call in a fresh install: answered by the reference twins, right,
while the kernels compile in the background; caches that cannot be written."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sigcorr
from sigcorr import _twins, _runtime
from sigcorr._kernels._jit import REGISTRY


def _run(code, tmp_path, env=None, timeout=300):
    full = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "SIGCORR_BACKGROUND_COMPILE")}
    full["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full, cwd=tmp_path)


# --- the cold path gives the warm path's answers ---------------------------

def _families(rng):
    x = rng.standard_normal(3000)
    img = rng.random((120, 130)).astype(np.float32)
    img64 = rng.random((90, 100))
    nan_img = img.copy()
    nan_img[40, 50] = np.nan
    t = np.arange(512)
    series = np.sin(2 * np.pi * t / 23.0) + 0.3 * rng.standard_normal((200, 512))
    batch = rng.standard_normal((70, 300))
    batch[3, 17] = np.nan
    t2 = np.arange(24 * 7 * 6)
    two_cycles = (np.sin(2 * np.pi * t2 / 24) + (t2 % 168 < 48) + 0.3 * rng.standard_normal((5, t2.size))
                  + 0.001 * t2)
    x4 = rng.standard_normal((2, 3, 19, 22)).astype(np.float32)
    w4 = rng.standard_normal((6, 3, 5, 5)).astype(np.float32)
    xnan = rng.standard_normal((2, 3, 9, 9))
    xnan[0, 1, 4, 4] = np.nan
    vol = rng.standard_normal((14, 15, 16))
    vol_nan = vol.copy()
    vol_nan[5, 6, 7] = np.nan
    x5 = rng.standard_normal((2, 3, 7, 8, 9)).astype(np.float32)
    w5 = rng.standard_normal((4, 3, 3, 2, 3)).astype(np.float32)
    gappy = np.sin(2 * np.pi * np.arange(800) / 23.0) + 0.3 * rng.standard_normal(800)
    gappy[rng.random(800) < 0.5] = np.nan
    irr_t = np.sort(rng.uniform(0, 300, (2, 250)), axis=1)
    irr_x = np.sin(2 * np.pi * irr_t / 17.0) + 0.2 * rng.standard_normal((2, 250))
    irr_t[1, 200:] = irr_x[1, 200:] = np.nan  # a ragged batch
    long1 = rng.standard_normal(60_000)
    long2 = rng.standard_normal(50_000)
    return {
        "correlate 1-D direct": lambda: sigcorr.correlate(x, x[:40], "same", method="direct"),
        "convolve 2-D float32 direct": lambda: sigcorr.convolve(img, img[:7, :7], "full", method="direct"),
        "correlate batch axes": lambda: sigcorr.correlate(batch[:, :50], batch[:1, :9], "valid", "direct", axes=1),
        "correlate2d symm": lambda: sigcorr.correlate2d(img64, img64[:4, :5], "same", "symm"),
        "correlate NaN": lambda: sigcorr.correlate(nan_img, img[:3, :3], "same", method="direct"),
        **{f"match {m}": (lambda m=m: sigcorr.match_template(img, img[30:46, 40:60], m))
           for m in ("ccoeff_normed", "ccorr_normed", "sqdiff_normed", "ccoeff", "ccorr", "sqdiff")},
        "match float64 colour": lambda: sigcorr.match_template(np.dstack([img64, img64 ** 2]),
                                                               np.dstack([img64, img64 ** 2])[10:30, 5:25]),
        "match NaN": lambda: sigcorr.match_template(nan_img, img[30:46, 40:60]),
        "find_matches": lambda: sigcorr.find_matches(sigcorr.match_template(img, img[30:46, 40:60]),
                                                     max_matches=5, min_distance=3).positions,
        "locate pyramid": lambda: sigcorr.locate(img, img[30:62, 40:72], pyramid_levels=2, max_matches=3).positions,
        "match stack": lambda: sigcorr.match_template(img, np.stack([img[30:46, 40:60], img[5:21, 90:110]])),
        "match omit": lambda: sigcorr.match_template(nan_img, img[30:46, 40:60], nan_policy="omit"),
        "match omit direct": lambda: sigcorr.match_template(nan_img, img[30:35, 40:44], "sqdiff", nan_policy="omit"),
        "locate stack": lambda: sigcorr.locate(img, np.stack([img[30:46, 40:60], img[5:21, 90:110]]),
                                               max_matches=3).template,
        "autocorrelation lanes": lambda: sigcorr.autocorrelation(series, 300, adjusted=True),
        "autocorrelation direct": lambda: sigcorr.autocorrelation(batch, 20, method="direct"),
        "autocorrelation NaN": lambda: sigcorr.autocorrelation(batch, 100),
        "detect_period": lambda: sigcorr.detect_period(series).period,
        "detect_period one": lambda: sigcorr.detect_period(series[0]).candidates,
        "detect_periods": lambda: (sigcorr.detect_periods(two_cycles, max_periods=4).periods,
                                   sigcorr.detect_periods(two_cycles, max_periods=4).strengths),
        "max_pool2d 2x2": lambda: sigcorr.max_pool2d(x4, 2),
        "max_pool2d indices": lambda: sigcorr.max_pool2d(xnan, 3, 2, 1, dilation=1, ceil_mode=True,
                                                         return_indices=True),
        "max_pool1d dilated": lambda: sigcorr.max_pool1d(xnan[0], 3, 2, 1, dilation=2, return_indices=True),
        "avg_pool2d": lambda: sigcorr.avg_pool2d(x4, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        "avg_pool2d 2x2": lambda: sigcorr.avg_pool2d(x4, 2),
        "conv2d": lambda: sigcorr.conv2d(x4, w4, bias=np.arange(6, dtype=np.float32), padding=2),
        "conv2d strided": lambda: sigcorr.conv2d(x4, w4, stride=2, dilation=(1, 2), padding=1),
        "conv1d": lambda: sigcorr.conv1d(x4[:, :, 0], w4[:, :, 0], padding="same"),
        "correlate volume direct": lambda: sigcorr.correlate(vol, vol[:3, :4, :7], "same", method="direct"),
        "convolve volume NaN direct": lambda: sigcorr.convolve(vol_nan, vol[:2, :3, :3], method="direct"),
        "match volume": lambda: sigcorr.match_template(vol.astype(np.float32), vol[3:8, 2:9, 4:10].astype(np.float32),
                                                       channel_axis=None),
        "match volume sqdiff_normed stack NaN": lambda: sigcorr.match_template(
            vol_nan, np.stack([vol[3:8, 2:9, 4:10], vol[1:6, 0:7, 2:8]]), "sqdiff_normed", channel_axis=None),
        "max_pool3d": lambda: sigcorr.max_pool3d(x5, 2),
        "max_pool3d indices": lambda: sigcorr.max_pool3d(x5, 3, 2, 1, return_indices=True),
        "avg_pool3d": lambda: sigcorr.avg_pool3d(x5, (2, 3, 2), 1, (1, 1, 0), count_include_pad=False),
        "conv3d": lambda: sigcorr.conv3d(x5, w5, padding=1),
        "correlate lags one long pair": lambda: sigcorr.correlate(long1, long2, lags=(-70, 90), method="direct"),
        "correlate lags batch": lambda: sigcorr.correlate(batch, batch[::-1], axes=1, lags=30, method="direct"),
        "correlate lags float32 2-D": lambda: sigcorr.correlate(img, img[:60, :50], lags=((-5, 3), 4), method="direct"),
        "crosscorrelation NaN": lambda: sigcorr.crosscorrelation(batch, batch[::-1], 40, adjusted=True),
        "estimate_delay": lambda: sigcorr.estimate_delay(long1, np.roll(long1, 5), max_lag=20).delay,
        "estimate_delay NaN": lambda: sigcorr.estimate_delay(gappy, np.roll(gappy, 3), max_lag=20).delay,
        "detect_period NaN": lambda: (sigcorr.detect_period(gappy).period, sigcorr.detect_period(gappy).support),
        "autocorrelation times": lambda: sigcorr.autocorrelation(irr_x, 40, times=irr_t),
        "autocorrelation times slotted": lambda: sigcorr.autocorrelation(irr_x, 40, times=irr_t, kernel="slotted"),
        "detect_period times": lambda: sigcorr.detect_period(irr_x, times=irr_t).period,
    }


def _flat(v):
    if isinstance(v, tuple):
        return [np.asarray(a, dtype=np.float64) for a in v]
    return [np.asarray(v, dtype=np.float64)]


def test_cold_path_gives_the_warm_answers(monkeypatch, rng):
    calls = _families(rng)
    warm = {name: f() for name, f in calls.items()}
    monkeypatch.setattr(_runtime, "ready", lambda kernel, *args: False)
    for name, f in calls.items():
        cold = f()
        for a, b in zip(_flat(cold), _flat(warm[name])):
            assert a.shape == b.shape, name
            scale = max(1.0, float(np.nanmax(np.abs(b)))) if b.size and np.isfinite(b).any() else 1.0
            tol = 2e-4 if "float32" in name or "match" in name or "pool" in name or "conv" in name \
                or "correlate NaN" in name else 1e-9
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True, err_msg=name)


def test_cold_path_keeps_dtypes_and_leaves_inputs_alone(monkeypatch, rng):
    monkeypatch.setattr(_runtime, "ready", lambda kernel, *args: False)
    img = rng.random((60, 70)).astype(np.float32)
    before = img.copy()
    assert sigcorr.correlate(img, img[:5, :5], method="direct").dtype == np.float32
    assert sigcorr.match_template(img, img[10:20, 10:20]).dtype == np.float32
    assert sigcorr.max_pool2d(img, 2).dtype == np.float32
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_kernel_has_a_reference_twin(name):
    import inspect

    twin = getattr(_twins, name.rsplit(".", 1)[1], None)
    assert callable(twin), name
    # the twin keeps the kernel's arguments, names included
    kernel = REGISTRY[name][0].py_func
    assert list(inspect.signature(twin).parameters) == list(inspect.signature(kernel).parameters), name


def test_python_twin_runs_the_kernel_source():
    from sigcorr._kernels import detect

    S = np.tile(np.cos(2 * np.pi * np.arange(101) / 10.0), (3, 1)) * 50
    out = [np.empty((3, 2)), np.empty((3, 2))]
    _twins.python_twin(detect.detect)(S, 2.0, 40.0, np.full(3, 200.0), np.full(3, 200.0), 3.0, *out)
    np.testing.assert_allclose(out[0][:, 0], 10.0, atol=0.05)


# --- a fresh process with an empty cache ------------------------------------

# the child's inputs (a program run in a fresh process: no rng fixture there);
# any fixed draw does, its checks compare with numpy/scipy and find a crop
CHILD_SEED = 0

FIRST_CALLS = f"""
    CHILD_SEED = {CHILD_SEED}""" + """
    import json, time, numpy as np, scipy.signal as ss, sigcorr
    from sigcorr import _runtime
    from sigcorr._warmup import registry
    rng = np.random.default_rng(CHILD_SEED)
    x = rng.standard_normal(5000)
    img = rng.random((200, 220)).astype(np.float32)
    t = np.arange(512)
    series = np.sin(2 * np.pi * t / 23.0) + 0.3 * rng.standard_normal((200, 512))
    x4 = rng.standard_normal((2, 3, 30, 30)).astype(np.float32)
    w4 = rng.standard_normal((6, 3, 5, 5)).astype(np.float32)
    ok = {}
    ok["convolve"] = bool(np.allclose(sigcorr.convolve(x, x[:64], method="direct"), np.convolve(x, x[:64])))
    s = sigcorr.match_template(img, img[50:80, 60:90])
    ok["match"] = tuple(np.unravel_index(np.argmax(s), s.shape)) == (50, 60)
    ok["locate"] = sigcorr.locate(img, img[50:82, 60:92], pyramid_levels=2).positions.tolist() == [[50.0, 60.0]]
    r = sigcorr.autocorrelation(series, 100)
    ok["autocorrelation"] = bool(np.allclose(r[:, 0], 1.0))
    ok["detect_period"] = bool(np.all(np.abs(sigcorr.detect_period(series).period - 23.0) < 0.3))
    ok["pool"] = bool(np.array_equal(sigcorr.max_pool2d(x4, 2), x4.reshape(2, 3, 15, 2, 15, 2).max(axis=(3, 5))))
    y = sigcorr.conv2d(x4, w4)
    ref = np.stack([sum(ss.correlate(x4[0, c], w4[o, c], "valid") for c in range(3)) for o in range(6)])
    ok["conv2d"] = bool(np.allclose(y[0], ref, atol=1e-4))
    compiled = {n: sum(d._cache_misses.values()) for n, (d, _) in registry().items()}
    started = _runtime._bg["proc"] is not None
    _runtime.stop_background_compile(timeout=0)
    print(json.dumps({"ok": ok, "compiled_here": compiled, "background": started}))
"""


def test_first_call_of_every_family_is_answered_cold_and_right(tmp_path):
    res = _run(FIRST_CALLS, tmp_path, {"SIGCORR_BACKGROUND_COMPILE": "1"})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert all(out["ok"].values()), out["ok"]
    assert not any(out["compiled_here"].values()), out["compiled_here"]  # nothing compiled in the caller
    assert out["background"]


def test_background_compile_fills_the_cache_and_takes_a_lock(tmp_path):
    # no clock: a second compiler finding the lock taken must compile nothing
    # (the cache stays empty while this process holds the lock)
    code = """
        import fcntl, glob, os, subprocess, sys, time, numpy as np
        from sigcorr import _runtime
        from sigcorr._kernels._jit import cache_dir
        from sigcorr._kernels.memory import touch_pages
        folder = cache_dir()
        os.makedirs(folder, exist_ok=True)
        lock_path = os.path.join(folder, "sigcorr-compile.lock")

        def lock_taken():
            with open(lock_path, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return True
                fcntl.flock(f, fcntl.LOCK_UN)
                return False

        with open(lock_path, "a") as held:  # another compiler holds the lock
            fcntl.flock(held, fcntl.LOCK_EX)
            rc = subprocess.run([sys.executable, "-m", "sigcorr._warmup", "--background"], timeout=120).returncode
            print("SECOND", rc, glob.glob(os.path.join(folder, "*.nbi")))
        buf = np.zeros(1 << 20, np.uint8)
        assert not _runtime.ready(touch_pages, buf, 4096)      # starts the compiler, touch_pages first
        locked = False
        deadline = time.monotonic() + 240
        while not _runtime.ready(touch_pages, buf, 4096) and time.monotonic() < deadline:
            locked = locked or lock_taken()
            time.sleep(0.2)
        print("LOCKED", locked or lock_taken())                # it still compiles the others
        print("LOADED", touch_pages.signatures != [] and sum(touch_pages._cache_misses.values()) == 0)
        _runtime.stop_background_compile(timeout=0)
    """
    res = _run(code, tmp_path, {"SIGCORR_BACKGROUND_COMPILE": "1"})
    assert res.returncode == 0, res.stderr
    assert "SECOND 0 []" in res.stdout
    assert "LOCKED True" in res.stdout
    assert "LOADED True" in res.stdout


def test_background_compile_off_compiles_in_the_foreground(tmp_path):
    code = """
        import numpy as np, sigcorr
        from sigcorr import _runtime
        from sigcorr._kernels import pool
        y = sigcorr.max_pool2d(np.arange(16.0).reshape(4, 4), 2)
        print("RESULT", y.tolist(), "COMPILED", sum(pool.max_pool_2x2._cache_misses.values()),
              "BACKGROUND", _runtime._bg["proc"] is not None)
    """
    res = _run(code, tmp_path, {"SIGCORR_BACKGROUND_COMPILE": "0"})
    assert res.returncode == 0, res.stderr
    assert "RESULT [[5.0, 7.0], [13.0, 15.0]] COMPILED 1 BACKGROUND False" in res.stdout


# --- caches that cannot be written ------------------------------------------

UNWRITABLE = """
    import os, tempfile, warnings
    warnings.simplefilter("always")
    tempfile.tempdir = os.environ["TMPDIR"]  # (tempfile would skip an unusable TMPDIR)
    from numba.core import caching
    # as a read-only site-packages without a home directory looks to numba
    for cls in (caching.InTreeCacheLocator, caching.UserWideCacheLocator):
        cls.from_function = classmethod(lambda cls, f, p: None)
    with warnings.catch_warnings(record=True) as caught:
        import numpy as np, sigcorr
        y = sigcorr.max_pool2d(np.arange(16.0).reshape(4, 4), 2)
        z = sigcorr.avg_pool2d(np.arange(16.0).reshape(4, 4), 2)
    from sigcorr._kernels._jit import cache_dir
    print("RESULT", y.tolist(), z.tolist())
    print("CACHE", cache_dir())
    print("WARNINGS", len([w for w in caught if "sigcorr" in str(w.message)]))
"""


def test_no_writable_package_or_user_cache_uses_a_temporary_one(tmp_path):
    env = {"SIGCORR_BACKGROUND_COMPILE": "0", "TMPDIR": str(tmp_path / "tmp"), "NUMBA_CACHE_DIR": ""}
    (tmp_path / "tmp").mkdir()
    res = _run(UNWRITABLE, tmp_path, env)
    assert res.returncode == 0, res.stderr
    assert "RESULT [[5.0, 7.0], [13.0, 15.0]] [[2.5, 4.5], [10.5, 12.5]]" in res.stdout
    assert f"CACHE {tmp_path / 'tmp'}" in res.stdout
    assert "WARNINGS 1" in res.stdout


def test_no_writable_folder_at_all_still_answers(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {"SIGCORR_BACKGROUND_COMPILE": "1", "TMPDIR": str(blocker), "NUMBA_CACHE_DIR": ""}
    res = _run(UNWRITABLE, tmp_path, env)
    assert res.returncode == 0, res.stderr
    assert "RESULT [[5.0, 7.0], [13.0, 15.0]] [[2.5, 4.5], [10.5, 12.5]]" in res.stdout
    assert "CACHE None" in res.stdout
    assert "WARNINGS 1" in res.stdout


def test_warmup_command_reports_the_cache(tmp_path):
    env = {k: v for k, v in os.environ.items()}
    res = subprocess.run([sys.executable, "-m", "sigcorr", "warmup", "--json", "--processes", "1"],
                         capture_output=True, text=True,
                         timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["kernels"] == len(REGISTRY)
    assert info["cache"] and os.path.isdir(info["cache"])
