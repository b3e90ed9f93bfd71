"""autocorrelation against statsmodels/scipy; detect_period on hard cases."""

import numpy as np
import pytest
import scipy.signal as ss

import naive
import sigcorr
from sigcorr import _costs


def _sm_acf(*args, **kwargs):
    """statsmodels' acf (the test is skipped without statsmodels)."""
    return pytest.importorskip("statsmodels.tsa.stattools").acf(*args, **kwargs)


@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
@pytest.mark.parametrize("adjusted", [False, True])
def test_acf_equals_statsmodels(method, adjusted, rng):
    for n, lag in [(50, 49), (300, 40), (1000, 200), (7, 3)]:
        x = rng.standard_normal(n).cumsum()
        got = sigcorr.autocorrelation(x, lag, adjusted=adjusted, method=method)
        np.testing.assert_allclose(got, _sm_acf(x, nlags=lag, adjusted=adjusted, fft=False), atol=1e-9)


@pytest.mark.parametrize("method", ["fft", "direct"])
def test_raw_sums_equal_scipy_correlate(method, rng):
    for n in (1, 10, 333):
        x = rng.standard_normal(n) + 3
        full = ss.correlate(x, x)
        for lag in {0, n // 2, n - 1}:
            got = sigcorr.autocorrelation(x, lag, demean=False, normalize=False, method=method)
            np.testing.assert_allclose(got, full[n - 1:n + lag], atol=1e-9 * np.abs(full).max())


def test_long_series_block_path(rng):
    x = rng.standard_normal(200_000)
    np.testing.assert_allclose(sigcorr.autocorrelation(x, 300), _sm_acf(x, nlags=300, fft=True), atol=1e-9)
    np.testing.assert_allclose(sigcorr.autocorrelation(x, 300, method="direct"), _sm_acf(x, nlags=300, fft=True), atol=1e-9)


def test_default_max_lag_is_every_lag(rng):
    x = rng.standard_normal(64)
    r = sigcorr.autocorrelation(x)
    assert r.shape == (64,)
    np.testing.assert_allclose(r, _sm_acf(x, nlags=63), atol=1e-9)


@pytest.mark.parametrize("adjusted", [False, True])
def test_missing_values_like_statsmodels_conservative(adjusted, rng):
    x = rng.standard_normal(400)
    x[[0, 17, 18, 200, 399]] = np.nan
    before = x.copy()
    got = sigcorr.autocorrelation(x, 100, adjusted=adjusted)
    ref = _sm_acf(x, nlags=100, adjusted=adjusted, missing="conservative")
    np.testing.assert_allclose(got, ref, atol=1e-9)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(np.isnan(x), np.isnan(before))  # input untouched


def test_batched_and_axis_variants(rng):
    X = rng.standard_normal((3, 4, 120))
    got = sigcorr.autocorrelation(X, 30)
    assert got.shape == (3, 4, 31)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(got[i, j], _sm_acf(X[i, j], nlags=30), atol=1e-9)
    got_axis = sigcorr.autocorrelation(np.moveaxis(X, -1, 1), 30, axis=1)
    assert got_axis.shape == (3, 31, 4)
    np.testing.assert_allclose(np.moveaxis(got_axis, 1, -1), got, atol=1e-12)
    flat = np.zeros((2, 10))
    np.testing.assert_array_equal(sigcorr.autocorrelation(flat, 3), 0.0)  # no NaN


def _sine(period, n, rng=None, noise=0.0, phase=0.3):
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / period + phase)
    if rng is not None:
        x = x + noise * rng.standard_normal(n)
    return x


@pytest.mark.parametrize("period", [7.3, 19.75, 41.2, 123.45])
def test_subsample_accuracy_on_clean_sines(period):
    res = sigcorr.detect_period(_sine(period, int(period * 20)))
    assert abs(res.period - period) < 0.005 * period
    assert 0.8 < res.strength <= 1.0
    assert res.candidates.shape[1] == 2


