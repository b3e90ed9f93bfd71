"""The period detector (prange over series): each series' period and
strength from its residual's lag sums (``detect``), with the rules below."""

import numpy as np
from numba import prange

from ._jit import A1, A2, F8, jit

_SERIES_PER_TASK = 16  # detect: series per parallel task (buffers allocated once per task)
_REPEAT = 0.5  # detect: the most a period's mean square difference may be of the largest before it
_REPEAT_FEW = 0.25  # the same, for a period seen fewer than 6 times
_REPEAT_FEW_GAPPY = 0.15  # the same, in a series missing samples (its r noisier)
_REPEAT_SEASON = 0.6  # the same, for an exact integer season seen 6 times or more (_repeats_at)
# A short series (under 25 samples) holds too few pairs for the significance
# level, 2.5 / sqrt(n), to be reachable by the autocorrelation's tapered
# peaks (a clean period 2 seen 6 times peaks at 5/6, scores 2/3 < 0.72):
# there candidates are sought from _MAX_LEVEL on, and one below the level is
# a period only when the series repeats at it cleanly: a mean square
# difference at most _CLEAN of its largest over the half period before it
_MAX_LEVEL = 0.5
_CLEAN = 0.1

# A candidate's peak must stand this far above the deepest point of r between
# half its lag and it: a fraction of its height (a real cycle's r falls most
# of the way back between peaks: a sinusoid's to -r, a pulse train's to 0;
# the wiggles noise leaves on a slope are small beside it), and at least
# _MIN_LEVEL, the significance floor (for weak peaks)
_DIP = 0.3
_MIN_LEVEL = 0.1
# a multiple m P of a kept cycle P is a cycle of its own when its peak rises
# above the mean of those at (m -+ 1) P by the significance level itself,
# 2.5 / sqrt(n), at least _STAND (not floored at _MIN_LEVEL: the peaks of
# one long series' multiples are steady to far better than 0.1, and a
# weekly cycle of intraday data, 5 x 169, stands out of them by 0.03)
_STAND = 0.02
# a candidate's score: the mean of r near its first _SCORE_MULTIPLES multiples
# (a half period scores low on its odd multiples, a double period through
# the fewer, later peaks; more multiples reach lags where r has decayed)
_SCORE_MULTIPLES = 4
# the shortest candidate scoring at least this fraction of the best is the
# period: a cycle's multiples score about as well as it (r stays high at
# every multiple), within the scatter noise gives the scores
_NEAR_BEST = 0.9
# a season kb of an integer period kc found at 2 to _SEASON_FACTORS times kc
# must beat kc's other multiples by at least this much (or a third of the
# significance level): less is within the noise of r at a lag
_SEASON_FACTORS = 4
_SEASON_MARGIN = 0.05
# _integer_lag and _refine follow a cycle's peaks over at most this many
# multiples: each one pins the lag m times more finely, while the later ones
# are lower and broader (r decays with the lag), so past 8 they add noise
_MAX_MULTIPLES = 8

# The rows of ``_detect_one``'s work buffer (each L + 1 long): r, and per
# candidate (in order of lag) its lag, score, peak value and refined lag
_R, _LAGS, _SCORES, _VALS, _REFD = 0, 1, 2, 3, 4
_WORK_ROWS = 5


@jit()
def _near_peak(r, x, L):
    # the largest r within +-1 of lag x (rounded), or -2 if out of range
    k = int(np.floor(x + 0.5))
    best = -2.0
    for j in range(k - 1, k + 2):
        if 1 <= j <= L and r[j] > best:
            best = r[j]
    return best


@jit()
def _parabola(r, k):
    # vertex offset and value of the parabola through r[k-1], r[k], r[k+1]
    a = r[k - 1]
    b = r[k]
    c = r[k + 1]
    den = a - 2.0 * b + c
    if den >= 0.0:
        return 0.0, b
    d = 0.5 * (a - c) / den
    if d > 0.5:
        d = 0.5
    elif d < -0.5:
        d = -0.5
    return d, b - 0.25 * (a - c) * d


