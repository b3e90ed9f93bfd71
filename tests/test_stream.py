"""sigcorr.stream: chunked pushes equal the offline call, for any chunking.

Every object is fed random chunkings (hypothesis draws the chunk sizes:
empty chunks, single samples, chunks shorter than the kernel) and the
concatenated outputs are compared with the offline sigcorr call on the whole
signal: 1e-10 relative in float64, the offline tolerance in float32.
"""

import pickle

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import sigcorr
from sigcorr import stream

SETTINGS = settings(max_examples=20, deadline=None)
CHUNKS = st.lists(st.integers(0, 40), min_size=1, max_size=5)
FLOATS = [np.float32, np.float64]


def _tol(dtype):
    return 2e-4 if np.dtype(dtype) == np.float32 else 1e-10


def _close(got, want, dtype):
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    scale = max(1.0, float(np.nanmax(np.abs(want)))) if want.size and not np.isnan(want).all() else 1.0
    np.testing.assert_allclose(got, want, rtol=_tol(dtype), atol=_tol(dtype) * scale)


def _fed(s, x, sizes, axis=-1):
    """Every output of ``s`` fed ``x`` in chunks of ``sizes`` (cycled), flushed,
    joined along ``axis``."""
    parts, i, k = [s.push(x[..., :0])], 0, 0  # (an empty chunk first: it fixes the channels)
    n = x.shape[-1]
    while i < n:
        c = sizes[k % len(sizes)]
        k += 1
        if c == 0 and k > 3 * len(sizes):
            c = 1  # (all-zero sizes: move on)
        parts.append(s.push(x[..., i:i + c]))
        i += c
    parts.append(s.flush())
    return np.concatenate(parts, axis=axis)


# ---------------------------------------------------------------------------
# Correlate, Convolve
# ---------------------------------------------------------------------------