def test_weak_fundamental_trend_spikes_noise(rng):
    t = np.arange(3000)
    P = 48.6
    weak = 0.6 * np.sin(2 * np.pi * t / P) + np.sin(4 * np.pi * t / P + 1.0)
    assert abs(sigcorr.detect_period(weak).period - P) < 0.01 * P  # not P / 2
    trend = _sine(P, 3000) + np.linspace(0, 2, 3000)
    assert abs(sigcorr.detect_period(trend).period - P) < 0.01 * P
    spiky = _sine(P, 3000)
    idx = rng.choice(3000, 15, replace=False)
    spiky[idx] += 10 * rng.choice([-1, 1], 15)
    assert abs(sigcorr.detect_period(spiky).period - P) < 0.01 * P
    noisy = _sine(P, 3000, rng, noise=1 / np.sqrt(2))  # 0 dB
    assert abs(sigcorr.detect_period(noisy).period - P) < 0.02 * P
    square = np.sign(_sine(P, 3000))
    assert abs(sigcorr.detect_period(square).period - P) < 0.01 * P  # not 2P or P/3
    pulses = ((t / P) % 1 < 0.1).astype(float)
    assert abs(sigcorr.detect_period(pulses).period - P) < 0.01 * P


def test_missing_samples_handled():
    x = _sine(25.5, 1000)
    x[100:110] = np.nan
    x[500] = np.nan
    res = sigcorr.detect_period(x)
    assert abs(res.period - 25.5) < 0.1


def test_white_noise_has_no_period(rng):
    called = 0
    for _ in range(40):
        res = sigcorr.detect_period(rng.standard_normal(int(rng.integers(200, 3000))))
        called += np.isfinite(res.period) and res.strength >= 0.3
    assert called <= 2


def test_batched_equals_one_at_a_time(rng):
    periods = rng.uniform(5, 60, 12)
    X = np.stack([_sine(p, 800, rng, noise=0.5) for p in periods])
    X[3] = rng.standard_normal(800)
    batch = sigcorr.detect_period(X.reshape(3, 4, 800))
    assert batch.period.shape == (3, 4)
    assert batch.candidates is None
    single = [sigcorr.detect_period(x) for x in X]
    np.testing.assert_array_equal(batch.period.ravel(), [s.period for s in single])
    np.testing.assert_array_equal(batch.strength.ravel(), [s.strength for s in single])
    ok = np.arange(12) != 3
    np.testing.assert_allclose(batch.period.ravel()[ok], periods[ok], rtol=0.02)
    assert np.isnan(batch.period.ravel()[3])
    along0 = sigcorr.detect_period(X.T, axis=0)
    np.testing.assert_array_equal(along0.period, batch.period.ravel())


def test_fs_and_period_range():
    x = _sine(30, 900)
    res = sigcorr.detect_period(x, fs=10.0)
    assert abs(res.period - 3.0) < 0.01
    assert abs(sigcorr.detect_period(x, min_period=20, max_period=40).period - 30) < 0.1
    # only the search range is searched: its best is then a multiple
    assert abs(sigcorr.detect_period(x, min_period=45).period - 60) < 0.5


def test_bad_input(rng):
    x = rng.standard_normal(100)
    with pytest.raises(ValueError, match="max_lag"):
        sigcorr.autocorrelation(x, -1)
    with pytest.raises(ValueError, match="max_lag must be < the series length"):
        sigcorr.autocorrelation(x, 100)
    with pytest.raises(TypeError, match="max_lag"):
        sigcorr.autocorrelation(x, 2.5)
    with pytest.raises(TypeError, match="x must have a numeric dtype"):
        sigcorr.autocorrelation(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="real"):
        sigcorr.autocorrelation(x + 1j)
    with pytest.raises(ValueError, match="Acceptable method"):
        sigcorr.autocorrelation(x, method="slow")
    with pytest.raises(ValueError, match="too short to hold two cycles"):
        sigcorr.detect_period(x, min_period=60)
    with pytest.raises(ValueError, match="min_period .* must be <= max_period"):
        sigcorr.detect_period(x, min_period=20, max_period=10)
    with pytest.raises(ValueError, match="max_period must allow two cycles"):
        sigcorr.detect_period(x, max_period=80)
    with pytest.raises(TypeError, match="x must have a numeric dtype"):
        sigcorr.detect_period([object()] * 10)
    with pytest.raises(TypeError, match="min_period must be a real number"):
        sigcorr.detect_period(x, min_period="2")
    with pytest.raises(ValueError, match="fs must be > 0"):
        sigcorr.detect_period(x, fs=0)
    with pytest.raises(ValueError, match="must not be empty"):
        sigcorr.detect_period(np.array([]))