@jit()
def _ls_vertex(r, k, hw, L):
    # vertex of the least-squares parabola through r[k - hw .. k + hw] (robust
    # to the wiggles noise adds to an autocorrelation peak); within +-hw
    lo = max(0, k - hw)
    hi = min(L, k + hw)
    # the odd sums (s1, s3) vanish only when the window is not clipped, so the
    # full 3 x 3 system is solved
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    sy = 0.0
    sdy = 0.0
    sd2y = 0.0
    for j in range(lo, hi + 1):
        d = np.float64(j - k)
        y = r[j]
        s0 += 1.0
        s1 += d
        s2 += d * d
        s3 += d * d * d
        s4 += d * d * d * d
        sy += y
        sdy += d * y
        sd2y += d * d * y
    # normal equations for y = a + b d + c d^2
    m00, m01, m02 = s0, s1, s2
    m11, m12, m22 = s2, s3, s4
    det = (m00 * (m11 * m22 - m12 * m12) - m01 * (m01 * m22 - m12 * m02)
           + m02 * (m01 * m12 - m11 * m02))
    if det == 0.0:
        return 0.0
    bb = (m00 * (sdy * m22 - m12 * sd2y) - sy * (m01 * m22 - m12 * m02)
          + m02 * (m01 * sd2y - sdy * m02)) / det
    cc = (m00 * (m11 * sd2y - sdy * m12) - m01 * (m01 * sd2y - sdy * m02)
          + sy * (m01 * m12 - m11 * m02)) / det
    if cc >= 0.0:
        return 0.0
    v = -bb / (2.0 * cc)
    return min(max(v, -hw), np.float64(hw))


@jit(parallel=True, sigs=[(A2(F8), F8, F8, A1(F8), A1(F8), F8, A2(F8), A2(F8))])
def detect(S, pmin, pmax, nvalid, npairs, level, periods, strengths):
    """The cycles of each series from its lag sums ``S`` (B, L + 1),
    normalized here by lag 0 into r (0 throughout for a series with S[0] <= 0).

    Candidates are the local maxima of r with lags in [pmin, pmax] that reach
    the significance level (``level`` / sqrt(npairs), at least 0.1) and that r
    dips well below between half their lag and them.  Each is scored by the
    mean of r at its first (up to 4) multiples, so a half period (for a
    fundamental weaker than its 2nd harmonic) scores low on its odd
    multiples, and a double period low through the fewer, later peaks; the
    shortest candidate scoring within 10% of the best is the period, unless
    it is an exact integer period kc and the best, or a candidate at 2 to 4
    times kc, an exact integer period kb whose multiples r is higher at, on
    average, than at kc's other multiples, by a third of the level (at
    least 0.05): kc is then a sub-cycle of the season kb.
    Only lags the series repeats at (``_repeats``) compete.  Where
    it (or its score) does not reach the level, the series has no period: NaN.

    The other candidates follow by score, each kept only if it is a cycle of
    its own: near a multiple m P of a cycle P already kept (or of a shorter
    candidate scoring at least 0.6 of it), its peak must rise above the mean of the peaks at (m - 1) P
    and (m + 1) P by the significance level (a weekly peak among the daily
    ones; a pure daily cycle's 96 or 144 do not);
    a lag p that is no multiple of a kept P must rise above r at its
    remainder p mod P (else it is that lag's echo, r repeating with P);
    a divisor P / m of a kept cycle counts only for m >= 3 with the peaks
    j P / m, j < m, rising by the level above r half a cycle either side
    (all but one in five of them: a daily cycle under a weekly one, reported
    as P / m; a half period is a harmonic).  Each kept lag is refined over the peaks at its
    multiples: an exact integer lag where those peaks sit exactly at the
    multiples of the first one (a clean integer period is never moved),
    else by least-squares parabolas (the three top samples of a sharp peak)
    and a fit through the origin.
    ``periods``, ``strengths`` (B, K) receive the first K cycles (NaN after).
    ``nvalid`` (B,): the length of the series the sums read as (the taper
    1 - k / nvalid of r, and how many cycles fit); ``npairs`` (B,): the pairs
    behind r, whose 1 / sqrt(npairs) is the noise every margin is measured
    against (nvalid for a complete series; fewer where samples are missing).
    """
    nch = (S.shape[0] + _SERIES_PER_TASK - 1) // _SERIES_PER_TASK
    if nch == 1:  # one task: run here (waking the pool costs more than a few series' detection)
        _detect_chunk(S, pmin, pmax, nvalid, npairs, level, periods, strengths, np.int64(0))
        return
    for ch in prange(nch):
        _detect_chunk(S, pmin, pmax, nvalid, npairs, level, periods, strengths, np.int64(ch))


