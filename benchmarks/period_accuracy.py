"""Period-detection accuracy on series with a known answer.

Synthetic: non-integer periods uniform in [5, 150] samples, 8 to 40 cycles long,
five waveforms (sine, square, sawtooth, narrow pulse train, a fundamental weaker
than its 2nd harmonic), SNR uniform in 0-20 dB, half of them with a linear trend
as large as the signal, a fifth with sparse spikes of 10x the signal's RMS.
Reported: the share of series whose period is within 2% of the truth, for
sigcorr.detect_period beside two naive baselines (the highest autocorrelation
peak; the highest periodogram peak), and the share of white-noise series that
each calls periodic.  Then a few real series with a known cycle, from the data
sets that statsmodels ships.

    python benchmarks/period_accuracy.py [--n 1000]
"""

from __future__ import annotations

import argparse

import numpy as np

import sigcorr

WAVES = ("sine", "square", "sawtooth", "pulse", "weak fundamental")


def make_series(rng, wave=None):
    period = rng.uniform(5, 150)
    cycles = rng.uniform(8, 40)
    n = int(round(period * cycles))
    t = np.arange(n)
    phase = rng.uniform(0, 1)
    u = (t / period + phase) % 1.0
    wave = wave or WAVES[rng.integers(len(WAVES))]
    if wave == "sine":
        s = np.sin(2 * np.pi * u)
    elif wave == "square":
        s = np.where(u < 0.5, 1.0, -1.0)
    elif wave == "sawtooth":
        s = 2 * u - 1
    elif wave == "pulse":
        s = (u < max(0.1, 1.5 / period)).astype(float)
    else:
        s = 0.6 * np.sin(2 * np.pi * u) + np.sin(4 * np.pi * u + rng.uniform(0, 2 * np.pi))
    s = s - s.mean()
    rms = np.sqrt(np.mean(s ** 2))
    snr_db = rng.uniform(0, 20)
    x = s + rng.normal(0, rms / 10 ** (snr_db / 20), n)
    if rng.random() < 0.5:
        x = x + np.linspace(0, np.ptp(s), n) * rng.choice([-1, 1])
    if rng.random() < 0.2:
        k = max(1, n // 200)
        idx = rng.choice(n, k, replace=False)
        x[idx] += 10 * rms * rng.choice([-1, 1], k)
    return x, period, wave


def acf_peak(x):
    """Baseline: the highest local maximum of the autocorrelation, lags 2..n/2."""
    r = sigcorr.autocorrelation(x, len(x) // 2)
    k = np.arange(2, len(r) - 1)
    peaks = k[(r[k] > r[k - 1]) & (r[k] >= r[k + 1])]
    return float(peaks[np.argmax(r[peaks])]) if peaks.size else np.nan


def periodogram_peak(x):
    """Baseline: the period of the highest periodogram bin (DC excluded)."""
    p = np.abs(np.fft.rfft(x - x.mean())) ** 2
    k = 1 + int(np.argmax(p[1:]))
    return len(x) / k


DETECTORS = {
    "sigcorr.detect_period": lambda x: sigcorr.detect_period(x).period,
    "highest ACF peak": acf_peak,
    "highest periodogram peak": periodogram_peak,
}


def synthetic(n_series=1000, seed=0):
    rng = np.random.default_rng(seed)
    hits = {k: 0 for k in DETECTORS}
    by_wave = {w: [0, 0] for w in WAVES}
    for _ in range(n_series):
        x, period, wave = make_series(rng)
        for name, det in DETECTORS.items():
            p = det(x)
            ok = np.isfinite(p) and abs(p - period) <= 0.02 * period
            hits[name] += ok
            if name == "sigcorr.detect_period":
                by_wave[wave][0] += ok
                by_wave[wave][1] += 1
    noise = {k: 0 for k in DETECTORS}
    n_noise = max(100, n_series // 4)
    for _ in range(n_noise):
        x = rng.standard_normal(int(rng.uniform(100, 4000)))
        for name, det in DETECTORS.items():
            noise[name] += bool(np.isfinite(det(x)))
    return hits, noise, n_noise, by_wave


def real_series():
    """(name, series, fs, expected period, unit) from statsmodels' data sets."""
    import statsmodels.api as sm

    out = []
    co2 = sm.datasets.co2.load_pandas().data["co2"].to_numpy()
    out.append(("Mauna Loa CO2, weekly 1958-2001", co2, 1.0, 365.25 / 7, "weeks"))
    sun = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    out.append(("sunspot numbers, yearly 1700-2008", sun, 1.0, 11.0, "years"))
    nino = sm.datasets.elnino.load_pandas().data.iloc[:, 1:13].to_numpy().ravel()
    out.append(("El Nino sea temperature, monthly 1950-2010", nino, 1.0, 12.0, "months"))
    return out


def table(n_series=1000, seed=0) -> str:
    hits, noise, n_noise, by_wave = synthetic(n_series, seed)
    lines = [
        f"Synthetic: {n_series} series; white noise: {n_noise} series.",
        "",
        "| detector | within 2% of the true period | white noise called periodic |",
        "| --- | ---: | ---: |",
    ]
    for name in DETECTORS:
        lines.append(f"| {name} | {100 * hits[name] / n_series:.1f}% | {100 * noise[name] / n_noise:.1f}% |")
    lines += ["", "| waveform | sigcorr within 2% |", "| --- | ---: |"]
    for w, (ok, tot) in by_wave.items():
        lines.append(f"| {w} | {100 * ok / max(tot, 1):.1f}% ({tot} series) |")
    lines += ["", "| real series | expected | sigcorr | highest ACF peak | periodogram |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, x, fs, expected, unit in real_series():
        x = np.asarray(x, dtype=float)
        got = sigcorr.detect_period(x, fs=fs)
        acf_p = acf_peak(np.where(np.isfinite(x), x, np.nanmean(x)))
        pg = periodogram_peak(np.where(np.isfinite(x), x, np.nanmean(x)))
        lines.append(f"| {name} | {expected:.2f} {unit} | {got.period:.2f} (strength {got.strength:.2f}) "
                     f"| {acf_p:.2f} | {pg:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="synthetic series (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(table(args.n, args.seed))


if __name__ == "__main__":
    main()