@SETTINGS
@given(CHUNKS, st.sampled_from(["valid", "same", "full"]), st.sampled_from([1, 2, 5, 8, 17]),
       st.sampled_from([(), (2,), (2, 3)]), st.integers(0, 90), st.sampled_from(FLOATS), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_correlate_convolve_equal_offline(sizes, mode, m, lead, n, dtype, conv, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + (n,)).astype(dtype)
    h = rng.standard_normal(m).astype(dtype)
    cls, offline = (stream.Convolve, sigcorr.convolve) if conv else (stream.Correlate, sigcorr.correlate)
    got = _fed(cls(h, mode), x, sizes)
    if n == 0:
        assert got.shape == lead + (0,)
        return
    want = offline(x, h.reshape((1,) * len(lead) + (m,)), mode=mode, axes=-1)
    _close(got, want, dtype)


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_long_chunks_and_nan(mode, rng):
    # 100,000-sample chunks (the FFT path for a long kernel) beside single
    # samples; NaN reaches only its windows
    x = rng.standard_normal((2, 200_003))
    x[0, 123_456] = np.nan
    for m in (3, 700):
        h = rng.standard_normal(m)
        got = _fed(stream.Correlate(h, mode), x, [100_000, 1, 2])
        _close(got, sigcorr.correlate(x, h[None], mode=mode, axes=-1), np.float64)


def test_fir_equals_lfilter(rng):
    h, x = rng.standard_normal(64), rng.standard_normal(10_000)
    fir = stream.Convolve(h, "full")
    y = np.concatenate([fir.push(x[i:i + 1024]) for i in range(0, x.size, 1024)])
    np.testing.assert_allclose(y, ss.lfilter(h, 1, x), rtol=1e-10, atol=1e-10)
    assert fir.flush().shape == (63,)


def test_output_returned_by_the_push_that_completes_it(rng):
    h = rng.standard_normal(5)
    s = stream.Correlate(h, "valid")
    assert [s.push(np.ones(1)).size for _ in range(6)] == [0, 0, 0, 0, 1, 1]
    s = stream.Correlate(h, "full")
    assert s.push(np.ones(1)).size == 1
    s = stream.Correlate(h, "same")  # 'same' starts (m - 1) // 2 samples in
    assert [s.push(np.ones(1)).size for _ in range(4)] == [0, 0, 1, 1]
    assert s.flush().size == 2


def test_reset_copy_pickle(rng):
    x, h = rng.standard_normal((3, 500)), rng.standard_normal(9)
    want = sigcorr.convolve(x, h[None], mode="full", axes=-1)
    s = stream.Convolve(h, "full")
    first = s.push(x[:, :200])
    fork = s.copy()
    moved = pickle.loads(pickle.dumps(s))
    assert len(pickle.dumps(s)) < 2048  # the state is the kernel's span, not the stream (nor code)
    for t in (s, fork, moved):
        _close(np.concatenate([first, t.push(x[:, 200:]), t.flush()], axis=-1), want, np.float64)
    s.reset()
    _close(_fed(s, x, [77]), want, np.float64)


def test_float32_stays_float32_and_dtype_is_fixed(rng):
    s = stream.Correlate(np.ones(3, np.float32))
    assert s.push(np.ones(5, np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="float64.*float32"):
        s.push(np.ones(5))
    s = stream.Correlate(np.ones(3), dtype=np.float32)  # (dtype= fixes it up front: float64 with a float64 kernel)
    assert s.dtype == np.float64
    s = stream.Correlate(np.ones(3))
    assert s.push(np.arange(5)).dtype == np.float64  # integers compute in float64


def test_bad_input():
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        stream.Correlate(np.ones(3), "middle")
    with pytest.raises(ValueError, match="kernel must be 1-D"):
        stream.Convolve(np.ones((2, 3)))
    with pytest.raises(TypeError, match="kernel"):
        stream.Convolve(np.ones(3) * 1j)
    s = stream.Correlate(np.ones(3))
    s.push(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"leading shape \(3,\) \(3 channels\).*\(2,\) \(2 channels\)"):
        s.push(np.ones((3, 4)))
    with pytest.raises(ValueError, match="scalar"):
        s.push(1.0)
    with pytest.raises(TypeError, match="chunk must be real"):
        s.push(np.ones((2, 4), complex))
    s.flush()
    with pytest.raises(ValueError, match="push after flush"):
        s.push(np.ones((2, 4)))
    with pytest.raises(ValueError, match="already"):
        s.flush()
    s.reset()
    assert s.push(np.ones((3, 4))).shape == (3, 2)  # a new stream: new channels


# ---------------------------------------------------------------------------
# MatchTemplate
# ---------------------------------------------------------------------------

METHODS = ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed"]


@SETTINGS
@given(CHUNKS, st.sampled_from(METHODS), st.sampled_from([1, 4, 13]), st.sampled_from([(), (2,)]),
       st.integers(0, 90), st.sampled_from(FLOATS), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_match_template_equals_offline(sizes, method, m, lead, n, dtype, stack, masked, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(lead + (n,)) + 3).astype(dtype)
    if n > 30:
        x[..., 10:30] = 2.5  # a flat stretch: degenerate windows
        x[..., n // 2] = np.nan
    tpl = rng.standard_normal((3, m) if stack else (m,)).astype(dtype)
    mask = rng.random(m) if masked else None
    got = _fed(stream.MatchTemplate(tpl, method, mask=mask), x, sizes)
    if n < m:
        assert got.shape == lead + tpl.shape[:-1] + (0,)
        return
    rows = x.reshape(-1, n)
    want = np.stack([sigcorr.match_template(r, tpl, method, mask=mask, stack=stack) for r in rows]).reshape(got.shape)
    _close(got, want, dtype)


def test_match_template_nan_template_and_errors(rng):
    x = rng.standard_normal(50)
    tpl = np.stack([x[5:10], x[20:25]])
    tpl[1, 2] = np.nan
    got = _fed(stream.MatchTemplate(tpl), x, [7])
    _close(got, sigcorr.match_template(x, tpl), np.float64)
    assert np.isnan(got[1]).all() and not np.isnan(got[0]).any()
    with pytest.raises(ValueError, match="Acceptable|method"):
        stream.MatchTemplate(x[:5], "sad")
    with pytest.raises(ValueError, match="mask must have the template's shape"):
        stream.MatchTemplate(x[:5], mask=np.ones(4))
    with pytest.raises(ValueError, match="template must be 1-D"):
        stream.MatchTemplate(np.ones((2, 2, 2)))
    s = stream.MatchTemplate(x[:5].astype(np.float32))
    s.push(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="float64"):
        s.push(np.ones(3))


# ---------------------------------------------------------------------------
# PeriodTracker
# ---------------------------------------------------------------------------


def _period_series(rng, lead, n):
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / np.where(t < n // 2, 9.0, 13.5)) + 0.3 * rng.standard_normal(lead + (n,))
    if n > 100:
        x[..., 70:73] = np.nan  # missing samples: the gappy detector
        x[..., 90] += 40.0  # a spike
    return x


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 80), min_size=1, max_size=4), st.sampled_from([(64, 16), (60, 25), (40, 70)]),
       st.sampled_from([(), (2,)]), st.integers(0, 260), st.integers(0, 2**32 - 1))
def test_period_tracker_equals_detect_period(sizes, wh, lead, n, seed):
    window, hop = wh
    rng = np.random.default_rng(seed)
    x = _period_series(rng, lead, n)
    rows = _fed(stream.PeriodTracker(window, hop, max_period=20), x, sizes, axis=-2)
    ends = np.arange(window, n + 1, hop)
    assert rows.shape == lead + (ends.size, 3)
    np.testing.assert_array_equal(rows[..., 0], np.broadcast_to(ends, lead + ends.shape))
    for k, end in enumerate(ends):
        res = sigcorr.detect_period(x[..., end - window:end], max_period=20)
        for got, want in ((rows[..., k, 1], res.period), (rows[..., k, 2], res.strength)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_period_tracker_state_and_errors(rng):
    x = _period_series(rng, (), 400)
    s = stream.PeriodTracker(128, 32, fs=2.0)
    head = s.push(x[:200])
    fork, moved = s.copy(), pickle.loads(pickle.dumps(s))
    assert len(pickle.dumps(s)) < 128 * 8 + 2048  # the last window, not the stream
    want = np.concatenate([head, s.push(x[200:]), s.flush()])
    assert want.shape == (9, 3)
    for t in (fork, moved):
        np.testing.assert_array_equal(np.concatenate([head, t.push(x[200:]), t.flush()]), want)
    res = sigcorr.detect_period(x[384 - 128:384], fs=2.0)  # (the last window: 128 + 8 hops of 32)
    np.testing.assert_allclose(want[-1, 1:], [res.period, res.strength], rtol=1e-10)
    s.reset()  # (the same chunks: the lag sums slide the same way, to the bit)
    np.testing.assert_array_equal(np.concatenate([s.push(x[:200]), s.push(x[200:]), s.flush()]), want)
    for bad in ({"window": 0, "hop": 4}, {"window": 64, "hop": 0}, {"window": 64, "hop": -3}):
        with pytest.raises(ValueError, match="window|hop"):
            stream.PeriodTracker(**bad)
    with pytest.raises(ValueError, match="too short to hold two cycles"):
        stream.PeriodTracker(10, 2, min_period=6)
    with pytest.raises(ValueError, match="push after flush"):
        s.push(x)


@pytest.mark.parametrize("window, hop", [(2048, 512), (2048, 256)])
def test_period_tracker_block_spectra(window, hop, rng):
    # windows long enough for the blocks' pairs to go by FFT (their spectra
    # kept with the lag sums): every row still equals detect_period's, over
    # random chunks, a level shift (the reference moves), missing samples and
    # a spike, and a pickled tracker goes on to the bit
    s = stream.PeriodTracker(window, hop)
    assert s._N > 0  # (the FFT path: _block_plan)
    n = 8000
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / np.where(t < 4000, 23.0, 61.5)) + 0.4 * rng.standard_normal(n) + 30.0 * (t > 5500)
    x[3100:3104] = np.nan
    x[4700] += 50.0
    sizes = list(rng.integers(1, 2 * hop, 7)) + [hop] * 5
    rows = _fed(s, x, sizes, axis=-2)
    ends = np.arange(window, n + 1, hop)
    np.testing.assert_array_equal(rows[:, 0], ends)
    for k, end in enumerate(ends):
        res = sigcorr.detect_period(x[end - window:end])
        np.testing.assert_allclose(rows[k, 1:], [res.period, res.strength], rtol=1e-10, atol=1e-12)
    s = stream.PeriodTracker(window, hop)
    cut = 4000 // hop * hop
    head = np.concatenate([s.push(x[i:i + hop]) for i in range(0, cut, hop)])
    moved = pickle.loads(pickle.dumps(s))
    assert len(pickle.dumps(s)) < window * 8 + 2048  # the last window, not the ring nor the spectra
    tail = [np.concatenate([t_.push(x[i:i + hop]) for i in range(cut, n, hop)]) for t_ in (s, moved)]
    np.testing.assert_array_equal(tail[0], tail[1])
    np.testing.assert_array_equal(np.concatenate([head, tail[0]]), rows[:len(head) + len(tail[0])])


# ---------------------------------------------------------------------------
# the command line: sigcorr match --stream, sigcorr period --follow
# ---------------------------------------------------------------------------


def _cli(monkeypatch, capsys, argv, text):
    import io

    from sigcorr.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_match_stream_and_period_follow(monkeypatch, capsys, tmp_path, rng):
    t = np.arange(600)
    x = np.sin(2 * np.pi * t / 25) + 0.2 * rng.standard_normal(600)
    x[300] = np.nan
    np.save(tmp_path / "t.npy", x[100:140])
    lines = "time,value\n" + "".join(f"{i},{'' if np.isnan(v) else repr(float(v))}\n" for i, v in enumerate(x))
    rc, out, _ = _cli(monkeypatch, capsys, ["match", "--stream", "--template", str(tmp_path / "t.npy"),
                                            "--column", "value", "--jsonl"], lines)
    import json

    got = [json.loads(ln) for ln in out.splitlines()]
    want = sigcorr.match_template(x, x[100:140])
    assert rc == 0 and [g["index"] for g in got] == list(range(want.size))
    np.testing.assert_allclose([np.nan if g["scores"][0] is None else g["scores"][0] for g in got], want,
                               rtol=1e-10, atol=1e-12)
    rc, out, _ = _cli(monkeypatch, capsys, ["match", "--stream", "--template", str(tmp_path / "t.npy"),
                                            "--threshold", "0.99"], "\n".join(map(str, x[:200])))
    assert rc == 0 and [ln.split("\t")[0] for ln in out.splitlines()] == ["100"]
    rc, out, _ = _cli(monkeypatch, capsys, ["period", "--follow", "--window", "128", "--hop", "64", "--json"], lines)
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert rc == 0 and [r["end"] for r in rows] == list(range(128, 601, 64))
    res = sigcorr.detect_period(x[rows[-1]["end"] - 128:rows[-1]["end"]])
    assert rows[-1]["period"] == pytest.approx(res.period, rel=1e-10)
    rc, _, err = _cli(monkeypatch, capsys, ["period", "--follow"], "1\nabc\n")
    assert rc != 0 and "stdin line 2: not a number" in err
    rc, _, err = _cli(monkeypatch, capsys, ["match", "--stream"], "1\n")
    assert rc != 0 and "--stream needs one --template" in err


# ---------------------------------------------------------------------------
# MatchedFilter
# ---------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(CHUNKS, st.sampled_from([1, 3]), st.sampled_from([5, 12]), st.integers(0, 120), st.sampled_from(FLOATS),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_matched_filter_equals_offline(sizes, C, m, n, dtype, moved, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((C, n)).astype(dtype)
    if n > 40:
        x[0, n // 2] = np.nan
    tpl = rng.standard_normal((2, C, m))
    mv = rng.integers(0, 4, (2, C)) if moved else None
    w = rng.random((2, C)) + 0.1
    data = x if C > 1 else x[0]
    templates = tpl if C > 1 else tpl[:, 0]
    got = _fed(stream.MatchedFilter(templates, moveouts=mv, weights=w), data, sizes)
    span = m + (0 if mv is None else int(mv.max()))
    if n < span:
        assert got.shape == (2, 0)
        return
    want = sigcorr.matched_filter(x, tpl, moveouts=mv, weights=w)
    _close(got, want, dtype)


def test_matched_filter_errors():
    mf = stream.MatchedFilter(np.ones((2, 3, 5)) + np.arange(5))
    with pytest.raises(ValueError, match="3 channel"):
        mf.push(np.ones((2, 10)))
    assert mf.push(np.ones((3, 10)) + np.arange(10)).shape == (2, 6)  # (a refused chunk fixed nothing)
    with pytest.raises(ValueError, match="method"):
        stream.MatchedFilter(np.ones((2, 3, 5)), method="ccorr")