@jit()
def _detect_chunk(S, pmin, pmax, nvalid, npairs, level, periods, strengths, ch):
    # one task of ``detect``: its series share the work buffers
    B = S.shape[0]
    L = S.shape[1] - 1
    work = np.empty((_WORK_ROWS, L + 1))
    used = np.empty(L + 1, dtype=np.bool_)
    for b in range(ch * _SERIES_PER_TASK, min(B, (ch + 1) * _SERIES_PER_TASK)):
        _detect_one(S[b], nvalid[b], npairs[b], pmin, pmax, level, work, used, periods[b], strengths[b])


@jit()
def _integer_lag(rb, p0, v0, L):
    # integer-sampled seasonality (4, 7, 12, 52 samples): k1 when the
    # autocorrelation peaks exactly at k1, 2 k1, 3 k1, ... (up to _MAX_MULTIPLES,
    # while they stay above v0 / 4), else -1.  A parabola would be pulled off such a lag by
    # the slope a trend or the peak's asymmetry gives r.  A non-integer period
    # p passes only while m |p - k1| < 1/2 for every multiple m seen, so with
    # fewer than 4 multiples only short lags (a drift of < 1/4 sample) snap
    c = int(np.floor(p0 + 0.5))
    k1 = c
    for k in range(max(1, c - 1), min(L - 1, c + 1) + 1):
        if rb[k] > rb[k1]:
            k1 = k
    if k1 < 2:
        return -1
    m = 1
    while (m + 1) * k1 <= L - 1 and m < _MAX_MULTIPLES:
        k = (m + 1) * k1
        if rb[k] < 0.25 * v0:  # too weak to tell where the peak is
            break
        if rb[k] < rb[k - 1] or rb[k] < rb[k + 1]:
            return -1
        m += 1
    if m >= 4 or (m >= 2 and k1 <= 16):
        return k1
    return -1