@pytest.mark.parametrize("B, n, L", [(1, 1, 0), (1, 2, 1), (3, 3, 2), (16, 64, 63), (17, 100, 30),
                                     (40, 129, 0), (33, 1024, 512), (5, 1000, 10), (2, 7, 6),
                                     (35, 300, 260), (33, 1024, 514)])
def test_lane_fft_kernel_equals_naive_sums(B, n, L, rng):
    from sigcorr._kernels.acf_fft import lag_sums_fft, plan

    y = rng.standard_normal((B, n)) * rng.uniform(0.1, 10, (B, 1)) + rng.uniform(-5, 5, (B, 1))
    for demean in (False, True):
        z = y - y.mean(axis=1, keepdims=True) if demean else y
        want = naive.lag_sums(z, L)
        scale = np.abs(want[:, :1])
        for adjusted in (False, True):
            for normalize in (False, True):
                out, energy = np.full((B, L + 1), np.nan), np.full(B, np.nan)
                assert lag_sums_fft(y, L, demean, adjusted, normalize, out, energy, *plan(n, L, _TAIL_MAC)[:3]) == 0
                np.testing.assert_allclose(energy, want[:, 0], rtol=1e-12)
                ref = want * (n / (n - np.arange(L + 1.0))) if adjusted else want.copy()
                if normalize:
                    ref = ref / np.where(ref[:, :1] == 0, 1.0, ref[:, :1])
                    np.testing.assert_allclose(out, ref, atol=1e-12)
                else:
                    np.testing.assert_allclose(out, ref, atol=1e-12 * scale.max() * (n if adjusted else 1))


