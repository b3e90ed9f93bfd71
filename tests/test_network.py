"""sigcorr.matched_filter, mad_threshold and find_matches(rows=True) against
the float64 naive twin (tests/naive.py), on both cross-term paths."""

import dataclasses

import numpy as np
import pytest

import naive
import sigcorr
from sigcorr import _costs

# the cost model pinned to one path (the tests never depend on the prices)
PATHS = {
    "direct": dataclasses.replace(_costs.DEFAULTS, fft_parallel_ns=1e9, fft_call_ns=1e15),
    "fft": dataclasses.replace(_costs.DEFAULTS, direct_ns={4: 1e9, 8: 1e9}),
}
TOL = {np.float64: 1e-9, np.float32: 2e-4}


def _network(rng, C=3, N=500, T=3, m=24, max_mv=20):
    x = rng.standard_normal((C, N))
    tpl = rng.standard_normal((T, C, m))
    mv = rng.integers(0, max_mv + 1, (T, C))
    w = rng.random((T, C)) + 0.2
    return x, tpl, mv, w


def _check(out, ref, dtype):
    assert out.dtype == dtype and out.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    assert np.nanmax(np.abs(out - ref)) <= TOL[dtype]


@pytest.mark.parametrize("path", ["direct", "fft"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_naive_with_gaps_flat_channels_weights_and_step(rng, path, dtype):
    x, tpl, mv, w = _network(rng)
    x[1, 100:104] = np.nan  # a gap: channel 1 drops from the windows over it
    x[2, 250:330] = 7.0  # a flat-lined stretch: windows inside it score 0
    x[:, 400:410] = np.nan  # every channel missing: NaN
    x[0] += 1e3  # an offset (the windows are centred on float64 sums)
    tpl[1, 2] = 0.5  # a flat template channel scores 0 everywhere
    data = x.astype(dtype)
    with _costs.pinned(PATHS[path]):
        for step in (1, 4):
            ref = naive.matched_filter(data, tpl, mv, w, step)
            out = sigcorr.matched_filter(data, tpl, moveouts=mv, weights=w, step=step)
            _check(out, ref, dtype)
    assert np.isnan(out).any() and not np.isnan(out).all()


@pytest.mark.parametrize("path", ["direct", "fft"])
def test_one_channel_and_default_moveouts(rng, path):
    x = rng.standard_normal(300)
    tpl = np.stack([x[40:70], x[200:230]])  # (T, m) for one channel
    with _costs.pinned(PATHS[path]):
        out = sigcorr.matched_filter(x, tpl)
    _check(out, naive.matched_filter(x, tpl), np.float64)
    assert out.shape == (2, 271) and np.argmax(out[0]) == 40 and np.argmax(out[1]) == 200
    assert out[0, 40] == pytest.approx(1.0)


def test_zero_weights_drop_a_channel_and_all_flat_scores_zero(rng):
    x, tpl, mv, _ = _network(rng, T=1)
    w = np.array([[1.0, 0.0, 2.0]])
    x[1] = np.nan  # a dead channel of weight 0 changes nothing
    out = sigcorr.matched_filter(x, tpl, moveouts=mv, weights=w)
    _check(out, naive.matched_filter(x, tpl, mv, w), np.float64)
    flat = np.full((2, 100), 3.0)
    assert not sigcorr.matched_filter(flat, np.ones((1, 2, 10)) + np.arange(10)).any()


def test_float32_over_a_day_at_100hz(rng):
    # 8.64 M float32 samples with a large offset: float64 window sums keep
    # the scores within 2e-4 of float64 truth (checked on a strided subset)
    N, m = 8_640_000, 40
    x = (rng.standard_normal(N) + 5e3).astype(np.float32)
    tpl = x[None, 4_000_000:4_000_000 + m].astype(np.float64)
    out = sigcorr.matched_filter(x, tpl)
    assert out.dtype == np.float32 and out.shape == (1, N - m + 1)
    idx = np.concatenate([np.arange(0, N - m + 1, 99_991), [4_000_000, N - m]])
    tc = tpl[0] - tpl[0].mean()
    win = x[idx[:, None] + np.arange(m)].astype(np.float64)
    win -= win.mean(axis=1, keepdims=True)
    ref = win @ tc / np.sqrt((win * win).sum(axis=1) * (tc * tc).sum())
    assert np.abs(out[0, idx] - ref).max() <= 2e-4
    assert np.abs(out).max() <= 1.0 and out[0, 4_000_000] == pytest.approx(1.0, abs=1e-5)


def test_implanted_events_found_at_8_mad(rng):
    # 24 events of 6 templates (6 channels, moveouts), implanted in noise:
    # every one found at its sample, nothing else, at 8 x MAD
    C, N, m = 6, 200_000, 200
    tpl = rng.standard_normal((6, C, m))
    mv = rng.integers(0, 80, (6, C))
    data = rng.standard_normal((C, N)).astype(np.float32)
    times = np.sort(rng.choice(np.arange(1000, N - 1000, 4000), 24, replace=False))
    which = np.arange(24) % 6
    for t, i in zip(which, times):
        for c in range(C):
            data[c, i + mv[t, c]:i + mv[t, c] + m] += 0.5 * tpl[t, c]
    scores = sigcorr.matched_filter(data, tpl, moveouts=mv)
    thr = sigcorr.mad_threshold(scores, 8)
    found = sigcorr.find_matches(scores, threshold=thr, min_distance=m, rows=True)
    got = sorted(zip(found.template.tolist(), found.times.tolist()))
    assert got == sorted(zip(which.tolist(), times.tolist()))
    assert found.positions.shape == (24, 1)


def test_find_matches_rows_per_row_thresholds_and_across():
    s = np.zeros((2, 50))
    s[0, 10], s[1, 11], s[1, 30], s[0, 40] = 0.9, 0.8, 0.5, 0.3
    m = sigcorr.find_matches(s, threshold=[0.2, 0.6], min_distance=3, rows=True)
    assert list(zip(m.template.tolist(), m.times.tolist(), m.scores.tolist())) == [(0, 10, 0.9), (1, 11, 0.8),
                                                                                 (0, 40, 0.3)]
    m = sigcorr.find_matches(s, threshold=0.4, min_distance=3, rows=True, across=True)
    assert list(zip(m.template.tolist(), m.times.tolist())) == [(0, 10), (1, 30)]
    m = sigcorr.find_matches(s, threshold=[np.nan, 0.1], rows=True, max_matches=1)
    assert m.template.tolist() == [1] and m.times.tolist() == [11]
    with pytest.raises(ValueError, match="one per row"):
        sigcorr.find_matches(s, threshold=[0.1, 0.2, 0.3], rows=True)


def test_mad_threshold():
    s = np.array([[0.0, 1, -1, 2, -2, 0.5, np.nan], [1, 1, 1, 1, 1, 1, 1]])
    np.testing.assert_allclose(sigcorr.mad_threshold(s, 8), [8.0, 0.0])
    assert sigcorr.mad_threshold(np.array([1.0, 3.0, 5.0]), 2) == 4.0
    assert np.isnan(sigcorr.mad_threshold(np.full((1, 3), np.nan), 8)[0])
    with pytest.raises(ValueError, match="k"):
        sigcorr.mad_threshold(s, 0)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(moveouts=[[0, -1]]), ValueError, "moveouts must be >= 0"),
    (dict(moveouts=[[0, 1.5]]), ValueError, "whole numbers"),
    (dict(moveouts=[[0, 1, 2]]), ValueError, "moveouts must have shape"),
    (dict(moveouts=[[True, False]]), TypeError, "moveouts"),
    (dict(weights=[[1, 1, 1]]), ValueError, "weights must have shape"),
    (dict(weights=[[1, -1]]), ValueError, "weights must be finite and >= 0"),
    (dict(weights=[[0, 0]]), ValueError, "template 0 are all zero"),
    (dict(moveouts=[[0, 95]]), ValueError, "longer than the data"),
    (dict(method="ccorr"), ValueError, "method"),
    (dict(step=0), ValueError, "step"),
])
def test_bad_inputs(kwargs, error, words):
    data = np.zeros((2, 100))
    with pytest.raises(error, match=words):
        sigcorr.matched_filter(data, np.ones((1, 2, 10)), **kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="3 channels but data has 2"):
        sigcorr.matched_filter(np.zeros((2, 100)), np.ones((1, 3, 10)))
    with pytest.raises(ValueError, match="longer than the data"):
        sigcorr.matched_filter(np.zeros((2, 10)), np.ones((1, 2, 11)))
    with pytest.raises(ValueError, match=r"\(T, C, m\)"):
        sigcorr.matched_filter(np.zeros((2, 100)), np.ones((2, 10)))
    with pytest.raises(ValueError, match="finite"):
        sigcorr.matched_filter(np.zeros((1, 100)), np.full((1, 1, 10), np.nan))
    with pytest.raises(TypeError, match="data"):
        sigcorr.matched_filter(np.zeros((1, 100), dtype=complex), np.ones((1, 1, 10)))


