"""times= (issue 24): the kernel-estimator autocorrelation of irregular
samples (its kernel against the naive twin: test_kernels.py), its invariances, and detect_period(s) on
irregular times."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigcorr


def _irregular(rng, n, span):
    return rng.uniform(0, span, n)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 60), st.sampled_from(["gaussian", "slotted"]), st.integers(0, 2**32 - 1))
def test_kernel_acf_bounded_and_order_free(n, kernel, seed):
    rng = np.random.default_rng(seed)
    t = _irregular(rng, n, 50.0)
    x = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3) + rng.uniform(-5, 5)
    r = sigcorr.autocorrelation(x, 20, times=t, lag_step=1.0, kernel=kernel)
    assert r.shape == (21,) and r[0] == 1.0
    assert np.all(np.abs(r) <= 1.0)
    perm = rng.permutation(n)
    np.testing.assert_allclose(sigcorr.autocorrelation(x[perm], 20, times=t[perm], lag_step=1.0, kernel=kernel),
                               r, atol=1e-12)


def test_ragged_batch_equals_one_at_a_time(rng):
    t1, t2 = np.sort(_irregular(rng, 80, 100.0)), np.sort(_irregular(rng, 50, 60.0))
    x1, x2 = np.sin(t1), np.cos(t2 / 3)
    T = np.full((2, 80), np.nan)
    X = np.full((2, 80), np.nan)
    T[0], X[0] = t1, x1
    T[1, :50], X[1, :50] = t2, x2
    r = sigcorr.autocorrelation(X, 30, times=T, lag_step=1.0)
    np.testing.assert_allclose(r[0], sigcorr.autocorrelation(x1, 30, times=t1, lag_step=1.0))
    np.testing.assert_allclose(r[1], sigcorr.autocorrelation(x2, 30, times=t2, lag_step=1.0))
    p = sigcorr.detect_period(X, times=T, lag_step=1.0).period
    assert p.shape == (2,)
    np.testing.assert_allclose(p[1], sigcorr.detect_period(x2, times=t2, lag_step=1.0).period, rtol=1e-9)
    # one set of times for every series; a NaN value is a missing sample
    Y = np.stack([x1, -x1])
    Y[1, 5] = np.nan
    r = sigcorr.autocorrelation(Y, 10, times=t1, lag_step=1.0)
    keep = np.arange(80) != 5
    np.testing.assert_allclose(r[1], sigcorr.autocorrelation(-x1[keep], 10, times=t1[keep], lag_step=1.0))


def test_regular_times_read_the_pairs(rng):
    # on a regular grid the slotted kernel counts exactly the pairs at each
    # lag, the Gaussian one nearly (its neighbours weigh exp(-8))
    x = rng.standard_normal(200)
    t = np.arange(200) * 0.5
    z = x - x.mean()
    want = [1.0] + [z[:-k] @ z[k:] / np.sqrt((z[:-k] @ z[:-k]) * (z[k:] @ z[k:])) for k in range(1, 11)]
    for kernel, tol in (("slotted", 1e-9), ("gaussian", 2e-3)):
        np.testing.assert_allclose(sigcorr.autocorrelation(x, 10, times=t, kernel=kernel), want, atol=tol)


@pytest.mark.parametrize("kernel", ["gaussian", "slotted"])
def test_period_of_irregular_samples_in_units_of_times(kernel, rng):
    hits = 0
    for _ in range(8):
        p = rng.uniform(8, 30)
        n = int(rng.integers(300, 700))
        t = np.sort(_irregular(rng, n, p * rng.uniform(12, 25)))
        x = np.sin(2 * np.pi * t / p) + 0.3 * rng.standard_normal(n) + 0.01 * t
        res = sigcorr.detect_period(x, times=t * 3600, kernel=kernel)
        hits += bool(abs(res.period / 3600 - p) <= 0.02 * p)
        assert res.support > 0
    assert hits >= 7


def test_bursty_sampling_and_no_harmonics(rng):
    # clusters of samples with long gaps, a waveform with a strong 2nd harmonic
    starts = np.sort(rng.uniform(0, 900, 40))
    t = np.concatenate([s + np.sort(rng.uniform(0, 8, 12)) for s in starts])
    u = 2 * np.pi * t / 25.0
    x = np.sin(u) + 0.8 * np.sin(2 * u + 1) + 0.2 * rng.standard_normal(t.size)
    res = sigcorr.detect_periods(x, times=t)
    assert abs(res.periods[0] - 25.0) < 0.5
    rest = res.periods[1:][np.isfinite(res.periods[1:])]
    assert all(abs(q / 25.0 - round(q / 25.0)) > 0.05 and abs(25.0 / q - round(25.0 / q)) > 0.05 for q in rest)


def test_acyclic_irregular_series_have_no_period(rng):
    called = 0
    for i in range(30):
        n = int(rng.integers(100, 600))
        t = np.sort(_irregular(rng, n, n * 1.5))
        e = rng.standard_normal(n)
        x = e if i % 2 else np.cumsum(e)
        called += bool(np.isfinite(sigcorr.detect_period(x, times=t).period))
    assert called <= 2


def test_grid_with_gaps_uses_its_step(rng):
    t = np.flatnonzero(rng.random(400) > 0.5) * 2.0  # every other 2-unit step kept, about
    x = np.sin(2 * np.pi * t / 8.0)
    r = sigcorr.autocorrelation(x, 8, times=t)
    assert np.argmax(r[2:]) + 2 == 4  # lag 4 steps of 2.0 = 8
    assert abs(sigcorr.detect_period(x, times=t).period - 8.0) < 0.05


def test_jittered_grid_keeps_its_clock():
    # a quarterly pattern on a grid whose times are each moved by up to 0.3
    # of a step: the lag step is the grid's (spans over counted intervals),
    # not the median interval, which errs by ~jitter / sqrt(m) and made the
    # 4-step season read as 4.1-4.15 (or a far multiple)
    found = []
    for seed in range(8):
        r = np.random.default_rng(seed)
        n = 80
        x = np.tile([3.0, -1.0, 0.5, -2.5], n // 4) + 0.3 * r.standard_normal(n)
        t = np.arange(n) + r.uniform(-0.3, 0.3, n)
        found.append(sigcorr.detect_period(x, times=t).period)
    np.testing.assert_allclose(found, 4.0, rtol=0.025)
    assert abs(np.median(found) - 4.0) < 0.02


def test_bad_times(rng):
    x = rng.standard_normal(50)
    t = np.arange(50.0)
    with pytest.raises(ValueError, match="times"):
        sigcorr.detect_period(x, times=t[:40])
    with pytest.raises(ValueError, match="times"):
        sigcorr.autocorrelation(x, times=np.where(t == 7, np.inf, t))
    with pytest.raises(ValueError, match="times"):
        sigcorr.autocorrelation(x, times=np.where(t == 7, np.nan, t))  # NaN inside a row
    with pytest.raises(ValueError, match="times"):
        sigcorr.autocorrelation(x, times=np.where(t >= 45, np.nan, t))  # padding with values
    with pytest.raises(ValueError, match="lag_step"):
        sigcorr.detect_period(x, times=t, lag_step=0.0)
    with pytest.raises(ValueError, match="lag_step"):
        sigcorr.autocorrelation(x, times=t, lag_step=-1.0)
    with pytest.raises(ValueError, match="kernel"):
        sigcorr.autocorrelation(x, times=t, kernel="box")
    with pytest.raises(ValueError, match="fs"):
        sigcorr.detect_period(x, times=t, fs=10.0)
    with pytest.raises(ValueError, match="normalize"):
        sigcorr.autocorrelation(x, times=t, normalize=False)
    with pytest.raises(ValueError, match="times"):
        sigcorr.detect_period(x[:3], times=t[:3])  # too short for two cycles
    with pytest.raises(ValueError, match="times"):
        sigcorr.autocorrelation(x, times=np.zeros(50))  # no interval
    with pytest.raises(TypeError, match="times"):
        sigcorr.autocorrelation(x, times=["a"] * 50)
    padded = np.where(t >= 45, np.nan, t)
    xp = np.where(t >= 45, np.nan, x)
    np.testing.assert_allclose(sigcorr.autocorrelation(xp, 10, times=padded), sigcorr.autocorrelation(
        x[:45], 10, times=t[:45]))
    xs, ts = x.copy(), t.copy()
    sigcorr.detect_period(xs[::-1], times=ts[::-1])
    np.testing.assert_array_equal(xs, x)  # inputs untouched
    np.testing.assert_array_equal(ts, t)


# --- pandas ----------------------------------------------------------------


def test_pandas_series_on_its_timestamps(rng):
    pd = pytest.importorskip("pandas")
    hours = np.sort(rng.uniform(0, 480, 600))
    y = np.sin(2 * np.pi * hours / 12) + 0.3 * rng.standard_normal(600)
    idx = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(hours, unit="h")
    res = sigcorr.detect_period(pd.Series(y, index=idx))
    assert abs(res.period_seconds / 3600 - 12) < 0.1
    assert isinstance(res.timedelta, pd.Timedelta) and abs(res.timedelta - pd.Timedelta(hours=12)) < pd.Timedelta(
        minutes=6)
    assert res.period == pytest.approx(res.period_seconds / (np.median(np.diff(hours)) * 3600), rel=1e-6)
    # shuffled rows: the same (times sorted with their values)
    perm = rng.permutation(600)
    again = sigcorr.detect_period(pd.Series(y[perm], index=idx[perm]))
    assert again.period_seconds == pytest.approx(res.period_seconds, rel=1e-9)


def test_pandas_regular_index_dataframe_and_plain_index(rng):
    pd = pytest.importorskip("pandas")
    n = 24 * 30
    t = np.arange(n)
    frame = pd.DataFrame({"day": np.sin(2 * np.pi * t / 24) + 0.2 * rng.standard_normal(n),
                          "half": np.cos(2 * np.pi * t / 12) + 0.2 * rng.standard_normal(n)},
                         index=pd.date_range("2023-03-01", periods=n, freq="h"))
    res = sigcorr.detect_period(frame)
    np.testing.assert_allclose(res.period, [24, 12], atol=0.05)
    np.testing.assert_allclose(res.period_seconds, [86400, 43200], rtol=2e-3)
    assert res.timedelta.dtype == np.dtype("timedelta64[ns]")
    one = sigcorr.detect_period(frame[["day"]])
    assert one.period == sigcorr.detect_period(frame["day"]).period == res.period[0]
    assert one.period == sigcorr.detect_period(frame["day"].to_numpy()).period
    per = sigcorr.detect_periods(frame["day"])
    assert per.periods_seconds[0] == pytest.approx(one.period_seconds)
    plain = sigcorr.detect_period(pd.Series(frame["day"].to_numpy()))  # no timestamps: samples
    assert plain.period == one.period and plain.period_seconds is None


def test_pandas_autocorrelation_as_statsmodels(rng):
    # time along the index: a Series and a one-column DataFrame are one series, as statsmodels' acf reads them
    pd = pytest.importorskip("pandas")
    acf = pytest.importorskip("statsmodels.tsa.stattools").acf
    n = 300
    y = np.sin(2 * np.pi * np.arange(n) / 17) + 0.3 * rng.standard_normal(n)
    frame = pd.DataFrame({"y": y, "z": rng.standard_normal(n)}, index=pd.date_range("2024-01-01", periods=n, freq="h"))
    want = acf(frame[["y"]], nlags=40)
    np.testing.assert_allclose(sigcorr.autocorrelation(frame[["y"]], 40), want, atol=1e-12)
    np.testing.assert_allclose(sigcorr.autocorrelation(frame["y"], 40), want, atol=1e-12)
    np.testing.assert_allclose(sigcorr.autocorrelation(frame[["y"]], 40, axis=0), want, atol=1e-12)
    both = sigcorr.autocorrelation(frame, 40)  # columns are a batch
    assert both.shape == (2, 41)
    np.testing.assert_allclose(both[1], acf(frame["z"], nlags=40), atol=1e-12)
    # crosscorrelation reads them so too (a one-column DataFrame is its Series)
    np.testing.assert_allclose(sigcorr.crosscorrelation(frame[["y"]], frame["z"], 30),
                               sigcorr.crosscorrelation(frame["y"].to_numpy(), frame["z"].to_numpy(), 30))
    assert sigcorr.crosscorrelation(frame, frame["z"], 5).shape == (2, 11)
    with pytest.raises(ValueError, match="time axis is its index"):
        sigcorr.crosscorrelation(frame, frame, 4, axis=1)
    with pytest.raises(ValueError, match="time axis is its index"):
        sigcorr.autocorrelation(frame, 4, axis=1)
    # an irregular DatetimeIndex: its times, in seconds
    keep = np.sort(rng.choice(n, 200, replace=False))
    gappy = frame["y"].iloc[keep]
    seconds = (gappy.index - gappy.index[0]).total_seconds().to_numpy()
    np.testing.assert_allclose(sigcorr.autocorrelation(gappy, 30, lag_step=3600.0),
                               sigcorr.autocorrelation(gappy.to_numpy(), 30, times=seconds, lag_step=3600.0))
    # all missing: NaN at every lag (statsmodels raises "All observations are missing")
    assert np.isnan(sigcorr.autocorrelation(pd.Series(np.full(10, np.nan)), 3)).all()


def test_pandas_errors_and_no_import(rng):
    pd = pytest.importorskip("pandas")
    a = pd.Timestamp("2024-01-01 00:00", tz="UTC")
    b = pd.Timestamp("2024-01-01 01:00", tz="Europe/Paris")
    s = pd.Series(rng.standard_normal(40), index=pd.Index([a, b] * 20, dtype=object))
    with pytest.raises(ValueError, match="time zones"):
        sigcorr.detect_period(s)
    with pytest.raises(ValueError, match="times"):
        sigcorr.detect_period(pd.Series(np.zeros(10)), times=np.arange(10.0))


def test_dask_detect_period_with_times(rng):
    sd = pytest.importorskip("sigcorr.dask")
    B, n = 9, 300
    T = np.sort(rng.uniform(0, 400, (B, n)), axis=1)
    X = np.sin(2 * np.pi * T / rng.uniform(15, 40, (B, 1))) + 0.2 * rng.standard_normal((B, n))
    T[2, 200:] = X[2, 200:] = np.nan  # ragged rows
    T[7, 50:] = X[7, 50:] = np.nan
    X[4, ::3] = np.nan  # missing samples
    want = sigcorr.detect_period(X, times=T)
    got = sd.detect_period(X, times=T, chunks=(2, n))
    np.testing.assert_allclose(got.period.compute(), want.period, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got.support.compute(), want.support, rtol=1e-9, equal_nan=True)
    t1 = np.sort(rng.uniform(0, 400, n))
    Y = np.sin(2 * np.pi * t1 / 20) + 0.2 * rng.standard_normal((4, n))
    np.testing.assert_allclose(sd.detect_period(Y, times=t1, chunks=(3, n), kernel="slotted").period.compute(),
                               sigcorr.detect_period(Y, times=t1, kernel="slotted").period, rtol=1e-9)
    with pytest.raises(ValueError, match="times"):
        sd.detect_period(Y, times=t1[:10], chunks=(3, n))


def test_dask_detect_periods_with_times(rng):
    sd = pytest.importorskip("sigcorr.dask")
    B, n = 5, 400
    T = np.sort(rng.uniform(0, 600, (B, n)), axis=1)
    X = np.sin(2 * np.pi * T / 12.0) + 0.6 * np.sin(2 * np.pi * T / 97.0) + 0.2 * rng.standard_normal((B, n))
    T[3, 300:] = X[3, 300:] = np.nan
    want = sigcorr.detect_periods(X, times=T, max_periods=3)
    got = sd.detect_periods(X, times=T, max_periods=3, chunks=(2, n))
    np.testing.assert_allclose(got.periods.compute(), want.periods, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got.strengths.compute(), want.strengths, rtol=1e-9, equal_nan=True)


def test_numpy_datetime_times_in_seconds(rng):
    hours = np.sort(rng.uniform(0, 480, 500))
    y = np.sin(2 * np.pi * hours / 12) + 0.2 * rng.standard_normal(500)
    stamps = np.datetime64("2024-05-01T00:00:00") + (hours * 3600e9).astype("timedelta64[ns]")
    res = sigcorr.detect_period(y, times=stamps)
    assert abs(res.period / 3600 - 12) < 0.1
    np.testing.assert_allclose(res.period, sigcorr.detect_period(y, times=hours * 3600).period, rtol=1e-6)