@pytest.mark.parametrize("B, n, L", [(2, 2048, 2047), (1, 2049, 5), (3, 5000, 300), (1, 6145, 6144)])
def test_direct_kernel_blocks_equal_naive_sums(B, n, L, rng):
    # series longer than a block are summed block by block, every lag
    from sigcorr._kernels.acf import BLOCK, acf_direct

    assert n >= BLOCK
    y = rng.standard_normal((B, n)) + 3.0
    out = acf_direct(y, L, np.full((B, L + 1), np.nan))
    np.testing.assert_allclose(out, naive.lag_sums(y, L), rtol=1e-12, atol=1e-9)
    one = sigcorr.autocorrelation(y[0], L, method="direct", demean=False, normalize=False)
    np.testing.assert_allclose(one, ss.correlate(y[0], y[0])[n - 1:n + L], rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("B", [32, 45])
def test_lane_fft_kernel_counts_bad_series(B, rng):
    # a series with NaN or inf is counted (its row is then meaningless); the
    # others, in the same task or not, are unaffected
    from sigcorr._kernels.acf_fft import lag_sums_fft, plan

    y = rng.standard_normal((B, 77))
    good = np.full((B, 21), np.nan)
    assert lag_sums_fft(y, 20, True, False, True, good, np.empty(B), *plan(77, 20, _TAIL_MAC)[:3]) == 0
    y[[0, 5, B - 1], [3, 76, 0]] = [np.nan, np.inf, -np.inf]
    out = np.full((B, 21), np.nan)
    assert lag_sums_fft(y, 20, True, False, True, out, np.empty(B), *plan(77, 20, _TAIL_MAC)[:3]) == 3
    ok = np.ones(B, bool)
    ok[[0, 5, B - 1]] = False
    ok[[1, 4, B - 2]] = False  # the lane partners of the bad series share their transform
    np.testing.assert_allclose(out[ok], good[ok], atol=1e-12)


_TAIL_MAC = _costs.DEFAULTS.tail_mac  # the plans these tests pin were made with the default


def test_large_batches_equal_statsmodels(rng):
    # batches big enough for the lane-vectorized FFT kernel
    X = rng.standard_normal((70, 300)).cumsum(axis=1) + 50.0
    for adjusted in (False, True):
        got = sigcorr.autocorrelation(X, 120, adjusted=adjusted)
        for i in (0, 33, 69):
            np.testing.assert_allclose(got[i], _sm_acf(X[i], nlags=120, adjusted=adjusted, fft=False), atol=1e-9)
    # lags past the 256-sample halves of the two-block transforms, if the cost
    # model picks those (every plan is checked in test_kernels.py)
    for adjusted in (False, True):
        got = sigcorr.autocorrelation(X, 262, adjusted=adjusted)
        for i in (1, 40):
            np.testing.assert_allclose(got[i], _sm_acf(X[i], nlags=262, adjusted=adjusted, fft=False), atol=1e-9)
    raw = sigcorr.autocorrelation(X, 299, demean=False, normalize=False)
    np.testing.assert_allclose(raw[5], ss.correlate(X[5], X[5])[299:], rtol=1e-9)
    X[3, 10] = np.nan  # missing samples take the general path: same numbers elsewhere
    np.testing.assert_allclose(sigcorr.autocorrelation(X, 120)[4], sigcorr.autocorrelation(X[4], 120), atol=1e-12)


# --- issue 12: exact short periods, every cycle, meaningful candidates ------


@pytest.mark.parametrize("period", range(2, 14))
def test_short_integer_periods_exact(period, rng):
    n = period * 20
    shape = rng.standard_normal(period)
    t = np.arange(n)
    x = shape[t % period] + 0.2 * rng.standard_normal(n) + 3.0 * (t / n) ** 2  # curved trend
    res = sigcorr.detect_period(x)
    assert abs(res.period - period) <= 0.01 * period
    assert res.period >= 2.0  # never below the search range


def test_detect_periods_daily_and_weekly(rng):
    t = np.arange(48 * 7 * 8)
    day = np.sin(2 * np.pi * t / 48)
    week = (t % 336 < 96).astype(float)
    got = sigcorr.detect_periods(day + week + 0.3 * rng.standard_normal(t.size))
    assert got.periods.shape == (3,)
    found = got.periods[np.isfinite(got.periods)]
    for p in (48, 336):
        assert np.any(np.abs(found - p) <= 0.01 * p), found
    # a pure daily cycle: 48 alone, none of its multiples
    only = sigcorr.detect_periods(day + 0.3 * rng.standard_normal(t.size), max_periods=5)
    assert abs(only.periods[0] - 48) < 0.5
    assert np.all(np.isnan(only.periods[1:])), only.periods


def test_detect_periods_first_is_detect_period_and_batches(rng):
    X = np.stack([_sine(p, 900, rng, noise=0.5) for p in rng.uniform(5, 60, 8)])
    X[2] = rng.standard_normal(900)
    many = sigcorr.detect_periods(X.reshape(2, 4, 900), max_periods=4)
    assert many.periods.shape == many.strengths.shape == (2, 4, 4)
    one = sigcorr.detect_period(X)
    np.testing.assert_array_equal(many.periods[..., 0].ravel(), one.period)
    np.testing.assert_array_equal(many.strengths[..., 0].ravel(), one.strength)
    for i, x in enumerate(X):
        single = sigcorr.detect_periods(x, max_periods=4)
        np.testing.assert_array_equal(single.periods, many.periods.reshape(8, 4)[i])
        np.testing.assert_array_equal(single.strengths, many.strengths.reshape(8, 4)[i])
    assert np.all(np.isnan(many.periods.reshape(8, 4)[2]))
    along0 = sigcorr.detect_periods(X.T, axis=0, max_periods=4)
    np.testing.assert_array_equal(along0.periods, many.periods.reshape(8, 4))
    with pytest.raises(ValueError, match="max_periods"):
        sigcorr.detect_periods(X, max_periods=0)
    with pytest.raises(TypeError, match="max_periods"):
        sigcorr.detect_periods(X, max_periods=2.5)


def test_candidates_are_distinct_cycles(rng):
    # a pure cycle of 40: no multiple (80, 120) and no half period among the candidates
    x = _sine(40.0, 2000, rng, noise=0.3)
    res = sigcorr.detect_period(x)
    assert abs(res.candidates[0, 0] - res.period) < 1e-12
    assert res.candidates[0, 1] == res.strength
    others = res.candidates[1:, 0]
    ratio = others / res.period
    assert not np.any(np.abs(ratio - np.round(ratio)) < 0.05), res.candidates
    np.testing.assert_array_equal(sigcorr.detect_periods(x, max_periods=5).periods[:len(res.candidates)],
                                  res.candidates[:, 0])


def test_subcycle_does_not_win_over_season(rng):
    # a monthly season whose quarter-year sub-cycle is strong (equipment orders)
    t = np.arange(240)
    season = 1.0 * np.cos(2 * np.pi * t / 3) + 0.6 * np.cos(2 * np.pi * t / 12) + 0.4 * np.sin(2 * np.pi * t / 6)
    res = sigcorr.detect_period(season + 0.2 * rng.standard_normal(t.size))
    assert res.period == 12.0


def test_random_walks_and_ar1_have_no_period(rng):
    # their detrended autocorrelation has humps at long lags, but the series
    # does not return to itself there (its mean square difference grows)
    called = 0
    for i in range(60):
        n = int(rng.integers(200, 3000))
        if i % 2:
            x = np.cumsum(rng.standard_normal(n))
        else:
            phi = rng.uniform(0.5, 0.95)
            x = ss.lfilter([1.0], [1.0, -phi], rng.standard_normal(n))
        called += bool(np.isfinite(sigcorr.detect_period(x).period))
    assert called <= 3


def test_season_on_curved_and_multiplicative_trends(rng):
    t = np.arange(240)
    u = t / t.size
    season = np.sin(2 * np.pi * t / 12) + 0.5 * np.cos(4 * np.pi * t / 12)
    for level in (1 + 4 * u ** 2, np.exp(2 * u), 1 + 4 / (1 + np.exp(-10 * (u - 0.5)))):
        for x in (level + 0.3 * season, level * (1 + 0.1 * season)):
            x = x + 0.02 * rng.standard_normal(t.size)
            assert sigcorr.detect_period(x).period == 12.0


def test_real_monthly_series_season_not_its_sub_cycle():
    # statsmodels' electrical equipment orders (monthly, 1996-2012): a strong
    # quarterly sub-cycle and a business-cycle hump; the season is 12 months
    pytest.importorskip("pandas")
    elec_equip = pytest.importorskip("statsmodels.datasets.elec_equip")

    x = elec_equip.load_pandas().data.iloc[:, 0].to_numpy()
    assert sigcorr.detect_period(x).period == 12.0


def test_real_series_still_right():
    pytest.importorskip("pandas")
    sm = pytest.importorskip("statsmodels.api")

    co2 = sm.datasets.co2.load_pandas().data["co2"].to_numpy()  # weekly, NaN gaps
    assert abs(sigcorr.detect_period(co2).period - 365.25 / 7) < 0.02 * 365.25 / 7
    sun = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    assert abs(sigcorr.detect_period(sun).period - 11.0) < 0.5
    nino = sm.datasets.elnino.load_pandas().data.iloc[:, 1:13].to_numpy().ravel()
    assert sigcorr.detect_period(nino).period == 12.0


def test_short_quarterly_series_with_steep_curved_trend(rng):
    # 64 quarters: the bending trend dwarfs the season; the detector retries
    # on the first differences (a random walk's are white noise: no period)
    k = np.arange(64)
    season = np.array([1.0, 0.3, -0.4, -0.9])[k % 4]
    X = np.stack([10 + trend + season + 0.3 * rng.standard_normal(64)
                  for trend in (0.5 * k, 0.02 * k ** 2, np.exp(k / 20), 0.3 * k * (1 + 0.1 * season))]
                 + [np.cumsum(rng.standard_normal(64)) for _ in range(4)])
    batch = sigcorr.detect_period(X)
    np.testing.assert_array_equal(batch.period[:4], 4.0)
    assert np.isnan(batch.period[4:]).sum() >= 3
    np.testing.assert_array_equal([sigcorr.detect_period(x).period for x in X], batch.period)
    many = sigcorr.detect_periods(X)
    np.testing.assert_array_equal(many.periods[:, 0], batch.period)


# --- issue 23: right on every input ------------------------------------------


def test_six_cycles_of_period_two():
    res = sigcorr.detect_period(np.tile([1.0, 2.0], 6))  # the probe (was NaN)
    assert res.period == 2.0 and res.strength > 0.5
    assert sigcorr.detect_period(np.tile([5.0, -1.0], 8)).period == 2.0


@pytest.mark.parametrize("period", [2, 3, 4])
@pytest.mark.parametrize("cycles", [3, 4, 5, 6])
@pytest.mark.parametrize("noise", [0.0, 0.03])
def test_short_clean_cycles_are_found(period, cycles, noise, rng):
    # the naive reasoning: a series that repeats itself every `period`
    # samples (and not at a shorter lag) has that period, however short
    shape = rng.standard_normal(period)
    while np.ptp(shape) < 1.0 or (period == 4 and abs(shape[0] - shape[2]) + abs(shape[1] - shape[3]) < 0.5):
        shape = rng.standard_normal(period)  # distinct values: no shorter period
    x = np.tile(shape, cycles) + noise * rng.standard_normal(period * cycles)
    res = sigcorr.detect_period(x)
    assert abs(res.period - period) <= 0.1, (period, cycles, noise, res)
    if cycles >= 4:  # an integer period seen 4 times is reported exactly
        assert res.period == period


def test_short_white_noise_rarely_has_a_period(rng):
    found = sum(np.isfinite(sigcorr.detect_period(rng.standard_normal(int(rng.integers(6, 25)))).period)
                for _ in range(200))
    assert found <= 16  # ~3 % measured; the clean-repeat test keeps short noise out


@pytest.mark.parametrize("kw", [dict(min_period=1, max_period=1.5), dict(min_period=0.1, max_period=0.15, fs=10.0)])
def test_a_range_below_two_samples_is_refused(kw):
    with pytest.raises(ValueError, match="min_period and max_period.*2 samples"):
        sigcorr.detect_period(np.sin(np.arange(100.0)), **kw)
    with pytest.raises(ValueError, match="min_period and max_period"):
        sigcorr.detect_periods(np.sin(np.arange(100.0)), **kw)
    assert abs(sigcorr.detect_period(np.tile([0.0, 1.0], 20), min_period=1, max_period=2).period - 2.0) < 0.05


@pytest.mark.parametrize("big", [10 ** 9, 10 ** 18])
def test_max_periods_clamped_to_the_range(big):
    import tracemalloc

    x = np.sin(2 * np.pi * np.arange(256) / 16)
    tracemalloc.start()
    try:
        res = sigcorr.detect_periods(x, max_periods=big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.periods.shape == (127,)  # one cycle per integer lag of 2..128 at most
    assert res.periods[0] == 16.0 and np.isnan(res.periods[1:]).all()
    assert peak < 100 * x.nbytes
    np.testing.assert_array_equal(res.periods[:3], sigcorr.detect_periods(x).periods)
    assert sigcorr.detect_periods(np.ones((2, 40)), max_periods=big, max_period=5).periods.shape == (2, 4)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e155, 1e300])