@jit()
def _refine(rb, p0, v0, L):
    # the lag of the cycle whose candidate peak is at p0 (value v0): an exact
    # integer lag (see _integer_lag), else least-squares parabolas through the
    # peaks at its multiples (up to _MAX_MULTIPLES, while they stay above v0 / 2) and a
    # least-squares line through the origin
    k1 = _integer_lag(rb, p0, v0, L)
    if k1 > 0:
        return np.float64(k1)
    num = 0.0
    den = 0.0
    m = 1
    while m * p0 <= L - 1 and m <= _MAX_MULTIPLES:
        c = int(np.floor(m * p0 + 0.5))
        w = max(1, m // 2)
        kbest = np.int64(-1)  # (a literal -1 would compile the callees for it too)
        for k in range(max(1, c - w), min(L - 1, c + w) + 1):
            if kbest < 0 or rb[k] > rb[kbest]:
                kbest = k
        if kbest < 1 or rb[kbest] < 0.5 * v0:
            break
        hw = max(1, int(p0 / 10))
        lo = max(0, kbest - hw)
        hi = min(L, kbest + hw)
        if rb[kbest] - 0.5 * (rb[kbest - 1] + rb[kbest + 1]) > 0.5 * (rb[kbest] - 0.5 * (rb[lo] + rb[hi])):
            # a sharp peak (most of its fall within one sample: a season of
            # random shape): over a wide window a parabola is nearly flat and
            # its vertex anywhere, so the three samples at the top decide
            d = _parabola(rb, kbest)[0]
        else:
            # the vertex stays on the peak: within the lags where r stays
            # above half-way down to the window's lowest value (a window
            # wider than the peak, at a multiple of a shorter cycle, holds
            # several humps, and a parabola through them can put its vertex
            # on none of them)
            low = rb[kbest]
            for k in range(lo, hi + 1):
                low = min(low, rb[k])
            half = 0.5 * (rb[kbest] + low)
            left = 0
            while kbest - left - 1 >= lo and rb[kbest - left - 1] >= half:
                left += 1
            right = 0
            while kbest + right + 1 <= hi and rb[kbest + right + 1] >= half:
                right += 1
            d = min(np.float64(right), max(-np.float64(left), _ls_vertex(rb, kbest, hw, L)))
        num += m * (kbest + d)
        den += m * m
        m += 1
    return num / den if den > 0 else p0


@jit()
def _sub_cycle(rb, kc, kb, L, margin):
    # whether r at the multiples of kb (a multiple of kc) rises above the
    # mean of r at the multiples of kc either side of it, by margin on
    # average: the decay of r with the lag (a trend, a slow cycle) lowers
    # every later multiple alike, so a sub-cycle's season shows as peaks
    # standing out of the line through its neighbours, whatever the decay
    # (a plain mean would favour kc, whose first multiple is the highest)
    sb = 0.0
    nb = 0
    for k in range(kb, L - kc + 1, kb):
        sb += rb[k] - 0.5 * (rb[k - kc] + rb[k + kc])
        nb += 1
    return nb > 0 and sb / nb > margin


@jit()
def _candidate_at(lags, npk, k):
    # the candidate whose lag is within a sample of k (-1: none)
    for i in range(npk):
        if abs(lags[i] - k) <= 1.0:
            return i
    return -1


@jit()
def _refined(rb, lags, vals, refd, i, L):
    # candidate i's refined lag, computed once (refd: NaN until then)
    if np.isnan(refd[i]):
        refd[i] = _refine(rb, lags[i], vals[i], L)
    return refd[i]


@jit()
def _stands_out(rb, p, v, q, m, margin, L):
    # whether the peak v at lag p (near m q) rises above the mean of those at
    # (m -+ 1) q (what a decaying sequence of multiples would give there)
    lo = _near_peak(rb, (m - 1) * q, L)
    if (m + 1) * q > L - 1:
        return v > lo + margin
    return v > 0.5 * (lo + _near_peak(rb, (m + 1) * q, L)) + margin


@jit()
def _repeats(rb, p, n, few):
    # whether the series returns to itself after p much better than after
    # the lags in between: mean (x[t + k] - x[t])^2 is about 1 - r(k) / (1 -
    # k / n) in units of the variance, and at the period it must be at most
    # half its largest value over [p / 2, p).  A real cycle (even at 0 dB
    # SNR) gets about 1/3 or less; the humps in the autocorrelation of a
    # detrended random walk or a strongly correlated AR(1) do not repeat:
    # their mean square difference keeps growing with the lag (or stays
    # flat), 0.4 to 0.9, and show fewer than 6 cycles: there the bound is
    # 0.25 (a real cycle seen 4 to 6 times stays near 0.2 or below)
    return _repeats_within(rb, p, n, _REPEAT if n >= 6.0 * p else few)


@jit()
def _repeats_within(rb, p, n, bound):
    # _repeats with the bound given (the mean square difference at p over its
    # largest over [p / 2, p))
    k = int(np.floor(p + 0.5))
    worst = 0.0
    for j in range(k // 2, k):
        worst = max(worst, 1.0 - rb[j] / max(1.0 - j / n, 1e-3))
    return 1.0 - rb[k] / max(1.0 - k / n, 1e-3) <= bound * worst


@jit()
def _half_way(rb, x, L):
    # r at lag x rounded (lags past L: +2, so nothing stands out of them)
    k = int(np.floor(x + 0.5))
    return rb[k] if 0 <= k <= L else 2.0


@jit()
def _multiple_of(rb, p, v, score, lags, scores, vals, refd, npk, thr, stand, L):
    # whether the candidate at lag p (peak value v, score ``score``) sits near
    # a multiple of a shorter candidate without standing out of its multiples.
    # Only a shorter one scoring at least 0.6 of it counts: a cycle's
    # multiples score below it, while a weak wiggle at a short lag is no
    # cycle whose multiples a strong peak could be
    for i in range(npk):
        d = lags[i]
        if d >= p:
            break  # the candidates are in order of lag
        if scores[i] < thr or scores[i] < 0.6 * score:
            continue
        m = np.floor(p / d + 0.5)
        # the candidate's lag is within half a sample; its multiples drift by
        # m / 2: those near p are refined first (a slope pulls short peaks)
        if m < 2.0 or abs(p - m * d) > max(0.5, 0.02 * p) + 0.5 * m:
            continue
        d = _refined(rb, lags, vals, refd, i, L)
        m = np.floor(p / d + 0.5)
        if m >= 2.0 and abs(p - m * d) <= max(0.5, 0.02 * p):
            if not _stands_out(rb, p, v, d, m, stand, L):
                return True
    return False


@jit()
def _is_multiple(rb, p, v, score, kept, nk, lags, scores, vals, refd, npk, thr, stand, L):
    # whether the candidate at lag p (peak value v) is a multiple or an echo
    # of a shorter candidate or of the nk cycles already in kept: a
    # test that p's own sub-sample refinement does not change, made first.
    # "Near" a multiple allows a tenth of the shorter lag: the peaks of a
    # broad cycle drift by that much
    for j in range(nk):  # the kept cycles first: the cheaper test
        q = kept[j]
        m = np.floor(p / q + 0.5)
        if m >= 1.0 and abs(p - m * q) <= max(0.5, 0.02 * p, 0.1 * q):
            if m == 1.0 or not _stands_out(rb, p, v, q, m, stand, L):
                return True
        elif p > q:
            # an echo: r repeats with the kept cycle, so a peak at e < q
            # comes back at e + q, e + 2 q, ...; p is one unless it rises
            # above the autocorrelation at its remainder e
            e = p - np.floor(p / q) * q
            if v < _near_peak(rb, e, L) + thr:
                return True
    return _multiple_of(rb, p, v, score, lags, scores, vals, refd, npk, thr, stand, L)


@jit()
def _own_cycle(rb, p, v, score, kept, nk, lags, scores, vals, refd, npk, thr, stand, L):
    # the lag to report if the candidate at (refined) lag p is a cycle of its
    # own (no multiple or echo, and no divisor of a kept cycle unless it
    # shows as one under it: then the kept lag / m, the more precise), else -1
    if _is_multiple(rb, p, v, score, kept, nk, lags, scores, vals, refd, npk, thr, stand, L):
        return -1.0
    out = p
    for j in range(nk):
        q = kept[j]
        m = np.floor(q / p + 0.5)
        if m >= 2.0 and abs(q - m * p) <= max(0.5, 0.02 * q, 0.1 * p):
            if m == 2.0:
                return -1.0
            # a daily cycle under a weekly one: the peaks j p, j < m, rise
            # above r half a cycle either side (whatever the long cycle adds
            # there), all but one in five of them
            sub = q / m  # the kept cycle's lag is the more precise
            miss = 0
            for i in range(1, int(m)):
                pk = _near_peak(rb, i * sub, L)
                if pk < max(_half_way(rb, (i - 0.5) * sub, L), _half_way(rb, (i + 0.5) * sub, L)) + thr:
                    miss += 1
            if miss > (int(m) - 1) // 5:
                return -1.0
            out = sub
    return out


@jit()
def _detect_one(Sb, nvalid, npairs, pmin, pmax, level, work, used, periods, strengths):
    # one series of ``detect``: its lag sums Sb (L + 1), length, pairs, the
    # lag range and significance level; work (_WORK_ROWS, >= L + 1) and used
    # (>= L + 1) are buffers; its cycles go to periods, strengths (K)
    L = Sb.shape[0] - 1
    rb = work[_R]
    lags = work[_LAGS]
    scores = work[_SCORES]
    vals = work[_VALS]
    refd = work[_REFD]
    s0 = Sb[0]
    inv = 1.0 / s0 if s0 > 0.0 else 0.0
    for k in range(L + 1):
        rb[k] = Sb[k] * inv
    for q in range(periods.shape[0]):
        periods[q] = np.nan
        strengths[q] = np.nan
    lo = max(2, int(np.ceil(pmin)))
    hi = min(int(np.floor(pmax)), L - 1)
    if hi < lo:
        return
    thr = max(_MIN_LEVEL, level / np.sqrt(max(npairs, 1.0)))
    # a gappy series (fewer pairs than samples): the noise of r at different
    # lags comes from different pairs, nearly independent, so the mean over
    # a candidate's M multiples (its score) has 1 / sqrt(M) of a lag's; a
    # complete series' errors at nearby lags move together (Bartlett)
    gappy = npairs < 0.99 * nvalid
    npk = _candidates(rb, lo, hi, min(thr, _MAX_LEVEL), lags, scores, vals)
    if npk == 0:
        return
    # a gappy series' r is noisier: the worst of its lags before p, the
    # bound's reference, is raised by the noise, so with few cycles (where a
    # wandering series' humps live) the bound is tighter
    few = _REPEAT_FEW_GAPPY if gappy else _REPEAT_FEW
    chosen, best = _shortest_near_best(rb, lags, scores, vals, used, npk, nvalid, few)
    if chosen < 0:
        return
    chosen = _season(rb, lags, vals, npk, chosen, best, nvalid, max(_SEASON_MARGIN, thr / 3.0), few)
    final = thr
    if gappy:
        final = max(_MIN_LEVEL, thr / np.sqrt(np.sqrt(max(1.0, min(np.float64(_SCORE_MULTIPLES),
                                                                    np.floor((L - 1) / lags[chosen]))))))
    short = level / np.sqrt(max(nvalid, 1.0)) > _MAX_LEVEL  # (a gappy long series is no short one)
    if (vals[chosen] < final or scores[chosen] < final) and not (
            short and _repeats_within(rb, lags[chosen], nvalid, _CLEAN)):
        return  # not significant, and not a short series repeating cleanly either
    for i in range(npk):
        refd[i] = np.nan
    periods[0] = _refined(rb, lags, vals, refd, chosen, L)
    strengths[0] = min(1.0, max(-1.0, vals[chosen]))
    stand = max(_STAND, level / np.sqrt(max(npairs, 1.0)))
    _other_cycles(rb, lags, scores, vals, refd, used, npk, chosen, thr, stand, periods, strengths)


@jit()
def _candidates(rb, lo, hi, thr, lags, scores, vals):
    # the local maxima of r with lags in [lo, hi] that reach thr and that r
    # dips well below between half their lag and them: their sub-sample
    # lags, scores and peak values, in order of lag; returns their number
    L = rb.shape[0] - 1
    npk = 0
    for k in range(lo, hi + 1):
        if rb[k] >= thr and rb[k] > rb[k - 1] and rb[k] >= rb[k + 1]:
            floor = rb[k] - max(_MIN_LEVEL, _DIP * rb[k])
            deep = False
            for j in range(k - 1, k // 2 - 1, -1):  # nearest dip first
                if rb[j] <= floor:
                    deep = True
                    break
            if not deep:
                continue
            d, v = _parabola(rb, k)
            p = k + d
            m = 1
            tot = 0.0
            while m <= _SCORE_MULTIPLES and m * p <= L - 1:
                tot += _near_peak(rb, m * p, L)
                m += 1
            if m == 1:  # the peak's refined lag lies beyond the last scorable lag
                continue
            lags[npk] = p
            scores[npk] = tot / (m - 1)
            vals[npk] = v
            npk += 1
    return npk


@jit()
def _repeats_at(rb, lags, vals, i, nvalid, few):
    # _repeats for candidate i, with the looser _REPEAT_SEASON bound for an
    # exact integer season seen 6 times or more (r peaking exactly at its
    # first multiples, which the humps of a random walk or an AR(1) do
    # not): a weekly cycle of daily data under a strong yearly swing
    L = rb.shape[0] - 1
    if _repeats(rb, lags[i], nvalid, few):
        return True
    return nvalid >= 6.0 * lags[i] and _integer_lag(rb, lags[i], vals[i], L) > 0 and _repeats_within(
        rb, lags[i], nvalid, _REPEAT_SEASON)


@jit()
def _shortest_near_best(rb, lags, scores, vals, used, npk, nvalid, few):
    # (chosen, best): the best-scoring candidate the series repeats at
    # (``_repeats_at``), and the shortest one scoring within 1 - _NEAR_BEST of it
    # that it repeats at too; (-1, -1) when it repeats at none.  ``used``
    # marks the candidates found not to repeat
    for i in range(npk):
        used[i] = False
    while True:
        best = -1
        for i in range(npk):
            if not used[i] and (best < 0 or scores[i] > scores[best]):
                best = i
        if best < 0:
            return -1, -1
        if _repeats_at(rb, lags, vals, best, nvalid, few):
            break
        used[best] = True
    chosen = best
    for i in range(best):  # the candidates are in order of lag
        if not used[i] and scores[i] >= _NEAR_BEST * scores[best]:
            if _repeats_at(rb, lags, vals, i, nvalid, few):
                chosen = i
                break
            used[i] = True
    return chosen, best


@jit()
def _season(rb, lags, vals, npk, chosen, best, nvalid, margin, few):
    # integer-sampled seasonality whose season holds a strong sub-cycle (3
    # or 6 months in 12): where the chosen lag kc is an exact integer period
    # and an exact multiple kb of it (2 to _SEASON_FACTORS times, the
    # best-scoring lag first) is one too, which the series repeats at clearly
    # (by margin) better than at kc's other multiples, the season is kb, not
    # its sub-cycle.  Returns the candidate to report
    L = rb.shape[0] - 1
    kc = _integer_lag(rb, lags[chosen], vals[chosen], L)
    if kc > 0 and chosen != best:
        kb = _integer_lag(rb, lags[best], vals[best], L)
        if kb > 0 and kb % kc == 0 and _sub_cycle(rb, kc, kb, L, margin):
            chosen = best
            kc = kb
    while kc > 0:
        nxt = -1
        for j in range(2, _SEASON_FACTORS + 1):
            kb = j * kc
            if 2 * kb > L - 1:
                break
            i = _candidate_at(lags, npk, kb)
            if i >= 0 and _integer_lag(rb, lags[i], vals[i], L) == kb and _sub_cycle(rb, kc, kb, L, margin) \
                    and _repeats(rb, lags[i], nvalid, few):
                nxt = i
                break
        if nxt < 0:
            break
        chosen = nxt
        kc = kc * j
    return chosen


@jit()
def _other_cycles(rb, lags, scores, vals, refd, used, npk, chosen, thr, stand, periods, strengths):
    # the cycles after the period (periods[0], candidate ``chosen``), best
    # score first, each kept only if it is a cycle of its own
    L = rb.shape[0] - 1
    K = periods.shape[0]
    for i in range(npk):
        used[i] = False
    used[chosen] = True
    nk = np.int64(1)
    while nk < K:
        top = np.int64(-1)
        for i in range(npk):
            if not used[i] and (top < 0 or scores[i] > scores[top]):
                top = i
        if top < 0:
            break
        used[top] = True
        if scores[top] < thr:
            break  # best score first: the rest score lower still
        if _is_multiple(rb, lags[top], vals[top], scores[top], periods, nk, lags, scores, vals, refd, npk, thr, stand,
                        L):
            continue  # before refining: most candidates are multiples
        p = _own_cycle(rb, _refined(rb, lags, vals, refd, top, L), vals[top], scores[top], periods, nk, lags,
                       scores, vals, refd, npk, thr, stand, L)
        if p < 0.0:
            continue
        periods[nk] = p
        strengths[nk] = min(1.0, max(-1.0, vals[top]))
        nk += 1