def test_inputs_not_modified(rng):
    x, tpl, mv, w = _network(rng)
    x[0, 5] = np.nan
    before = (x.copy(), tpl.copy(), mv.copy(), w.copy())
    sigcorr.matched_filter(x, tpl, moveouts=mv, weights=w)
    for a, b in zip(before, (x, tpl, mv, w)):
        np.testing.assert_array_equal(a, b)


def test_dask_equals_in_memory(rng):
    pytest.importorskip("dask")
    import sigcorr.dask

    x, tpl, mv, w = _network(rng, N=900, T=2, m=30, max_mv=40)
    x[1, 300:305] = np.nan
    for step, chunks in ((1, (3, 100)), (3, (3, 250)), (4, (3, 899))):
        ref = sigcorr.matched_filter(x, tpl, moveouts=mv, weights=w, step=step)
        lazy = sigcorr.dask.matched_filter(x, tpl, moveouts=mv, weights=w, step=step, chunks=chunks)
        assert lazy.shape == ref.shape
        np.testing.assert_allclose(lazy.compute(scheduler="sync"), ref, rtol=0, atol=1e-9)



def _detect_files(tmp_path, rng):
    x = rng.standard_normal((3, 6000)).astype(np.float32)
    tpl = rng.standard_normal((2, 3, 80))
    mv = np.array([[0, 10, 20], [5, 0, 3]])
    events = [(0, 1000), (1, 2500), (0, 4500)]
    for t, i in events:
        for c in range(3):
            x[c, i + mv[t, c]:i + mv[t, c] + 80] += tpl[t, c]
    for name, arr in (("x", x), ("t", tpl), ("m", mv)):
        np.save(tmp_path / f"{name}.npy", arr)
    return x, events