def test_normalized_results_are_scale_free(scale, rng):
    x = _sine(20.0, 500, rng, noise=0.3)
    want = sigcorr.autocorrelation(x, 40)
    for kw in ({}, {"adjusted": True}, {"method": "direct"}, {"method": "fft"}):
        np.testing.assert_allclose(sigcorr.autocorrelation(x * scale, 40, **kw), sigcorr.autocorrelation(x, 40, **kw),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sigcorr.autocorrelation(x * scale, 40), _sm_acf(x, nlags=40), atol=1e-10)
    X = np.stack([x, -x, x[::-1]]) * scale  # a batch (the lane kernel's path for large ones)
    np.testing.assert_allclose(sigcorr.autocorrelation(X, 40)[0], want, rtol=1e-12, atol=1e-12)
    a, b = sigcorr.detect_period(x * scale), sigcorr.detect_period(x)
    assert a.period == pytest.approx(b.period, rel=1e-9) and abs(a.period - 20) < 0.2
    assert a.strength == pytest.approx(b.strength, rel=1e-9)
    np.testing.assert_allclose(sigcorr.detect_periods(x * scale).periods, sigcorr.detect_periods(x).periods,
                               rtol=1e-9)


def test_unnormalized_autocorrelation_is_scaled_back(rng):
    x = rng.standard_normal(300)
    s = 2.0 ** -350
    for kw in ({"normalize": False}, {"normalize": False, "demean": False}, {"normalize": False, "adjusted": True}):
        np.testing.assert_allclose(sigcorr.autocorrelation(x * s, 10, **kw),
                                   np.ldexp(sigcorr.autocorrelation(x, 10, **kw), -700), rtol=1e-12)


def test_unnormalized_autocorrelation_overflowing_rows_of_a_batch(rng):
    # several rows beyond float64 computed again at once, each scaled back by
    # its own power of two: inf where the true value leaves float64, as NaN never
    X = rng.standard_normal((3, 300)) * np.array([[2.0 ** 530], [2.0 ** 530], [1.0]])
    got = sigcorr.autocorrelation(X, 10, normalize=False)
    want = sigcorr.autocorrelation(X * np.array([[2.0 ** -530], [2.0 ** -530], [1.0]]), 10, normalize=False)
    with np.errstate(over="ignore"):
        true = np.ldexp(want, np.array([[1060], [1060], [0]]))
    assert not np.isnan(got).any() and np.isinf(got[:2]).all()
    np.testing.assert_array_equal(got[2], true[2])
    np.testing.assert_array_equal(np.sign(got[:2]), np.sign(true[:2]))


def test_all_missing_series_give_nan(rng):
    nan = np.full(60, np.nan)
    for kw in ({}, {"normalize": False}, {"adjusted": True}, {"demean": False}):
        assert np.isnan(sigcorr.autocorrelation(nan, 5, **kw)).all(), kw
    X = np.stack([_sine(10.0, 60, rng), nan])
    r = sigcorr.autocorrelation(X, 5)
    assert np.isnan(r[1]).all() and np.isfinite(r[0]).all()
    np.testing.assert_allclose(r[0], sigcorr.autocorrelation(X[0], 5), atol=1e-12)
    res = sigcorr.detect_period(X)
    assert np.isnan(res.period[1]) and abs(res.period[0] - 10) < 0.1
    assert np.isnan(sigcorr.detect_period(nan).period)
    assert np.isnan(sigcorr.detect_periods(nan).periods).all()