def test_cli_detect_npy_csv_and_errors(tmp_path, rng, capsys):
    import json

    from sigcorr.cli import main

    x, events = _detect_files(tmp_path, rng)
    args = ["--templates", str(tmp_path / "t.npy"), "--moveouts", str(tmp_path / "m.npy")]
    assert main(["detect", str(tmp_path / "x.npy"), *args, "--jsonl", "--fs", "100"]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [(d["template"], d["sample"]) for d in lines] == events
    assert all(d["mad"] > 8 and d["time"] == d["sample"] / 100 for d in lines)
    np.savetxt(tmp_path / "x.csv", x.T, delimiter=",", header="z,n,e", comments="")
    assert main(["detect", str(tmp_path / "x.csv"), *args]) == 0
    out = capsys.readouterr()
    assert out.out.count("template ") == 3 and "3 detections" in out.err
    assert main(["detect", str(tmp_path / "x.npy"), "--templates", str(tmp_path / "m.npy")]) == 1
    assert "channels" in capsys.readouterr().err


def test_cli_detect_miniseed(tmp_path, rng, capsys):
    obspy = pytest.importorskip("obspy")
    import json

    from sigcorr.cli import main

    x, events = _detect_files(tmp_path, rng)
    x[1, 3000:3100] = np.nan  # a gap in one channel
    start = obspy.UTCDateTime(2024, 1, 1)
    traces = []
    for c in range(3):
        for a, b in ((0, 3000), (3100, 6000)) if c == 1 else ((0, 6000),):
            traces.append(obspy.Trace(x[c, a:b].copy(), header=dict(station="ST", channel="HH" + "ZNE"[c],
                                                                    sampling_rate=100.0, starttime=start + a / 100)))
    obspy.Stream(traces).write(str(tmp_path / "x.mseed"), format="MSEED")
    assert main(["detect", str(tmp_path / "x.mseed"), "--templates", str(tmp_path / "t.npy"), "--moveouts",
                 str(tmp_path / "m.npy"), "--jsonl"]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [(d["template"], d["sample"]) for d in lines] == events
    assert lines[0]["time"] == "2024-01-01T00:00:10.000000Z"


def test_bank_on_slices_equals_one_call(rng):
    # the engine a stream builds on: consecutive slices (each carrying the
    # last span - 1 samples over) with the decimation phase give the one-call scores
    from sigcorr import _network as engine

    x, tpl, mv, w = _network(rng, N=700, T=2, m=20, max_mv=15)
    bank = engine.Bank(tpl, mv, w, np.dtype(np.float64))
    span = bank.span
    for method in ("direct", "fft"):
        full = bank.scores(x, 3, method=method)
        parts = [bank.scores(x[:, a:b + span - 1], 3, phase=a, method=method)
                 for a, b in ((0, 250), (250, 401), (401, 700 - span + 1))]
        np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=0, atol=1e-12)


def test_scale_free(rng):
    x, tpl, mv, _ = _network(rng, T=1)
    ref = sigcorr.matched_filter(x, tpl, moveouts=mv)
    for dtype, k in ((np.float64, 1e300), (np.float64, 1e-300), (np.float32, 1e30), (np.float32, 1e-30)):
        out = sigcorr.matched_filter((x * k).astype(dtype), tpl * k, moveouts=mv)
        assert np.abs(out - ref).max() <= TOL[dtype]