def test_masked_values_are_missing(rng):
    x = _sine(12.0, 240, rng, noise=0.2)
    mask = np.zeros(240, bool)
    mask[[3, 50, 51, 200]] = True
    xm = np.ma.masked_array(np.where(mask, 1e9, x), mask)  # the masked values would dominate
    xn = np.where(mask, np.nan, x)
    np.testing.assert_array_equal(sigcorr.autocorrelation(xm, 30), sigcorr.autocorrelation(xn, 30))
    assert sigcorr.detect_period(xm).period == sigcorr.detect_period(xn).period
    np.testing.assert_array_equal(sigcorr.detect_periods(xm).periods, sigcorr.detect_periods(xn).periods)


def test_very_short_noise_never_fails():
    # found by the fuzz's explore run: a candidate whose refined lag lies
    # beyond the last scorable lag divided by zero in the detector
    for seed in range(200):
        for n in (4, 5, 6, 7, 9):
            res = sigcorr.detect_period(np.random.default_rng(seed).standard_normal(n))
            assert np.isnan(res.period) or 2 <= res.period <= n / 2


def test_weekly_cycle_of_five_day_weeks_stands_out(rng):
    # intraday data, 169 samples a day, 5-day weeks (845 a week), one
    # weekday busier: the weekly peak stands out of the daily multiples by
    # a few hundredths, which is far above the noise of a long series
    n = 845 * 12
    t = np.arange(n)
    day = np.sin(2 * np.pi * t / 169) + 0.5 * np.sin(4 * np.pi * t / 169 + 1)
    week = 0.5 * ((t // 169) % 5 == 2)
    x = day + week + 0.3 * rng.standard_normal(n)
    got = sigcorr.detect_periods(x, max_periods=3).periods
    assert abs(got[0] - 169) < 0.1 and np.any(np.abs(got[1:] - 845) <= 2)
    alone = sigcorr.detect_periods(day + 0.3 * rng.standard_normal(n), max_periods=3).periods
    assert abs(alone[0] - 169) < 0.1 and not np.any(np.abs(alone[1:] / 169 - np.round(alone[1:] / 169)) < 0.02)
