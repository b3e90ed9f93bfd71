"""Every kernel of ``sigcorr._kernels``, called directly, against its slow naive twin (``naive.py``).

As in stumpy: each kernel is run on small randomized inputs (fixed seeds; shape
spaces explored by hypothesis where the shapes pick the code path: edges,
passes of taps, blocks, chunks) and compared with the obvious computation.
Kernels are called positionally (their argument names may change) and only
with the argument types they declare (``_call`` checks), so no test compiles a
specialization ``sigcorr warmup`` does not provide.
"""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive
from sigcorr import _costs
from sigcorr import _twins
from sigcorr._kernels import acf, acf_fft, detect, direct, irregular, lags, layers, memory, network, peaks, pool, stream, windows  # noqa: E501
from sigcorr._kernels._jit import REGISTRY

FLOATS = [np.float32, np.float64]
SETTINGS = settings(max_examples=30, deadline=None)


def _call(kernel, *args):
    """``kernel(*args)``, after checking the argument types are declared."""
    sig = tuple(numba.typeof(a) for a in args)
    declared = REGISTRY[kernel.sigcorr_name][1]
    assert sig in declared, f"{kernel.sigcorr_name} called with undeclared argument types {sig}"
    return kernel(*args)


# corr_padded's outer axes for planes (images and series): none
_PLANES = (np.empty(0, np.int64),) * 4


def _tol(dtype, scale=1.0):
    return (2e-5 if np.dtype(dtype) == np.float32 else 1e-11) * max(1.0, scale)


def _rand(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def test_every_registered_kernel_is_called_here():
    # a new kernel needs a naive twin and a test in this file that calls it
    import sigcorr._warmup  # noqa: F401  (imports every kernel module)

    source = open(__file__).read()
    called = {name for name in REGISTRY if "_call({}.{},".format(*name.split(".")[-2:]) in source}
    assert called == set(REGISTRY), set(REGISTRY) - called


# ---------------------------------------------------------------------------
# direct correlation
# ---------------------------------------------------------------------------


@st.composite
def _corr_case(draw):
    B = draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 24))
    # kernel widths: passes of 8, 4, 3, 2, 1 taps, and the 5- and 7-tap paths
    h, w = draw(st.integers(1, 5)), draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 17]))
    pt, pl = draw(st.integers(0, h + 1)), draw(st.integers(0, w + 1))
    oh, ow = draw(st.integers(1, H + h + 1)), draw(st.integers(1, W + w + 1))
    dtype, seed = draw(st.sampled_from(FLOATS)), draw(st.integers(0, 2**32 - 1))
    return B, draw(st.sampled_from([1, B])), H, W, h, w, pt, pl, oh, ow, dtype, seed


@SETTINGS
@given(_corr_case())
def test_corr_padded_equals_naive(case):
    B, Bk, H, W, h, w, pt, pl, oh, ow, dtype, seed = case
    rng = np.random.default_rng(seed)
    img, ker = _rand(rng, (B, H, W), dtype), _rand(rng, (Bk, h, w), dtype)
    out = np.full((B, oh, ow), np.nan, dtype)
    got = _call(direct.corr_padded, img[:, None], ker[:, None], out[:, None], *_PLANES, pt, pl)[:, 0]
    want = naive.corr_padded(img, ker, pt, pl, oh, ow)
    np.testing.assert_allclose(got, want, atol=_tol(dtype, h * w))


@pytest.mark.parametrize("dtype", FLOATS)
def test_corr_padded_across_column_chunks(dtype, rng):
    # a row longer than a task's column chunk (direct.CHUNK), interior and edges
    img, ker = _rand(rng, (1, 2, direct.CHUNK + 37), dtype), _rand(rng, (1, 2, 7), dtype)
    out = np.empty((1, 3, direct.CHUNK + 43), dtype)
    got = _call(direct.corr_padded, img[:, None], ker[:, None], out[:, None], *_PLANES, 1, 6)[:, 0]
    np.testing.assert_allclose(got, naive.corr_padded(img, ker, 1, 6, 3, direct.CHUNK + 43), atol=_tol(dtype, 14))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kshape, pads", [((7, 7), (3, 3)), ((9, 13), (8, 12)), ((3, 7), (0, 6)), ((7, 5), (6, 4))])
def test_corr_padded_edges_over_copies(kshape, pads, dtype, rng):
    # edges wide enough to take the zero-extended copies (direct.STRIP_MACS),
    # a NaN and an inf in the image near them, a chunk edge and a short image
    for H, W in ((11, 37), (4, 9)) + (((2, direct.CHUNK + 5),) if kshape == (7, 7) else ()):
        img, ker = _rand(rng, (2, H, W), dtype), _rand(rng, (1,) + kshape, dtype)
        img[0, 1, 1], img[1, H - 1, W - 2] = np.nan, np.inf
        oh, ow = H + 2 * pads[0] - kshape[0] + 1, W + 2 * pads[1] - kshape[1] + 1
        out = np.empty((2, oh, ow), dtype)
        got = _call(direct.corr_padded, img[:, None], ker[:, None], out[:, None], *_PLANES, *pads)[:, 0]
        with np.errstate(invalid="ignore"):
            want = naive.corr_padded(img, ker, *pads, oh, ow)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], atol=_tol(dtype, np.prod(kshape)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_corr_padded_edges_with_nonfinite_taps(dtype, rng):
    # a NaN or inf kernel tap over the padding: the edges take the taps
    # inside the image only (0 * inf would be NaN), as the interior does
    img, ker = _rand(rng, (1, 9, 23), dtype), _rand(rng, (1, 7, 7), dtype)
    ker[0, 0, 0], ker[0, 6, 6] = np.inf, np.nan
    out = np.empty((1, 15, 29), dtype)
    got = _call(direct.corr_padded, img[:, None], ker[:, None], out[:, None], *_PLANES, 6, 6)[:, 0]
    with np.errstate(invalid="ignore"):
        want = naive.corr_padded(img, ker, 6, 6, 15, 29)
    assert np.isfinite(want).any() and not np.isfinite(want).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=_tol(dtype, 49))


@st.composite
def _corr_nd_case(draw):
    nd = draw(st.integers(3, 4))
    B = draw(st.integers(1, 2))
    shape = [draw(st.integers(1, 5)) for _ in range(nd - 1)] + [draw(st.integers(1, 12))]
    # the last axis picks the row passes (7 taps: three output rows per task)
    kshape = [draw(st.integers(1, 3)) for _ in range(nd - 1)] + [draw(st.sampled_from([1, 2, 3, 5, 7, 9]))]
    pads = [draw(st.integers(-1, m + 1)) for m in kshape]
    oshape = [draw(st.integers(1, n + m)) for n, m in zip(shape, kshape)]
    return B, draw(st.sampled_from([1, B])), shape, kshape, pads, oshape, draw(st.sampled_from(FLOATS)), \
        draw(st.integers(0, 2**32 - 1))


@settings(max_examples=20, deadline=None)
@given(_corr_nd_case())
def test_corr_padded_volumes_equal_naive(case):
    B, Bk, shape, kshape, pads, oshape, dtype, seed = case
    rng = np.random.default_rng(seed)
    vol, ker = _rand(rng, [B] + shape, dtype), _rand(rng, [Bk] + kshape, dtype)
    img = vol.reshape(B, -1, *shape[-2:])
    kf = ker.reshape(Bk, -1, *kshape[-2:])
    out = np.full((B, int(np.prod(oshape[:-2])), *oshape[-2:]), np.nan, dtype)
    outer = [np.array(v[:-2], dtype=np.int64) for v in (shape, kshape, oshape, pads)]
    got = _call(direct.corr_padded, img, kf, out, *outer, pads[-2], pads[-1])
    want = naive.corr_padded_nd(vol, ker, pads, oshape)
    np.testing.assert_allclose(got.reshape(want.shape), want, atol=_tol(dtype, np.prod(kshape)))


@st.composite
def _lag_case(draw):
    B = draw(st.integers(1, 3))
    N1, N2 = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    P = draw(st.integers(1, min(4, N2)))
    lo = draw(st.integers(-N2 - 3, N1 + 3))
    return B, draw(st.sampled_from([1, B])), N1, N2, P, lo, draw(st.integers(1, 30)), draw(st.sampled_from(FLOATS)), \
        draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(_lag_case())
def test_lag_window_equals_naive(case):
    B, Bk, N1, N2, P, lo, nl, dtype, seed = case
    rng = np.random.default_rng(seed)
    x, y = _rand(rng, (B, N1), dtype), _rand(rng, (Bk, N2), dtype)
    part = np.full((B, P, nl), np.nan, dtype)
    got = _call(lags.lag_window, x, y, part, lo)
    np.testing.assert_allclose(got, naive.lag_window(x, y, lo, nl, P), atol=_tol(dtype, N2))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7), st.integers(1, 300), st.floats(-1e3, 1e3))
def test_centre_rows_equals_naive(B, n, offset):
    x = np.random.default_rng(B * 1000 + n).standard_normal((B, n)) + offset
    out, means, sumsq = np.empty_like(x), np.empty(B), np.empty(B)
    _call(lags.centre_rows, x, out, means, sumsq)
    want, wmeans, wsumsq = naive.centre_rows(x)
    np.testing.assert_allclose(means, wmeans, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out, want, rtol=1e-9, atol=1e-9 * max(1.0, abs(offset)))
    np.testing.assert_allclose(sumsq, wsumsq, rtol=1e-9, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 200), st.sampled_from([1e-12, 1e-3, 0.5]))
def test_phat_whiten_equals_naive(B, n, eps):
    rng = np.random.default_rng(B * 1000 + n)
    fx = rng.standard_normal((B, n)) + 1j * rng.standard_normal((B, n))
    fy = rng.standard_normal((B, n)) + 1j * rng.standard_normal((B, n))
    fy[0, 0] = 0.0  # a zero bin: floored, not divided by zero
    if B > 1:
        fy[1] = 0.0  # an all-zero spectrum stays zero
    want = naive.phat_whiten(fx, fy, eps)
    got = _call(lags.phat_whiten, fx.copy(), fy, eps)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)



def test_centre_rows_flags_non_finite_rows_by_their_mean(rng):
    x = rng.standard_normal((3, 50))
    x[1, 7] = np.nan
    out, means, sumsq = np.empty_like(x), np.empty(3), np.empty(3)
    _call(lags.centre_rows, x, out, means, sumsq)
    assert np.isfinite(means[[0, 2]]).all() and np.isnan(means[1])



@pytest.mark.parametrize("where", ["x", "y"])
def test_lag_window_nan_reaches_only_the_lags_it_meets(where, rng):
    # a NaN meets the other input's samples, never the zero extension
    x, y = rng.standard_normal((1, 30)), rng.standard_normal((1, 12))
    (x if where == "x" else y)[0, 2] = np.nan
    for lo in (-15, -5, 0, 10, 25):
        part = np.empty((1, 3, 20))
        got = _call(lags.lag_window, x, y, part, lo)
        want = naive.lag_window(x, y, lo, 20, 3)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(0, 20), st.sampled_from([1, 2, 3, 7, 9, 17]), st.sampled_from(FLOATS),
       st.integers(0, 2**32 - 1))
def test_corr_push_equals_naive(B, n, m, dtype, seed):
    rng = np.random.default_rng(seed)
    hist, x, ker = _rand(rng, (B, m - 1), dtype), _rand(rng, (B, n), dtype), _rand(rng, (1, m), dtype)
    want, want_hist = naive.corr_push(hist, x, ker)
    work = np.full((B, m - 1 + n + 3), np.nan, dtype)
    out = np.full((B, n), np.nan, dtype)
    hist0 = hist.copy()
    got = _call(stream.corr_push, hist, x, work, ker, out)
    np.testing.assert_allclose(got, want, atol=_tol(dtype, m))
    np.testing.assert_array_equal(hist, want_hist.astype(dtype))
    # the reference twin (first calls) too
    got = _twins.corr_push(hist0, x, work, ker, np.empty_like(out))
    np.testing.assert_allclose(got, want, atol=_tol(dtype, m))
    np.testing.assert_array_equal(hist0, want_hist.astype(dtype))


@pytest.mark.parametrize("fft", [False, True])
@pytest.mark.parametrize("W, g, L, chunk", [(64, 16, 30, 16), (64, 16, 62, 48), (60, 20, 29, 7), (96, 32, 20, 200)])
def test_track_push_equals_naive(W, g, L, chunk, fft, rng):
    # a stream with a level that drifts (the reference moves), a NaN and a
    # spike (windows left to the caller), pushed in chunks: every window the
    # kernel slides has the naive residual's lag sums, and the twin (the
    # first calls) keeps the same state, so either can go on from the other;
    # with fft, every block pair is summed by FFT (the twin makes the blocks'
    # spectra the kernel goes on with)
    B, n = 2, 600
    t = np.arange(n)
    y = np.stack([np.sin(2 * np.pi * t / 9.3) + 0.3 * rng.standard_normal(n) + 40 * (t > 300),
                  np.cos(2 * np.pi * t / 5.0) + 0.01 * t + 0.2 * rng.standard_normal(n)])
    y[0, 100] = np.nan
    y[1, 450] = 50.0
    ends_all = np.arange(W, n + 1, g)
    want, kept = naive.track_sums(y, W, ends_all, L, 6.0)
    N = 1 << (2 * g - 1).bit_length() if fft else 0
    params = np.array([6.0, 64.0, 2.0 ** -500, 2.0 ** 500] + [float(fft)] * (W // g))
    tw = stream.block_twiddles(N)
    states = [[np.empty((B, W // g, L + 1)), np.empty((B, W // g, 2 * N)), np.empty(B),
               np.full(B, -1, dtype=np.int64)] for _ in range(2)]
    seen = {0: [], 1: []}
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        ends = ends_all[(ends_all > c0) & (ends_all <= c1)]
        if not ends.size:
            continue
        first = max(0, c0 - W)
        seq = np.ascontiguousarray(y[:, first:c1])
        for which, fn in ((0, lambda *a: _call(stream.track_push, *a)), (1, _twins.track_push)):
            R, F, ref, nxt = states[which]
            rows = ends.size * B
            S, info = np.empty((rows, L + 1)), np.empty((rows, 2))
            fn(seq, np.empty_like(seq), np.int64(first), ends.astype(np.int64), np.int64(g), R, F, tw, ref, nxt, params,
               S, info)
            seen[which].append((S, info[:, 0]))
        # each goes on from the other's state every other push
        if (c0 // chunk) % 4 == 1:
            states[1] = [a.copy() for a in states[0]]
        elif (c0 // chunk) % 4 == 3:
            states[0] = [a.copy() for a in states[1]]
    for which in (0, 1):
        S = np.concatenate([s for s, _ in seen[which]])
        status = np.concatenate([st for _, st in seen[which]])
        slid = status == 0
        assert slid.sum() > len(status) // 2  # most windows slide
        assert not (slid & ~kept).any()  # a window missing samples never does
        # (to the rounding of sums as large as lag 0's)
        err = np.abs(S[slid] - want[slid]) / want[slid, :1]
        assert err.max() < 1e-10, err.max()


# ---------------------------------------------------------------------------
# window statistics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("H, W, h, w", [(1, 1, 1, 1), (5, 9, 2, 3), (70, 11, 3, 11), (140, 20, 1, 20), (9, 30, 9, 1)])
def test_window_sums_equal_naive(H, W, h, w, rng):
    # more than one task of windows.ROWS output rows for the tall ones
    x = rng.standard_normal((H, W))
    np.testing.assert_allclose(_call(windows.window_sums, x, h, w), naive.window_sums(x, h, w), atol=1e-12 * h * w)


@pytest.mark.parametrize("dtype", FLOATS)
def test_row_sums_block_mean_centre_padded_equal_naive(dtype, rng):
    img = _rand(rng, (2, 13, 17), dtype)
    np.testing.assert_allclose(_call(windows.row_sums, img), naive.row_sums(img), atol=_tol(dtype, 17))
    img[1, 4, 5] = np.nan
    assert np.isnan(_call(windows.row_sums, img)[1, 4])
    img[1, 4, 5] = 0.5
    for f in (1, 2, 3, 5):
        got = _call(windows.block_mean, img, f)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, naive.block_mean(img, f), atol=_tol(dtype))
    g = rng.standard_normal(2).astype(dtype)
    for shape in [(2, 13, 17), (2, 16, 20)]:
        got = _call(windows.centre_padded, img, g, np.full(shape, np.nan, dtype))
        np.testing.assert_allclose(got, naive.centre_padded(img, g, shape), atol=_tol(dtype))


# ---------------------------------------------------------------------------
# template matching
# ---------------------------------------------------------------------------


def _blocks(full, by, bx, fill=np.nan):
    """A (oh, ow) map in the kernels' block layout (ny, nx, rows, cols),
    block (i, j) = full[i by:(i + 1) by, j bx:(j + 1) bx]; the rows and
    columns past (by, bx) hold ``fill`` (they must not be read)."""
    oh, ow = full.shape
    ny, nx = -(-oh // by), -(-ow // bx)
    out = np.full((ny, nx, by + 1, bx + 2), fill)
    for i in range(ny):
        for j in range(nx):
            blk = full[i * by:(i + 1) * by, j * bx:(j + 1) * bx]
            out[i, j, :blk.shape[0], :blk.shape[1]] = blk
    return out


def _valid_corr(planes, ker):
    """Valid cross-correlation of (C, H, W) planes with a (C, h, w) kernel, summed over C."""
    C, H, W = planes.shape
    _, h, w = ker.shape
    return sum(naive.corr_padded(planes[c:c + 1], ker[c:c + 1], 0, 0, H - h + 1, W - w + 1)[0] for c in range(C))


def _match_image(rng, C, H, W):
    img = rng.random((C, H, W))
    img[:, 2:9, 3:11] = 0.4   # a flat patch: ccoeff_normed 0 there
    img[:, -8:, -9:] = 0.0    # a black patch: ccorr_normed 0, sqdiff_normed 1 there
    return img


@pytest.mark.parametrize("layout", ["one block", "blocks"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", naive.METHODS)
def test_match_scores_equal_naive(method, dtype, layout, rng):
    C, H, W, h, w = 2, 24, 27, 5, 6
    img = _match_image(rng, C, H, W)
    img[1, 12, 14] = np.nan  # reaches only its windows
    tpl = rng.random((C, h, w))
    oh, ow = H - h + 1, W - w + 1
    ok = np.isfinite(img)
    clean = np.where(ok, img, 0.0)
    bad = naive.window_sums((~ok).sum(axis=0).astype(np.float64), h, w)
    ccoeff = method.startswith("ccoeff")
    # the image shifted by its mean and zero-padded (as the FFT tiles leave it) for the ccoeff
    # methods; the cross term from the centred template, whatever the shift
    g = clean.reshape(C, -1).mean(axis=1)
    src = np.zeros((C, H + 3, W + 2))
    src[:, :H, :W] = clean - g[:, None, None]
    tmean = tpl.reshape(C, -1).mean(axis=1)
    tc = tpl - tmean[:, None, None]
    full = _valid_corr(src[:, :H, :W], tc)
    by, bx = (oh, ow) if layout == "one block" else (7, 9)
    cross = _blocks(full, by, bx).astype(dtype)
    stats = (src if ccoeff else np.pad(clean, ((0, 0), (0, 2), (0, 1)))).astype(dtype)
    tsum2 = float((tpl ** 2).sum())
    tnorm = float(np.sqrt((tc ** 2).sum() if ccoeff else tsum2))
    qeps = 1e-13 * h * w * float(np.abs(stats).max()) ** 2
    # two templates at once (a stack shares the window sums): the second is the
    # first scaled, its own cross term, means and norms
    out = np.full((2, oh, ow), -7.0, dtype)
    crosses = np.stack([cross, (2.0 * cross.astype(np.float64)).astype(dtype)])
    tmeans = np.stack([tmean, 2.0 * tmean])
    tsum2s, tnorms = np.array([tsum2, 4.0 * tsum2]), np.array([tnorm, 2.0 * tnorm])
    both = _call(windows.match_scores, stats, h, w, crosses, by, bx, bad, naive.METHODS.index(method), tmeans,
                 tsum2s, tnorms, qeps, out)
    got, got2 = both[0], both[1]
    want = naive.match_scores(img, tpl, method)
    want2 = naive.match_scores(img, 2.0 * tpl, method)
    np.testing.assert_array_equal(np.isnan(got2), np.isnan(want2))
    scale2 = 1.0 if method.endswith("normed") else float(np.nanmax(np.abs(want2)))
    np.testing.assert_allclose(got2, want2, atol=(3e-5 if dtype == np.float32 else 1e-10) * scale2)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    scale = 1.0 if method.endswith("normed") else float(np.nanmax(np.abs(want)))
    np.testing.assert_allclose(got, want, atol=(3e-5 if dtype == np.float32 else 1e-10) * scale)
    if method.endswith("normed"):
        assert np.nanmin(got) >= (0 if method == "sqdiff_normed" else -1) and np.nanmax(got) <= 1
    # no non-finite sample: bad may be (1, 1)
    got = _call(windows.match_scores, stats, h, w, crosses, by, bx, np.zeros((1, 1)), naive.METHODS.index(method),
                tmeans, tsum2s, tnorms, qeps, out)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("layout", ["one block", "blocks"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", naive.METHODS)
def test_omit_scores_equal_naive(method, dtype, layout, rng):
    C, H, W, h, w, min_overlap = 2, 22, 25, 5, 6, 0.5
    img = _match_image(rng, C, H, W)
    img[:, rng.random((H, W)) < 0.1] = np.nan   # missing pixels (in every channel)
    img[:, :6, -7:] = np.nan                    # a corner missing: too little overlap, NaN
    tpl = rng.random((C, h, w))
    oh, ow = H - h + 1, W - w + 1
    P = np.isfinite(img).all(axis=0)
    ccoeff = method.startswith("ccoeff")
    g = np.array([p[P].mean() for p in img]) if ccoeff else np.zeros(C)
    t = tpl - tpl.reshape(C, -1).mean(axis=1)[:, None, None] if ccoeff else tpl
    f = np.where(P, img - g[:, None, None], 0.0)
    pres = P.astype(np.float64)[None]
    by, bx = (oh, ow) if layout == "one block" else (6, 8)
    X = _blocks(_valid_corr(f, t), by, bx)
    QT = _blocks(_valid_corr(pres, (t * t).sum(axis=0)[None]), by, bx)
    ST = np.concatenate([_blocks(_valid_corr(pres, t[c:c + 1]), by, bx) for c in range(C)])
    qtol = 1e-13 * h * w * float(np.abs(f).max()) ** 2
    ttol = (1e-5 if dtype == np.float32 else 1e-11) * float((t * t).sum())
    pad = ((0, 0), (0, 1), (0, 2))  # the planes may extend past what is read
    out = np.full((oh, ow), -7.0, dtype)
    got = _call(windows.omit_scores, np.pad(f, pad).astype(dtype), np.pad(pres, pad)[0].astype(dtype),
                X.astype(dtype), ST.astype(dtype), QT.astype(dtype), by, bx, h, w, naive.METHODS.index(method),
                qtol, ttol, min_overlap * h * w, out)
    want = naive.omit_scores(np.moveaxis(img, 0, -1), np.moveaxis(tpl, 0, -1), method, min_overlap=min_overlap)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    scale = 1.0 if method.endswith("normed") else float(np.nanmax(np.abs(want)))
    np.testing.assert_allclose(got, want, atol=(3e-4 if dtype == np.float32 else 1e-9) * scale)


# ---------------------------------------------------------------------------
# peaks
# ---------------------------------------------------------------------------


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 4), st.integers(0, 40), st.integers(1, 45),
       st.integers(0, 2**32 - 1))
def test_suppress_equals_naive(rows, cols, radius, k, max_out, seed):
    rng = np.random.default_rng(seed)
    coords = np.stack([rng.integers(0, rows, k), rng.integers(0, cols, k)], axis=1).astype(np.int64).reshape(k, 2)
    got = _call(peaks.suppress, coords, np.array([rows, cols], dtype=np.int64), radius, max_out)
    np.testing.assert_array_equal(got, naive.suppress(coords, radius, max_out))


# ---------------------------------------------------------------------------
# autocorrelation and periods
# ---------------------------------------------------------------------------


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 120), st.data())
def test_acf_direct_equals_naive(B, n, data):
    L = data.draw(st.integers(0, n - 1))
    y = np.random.default_rng(B * 1000 + n).standard_normal((B, n)) + 2.0
    got = _call(acf.acf_direct, y, L, np.full((B, L + 1), np.nan))
    np.testing.assert_allclose(got, naive.lag_sums(y, L), rtol=1e-12, atol=1e-10 * n)


def _fft_plans(n, L):
    """Every (N, two_blocks, L_fft) ``lag_sums_fft`` accepts for (n, L): one block
    of fft_length(n, L), and each split into two halves M >= n / 2 (the lags
    past M summed directly), whichever of them ``plan`` (a cost model) picks."""
    plans = [(acf_fft.fft_length(n, L), False, L)]
    M = 4
    while 2 * M < n:
        M *= 2
    while M < n:
        plans.append((2 * M, True, min(L, M)))
        if M >= L:
            break
        M *= 2
    assert tuple(acf_fft.plan(n, L, _costs.DEFAULTS.tail_mac)[:3]) in plans
    return plans


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 300), st.data())
def test_lag_sums_fft_every_plan_equals_naive(B, n, data):
    # the lanes of one task hold 32 series: batches past 32, and short last tasks
    L = data.draw(st.integers(0, n - 1))
    demean, adjusted, normalize = data.draw(st.booleans()), data.draw(st.booleans()), data.draw(st.booleans())
    rng = np.random.default_rng(B * 1000 + n)
    y = rng.standard_normal((B, n)) * rng.uniform(0.1, 10, (B, 1)) + rng.uniform(-5, 5, (B, 1))
    want = naive.acf(y, L, demean, adjusted, normalize)
    scale = 1.0 if normalize else np.abs(want).max() * (n if adjusted else 1)
    for N, two, Lf in _fft_plans(n, L):
        out = np.full((B, L + 1), np.nan)
        energy = np.full(B, np.nan)
        assert _call(acf_fft.lag_sums_fft, y, L, demean, adjusted, normalize, out, energy, N, two, Lf) == 0
        z = y - y.mean(axis=1, keepdims=True) if demean else y
        np.testing.assert_allclose(energy, (z * z).sum(axis=1), rtol=1e-12, err_msg=str((N, two, Lf)))
        np.testing.assert_allclose(out, want, atol=1e-12 * max(1.0, scale), err_msg=str((N, two, Lf)))


@pytest.mark.parametrize("B, n, L", [(33, 1024, 514), (35, 300, 262), (40, 129, 0), (2, 7, 6)])
def test_lag_sums_fft_every_plan_on_plan_edges(B, n, L, rng):
    # just past a power of two: two blocks with the lags past M summed directly
    y = rng.standard_normal((B, n)) + 1.0
    want = naive.acf(y, L, True, True, False)
    for N, two, Lf in _fft_plans(n, L):
        out = np.full((B, L + 1), np.nan)
        assert _call(acf_fft.lag_sums_fft, y, L, True, True, False, out, np.empty(B), N, two, Lf) == 0
        np.testing.assert_allclose(out, want, atol=1e-12 * np.abs(want).max() * n, err_msg=str((N, two, Lf)))


def _series(rng, B, n):
    t = np.arange(n)
    x = rng.standard_normal((B, n)) + rng.uniform(-1, 1, (B, 1)) * t / n * 5 + rng.uniform(-3, 3, (B, 1))
    x[0, rng.integers(0, n, 3)] = [40.0, -35.0, 60.0]  # spikes: flagged
    x[1, rng.random(n) < 0.1] = np.nan                  # missing samples
    x[2, :] = 1.5                                        # constant: nothing to flag
    x[3, :] = np.nan                                     # nothing finite
    x[4, :] = np.nan
    x[4, 7] = 2.0                                        # one sample
    return x


@pytest.mark.parametrize("n", [8, 50, 333])
def test_robust_residuals_equal_naive(n, rng):
    x = _series(rng, 8, n)
    for spike in (6.0, 2.0):
        y, nvalid = _call(acf.robust_residuals, x, spike)
        want_y, want_n = naive.robust_residuals(x, spike)
        np.testing.assert_array_equal(nvalid, want_n)
        np.testing.assert_allclose(y, want_y, atol=1e-9 * max(1.0, np.nanmax(np.abs(x))))


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 40), st.integers(10, 14), st.floats(0.0, 0.3), st.integers(0, 2**32 - 1))
def test_detect_first_period_equals_naive(p, reps, noise, seed):
    # series with an exact integer period p (a random pattern repeated, plus
    # noise), seen at 4 multiples or more: the period is reported exactly
    rng = np.random.default_rng(seed)
    while True:  # one cycle, no sub-cycle (which ``detect`` weighs against its multiples)
        pattern = rng.standard_normal(p)
        pattern -= pattern.mean()
        circular = np.array([pattern @ np.roll(pattern, s) for s in range(p)])
        if np.abs(circular[1:]).max() < 0.4 * circular[0]:
            break
    n = p * reps + int(rng.integers(0, p))
    x = np.tile(pattern, reps + 1)[:n] + noise * rng.standard_normal(n)
    L = n // 2
    S = naive.acf(x[None], L, demean=True, normalize=False)
    K = 3
    periods, strengths = np.full((1, K), -1.0), np.full((1, K), -1.0)
    nvalid = np.array([float(n)])
    # the callers' contract: lags up to pmax + 2 (a peak's neighbours and its parabola)
    _call(detect.detect, S, 2.0, float(L - 2), nvalid, nvalid, 2.5, periods, strengths)
    want = naive.first_period(S[0], 2.0, float(L - 2), float(n), 2.5)
    assert periods[0, 0] == want[0] == p
    np.testing.assert_allclose(strengths[0, 0], want[1], atol=1e-9)
    # the other cycles: strongest first, NaN-padded, never a multiple of p
    rest = periods[0, 1:]
    assert (np.isnan(rest) == np.isnan(strengths[0, 1:])).all()
    assert all(np.isnan(q) or abs(q / p - round(q / p)) > 0.05 for q in rest)


@pytest.mark.parametrize("n", [60, 400, 3000])
def test_detect_finds_no_period_in_noise(n, rng):
    S = naive.acf(rng.standard_normal((4, n)), n // 2, demean=True, normalize=False)
    S[3] = 0.0  # a series with no variance
    periods, strengths = np.zeros((4, 2)), np.zeros((4, 2))
    _call(detect.detect, S, 2.0, float(n // 2 - 2), np.full(4, float(n)), np.full(4, float(n)), 2.5, periods,
          strengths)
    for b in range(4):
        assert np.isnan(naive.first_period(S[b], 2.0, n // 2 - 2, n, 2.5)[0])
    assert np.isnan(periods).all() and np.isnan(strengths).all()


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------


def _pool_out(n, k, s, p, d, ceil):
    # torch's output length (ceil_mode: a last window must start inside the input or left padding)
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


@st.composite
def _pool_case(draw, dilation=True):
    P = draw(st.integers(1, 2))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ceil = draw(st.booleans())
    oh, ow = _pool_out(H, kh, sh, ph, dh, ceil), _pool_out(W, kw, sw, pw, dw, ceil)
    return P, H, W, kh, kw, sh, sw, ph, pw, dh, dw, max(oh, 0), max(ow, 0), draw(st.sampled_from(FLOATS)), \
        draw(st.integers(0, 2**32 - 1))


def _pool_input(rng, shape, dtype):
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.05] = np.nan
    x[rng.random(shape) < 0.05] = -np.inf
    return x.astype(dtype)


@SETTINGS
@given(_pool_case())
def test_max_pool_and_separable_equal_naive(case):
    P, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dtype, seed = case
    if oh < 1 or ow < 1:
        return
    x = _pool_input(np.random.default_rng(seed), (P, H, W), dtype)
    want, want_idx = naive.max_pool(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    out, idx = np.empty((P, 1, oh, ow), dtype), np.full((P, 1, oh, ow), -1, np.int64)
    got, got_idx = _call(pool.max_pool, x[:, None], 1, kh, kw, 1, sh, sw, 0, ph, pw, 1, dh, dw, True, out, idx)
    np.testing.assert_array_equal(got[:, 0], want.astype(dtype))
    np.testing.assert_array_equal(got_idx[:, 0], want_idx)
    sep = _call(pool.max_pool_separable, x, kh, kw, sh, sw, ph, pw, dh, dw, np.empty((P, oh, ow), dtype))
    np.testing.assert_array_equal(sep, want.astype(dtype))


@st.composite
def _pool3_case(draw):
    shape = [draw(st.integers(1, 6)) for _ in range(3)]
    k = [draw(st.integers(1, 3)) for _ in range(3)]
    s = [draw(st.integers(1, 3)) for _ in range(3)]
    p = [draw(st.integers(0, kk // 2)) for kk in k]
    d = [draw(st.integers(1, 2)) for _ in range(3)]
    ceil = draw(st.booleans())
    oshape = [_pool_out(*args, ceil) for args in zip(shape, k, s, p, d)]
    return draw(st.integers(1, 2)), shape, k, s, p, d, oshape, draw(st.sampled_from(FLOATS)), \
        draw(st.integers(0, 2**32 - 1))


@settings(max_examples=20, deadline=None)
@given(_pool3_case())
def test_max_pool_volumes_equal_naive(case):
    P, shape, k, s, p, d, oshape, dtype, seed = case
    if min(oshape) < 1:
        return
    x = _pool_input(np.random.default_rng(seed), [P] + shape, dtype)
    want, want_idx = naive.max_pool3(x, k, s, p, d, oshape)
    out, idx = np.empty([P] + oshape, dtype), np.full([P] + oshape, -1, np.int64)
    got, got_idx = _call(pool.max_pool, x, *k, *s, *p, *d, True, out, idx)
    np.testing.assert_array_equal(got, want.astype(dtype))
    np.testing.assert_array_equal(got_idx, want_idx)


@SETTINGS
@given(_pool_case(dilation=False), st.booleans())
def test_avg_pool_equals_naive(case, include_pad):
    P, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow, dtype, seed = case
    if oh < 1 or ow < 1:
        return
    x = np.random.default_rng(seed).standard_normal((P, H, W)).astype(dtype)
    x[0, 0, -1] = np.nan
    got = _call(pool.avg_pool, x, kh, kw, sh, sw, ph, pw, include_pad, np.empty((P, oh, ow), dtype))
    want = naive.avg_pool(x, kh, kw, sh, sw, ph, pw, include_pad, oh, ow)
    np.testing.assert_allclose(got, want, atol=_tol(dtype, kh * kw))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("H, W", [(2, 2), (5, 7), (8, 11), (10, 64)])
def test_2x2_pools_equal_naive(H, W, dtype, rng):
    x = _pool_input(rng, (3, H, W), dtype)
    oh, ow = H // 2, W // 2
    one = np.int64(1)
    got = _call(pool.max_pool_2x2, x, one, one, one, np.empty((3, oh, ow), dtype))
    np.testing.assert_array_equal(got, naive.max_pool(x, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow)[0].astype(dtype))
    # volumes: whole depth windows of kd planes, D planes a volume (two volumes)
    for kd, D in ((2, 5), (3, 6), (1, 3)):
        v = _pool_input(rng, (2, D, H, W), dtype)
        od = D // kd
        want = naive.max_pool3(v, (kd, 2, 2), (kd, 2, 2), (0, 0, 0), (1, 1, 1), (od, oh, ow))[0]
        args = (v.reshape(2 * D, H, W), np.int64(kd), np.int64(D), np.int64(od))
        got = _call(pool.max_pool_2x2, *args, np.empty((2 * od, oh, ow), dtype))
        np.testing.assert_array_equal(got.reshape(want.shape), want.astype(dtype))
        np.testing.assert_array_equal(_twins.max_pool_2x2(*args, np.empty((2 * od, oh, ow), dtype)).reshape(want.shape),
                                      want.astype(dtype))
    x = np.nan_to_num(x, nan=0.5, neginf=-2.0)
    got = _call(pool.avg_pool_2x2, x, np.empty((3, oh, ow), dtype))
    np.testing.assert_allclose(got, naive.avg_pool(x, 2, 2, 2, 2, 0, 0, True, oh, ow), atol=_tol(dtype))


# ---------------------------------------------------------------------------
# convolution layers
# ---------------------------------------------------------------------------


@st.composite
def _conv_case(draw):
    N, Ci, Co = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pt, pl = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    oh = (H + 2 * pt - dh * (kh - 1) - 1) // sh + 1
    ow = (W + 2 * pl - dw * (kw - 1) - 1) // sw + 1
    return N, Ci, Co, H, W, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, draw(st.sampled_from(FLOATS)), \
        draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(_conv_case())
def test_conv2d_general_equals_naive(case):
    N, Ci, Co, H, W, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, dtype, seed = case
    if oh < 1 or ow < 1:
        return
    rng = np.random.default_rng(seed)
    x, w, bias = _rand(rng, (N, Ci, H, W), dtype), _rand(rng, (Co, Ci, kh, kw), dtype), _rand(rng, Co, dtype)
    got = _call(layers.conv2d_general, x, w, bias, sh, sw, pt, pl, dh, dw, np.empty((N, Co, oh, ow), dtype))
    want = naive.conv2d(x, w, bias, sh, sw, pt, pl, dh, dw, oh, ow)
    np.testing.assert_allclose(got, want, atol=_tol(dtype, Ci * kh * kw))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 9), st.integers(1, 3), st.integers(1, 11),
       st.sampled_from(FLOATS), st.integers(0, 2**32 - 1))
def test_conv2d_unit_equals_naive(N, Ci, Co, kh, kw, dtype, seed):
    # output channels in blocks of four, then single ones; taps in passes of 5, 3 and 1
    rng = np.random.default_rng(seed)
    Hp, Wp = kh + int(rng.integers(0, 4)), kw + int(rng.integers(0, 6))
    xp, w, bias = _rand(rng, (N, Ci, Hp, Wp), dtype), _rand(rng, (Co, Ci, kh, kw), dtype), _rand(rng, Co, dtype)
    oh, ow = Hp - kh + 1, Wp - kw + 1
    got = _call(layers.conv2d_unit, xp, w, bias, np.empty((N, Co, oh, ow), dtype))
    want = naive.conv2d(xp, w, bias, 1, 1, 0, 0, 1, 1, oh, ow)
    np.testing.assert_allclose(got, want, atol=_tol(dtype, Ci * kh * kw))


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size, page", [(1, 4096), (memory.HUGE_PAGE + 12345, 4096), (3 * memory.HUGE_PAGE, 512)])
def test_touch_pages_equals_naive(size, page, rng):
    buf = rng.integers(1, 255, size).astype(np.uint8)
    want = naive.touch_pages(buf, page)
    _call(memory.touch_pages, buf, page)
    np.testing.assert_array_equal(buf, want)


# ---------------------------------------------------------------------------
# volume scores (``windows.volume_scores``)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", ["sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff_normed"])
def test_volume_scores_equal_naive(method, dtype, rng):
    from sigcorr._kernels.codes import MATCH_METHOD_CODES

    vol = rng.standard_normal((9, 8, 11)) + 2.0
    vol[2:6, 1:5, 3:8] = 1.5  # flat windows: the degenerate-window rule
    tpls = np.stack([vol[1:4, 2:6, 0:5], rng.standard_normal((3, 4, 5))])
    d, h, w = tpls.shape[1:]
    stats = vol - vol.mean() if method.startswith("ccoeff") else vol
    tmean = tpls.reshape(2, -1).mean(axis=1)
    tcs = tpls - tmean[:, None, None, None]
    win = np.lib.stride_tricks.sliding_window_view(vol, (d, h, w))
    cross = np.einsum("abcdef,tdef->tabc", win, tcs)  # sum I (T - mean T)
    tsum2 = (tpls ** 2).reshape(2, -1).sum(axis=1)
    tnorm = np.sqrt((tcs ** 2).reshape(2, -1).sum(axis=1) if method.startswith("ccoeff") else tsum2)
    qeps = 1e-13 * d * h * w * float(np.abs(stats).max()) ** 2
    out = np.empty(cross.shape, dtype)
    got = _call(windows.volume_scores, np.ascontiguousarray(stats, dtype=dtype), d, h, w, cross.astype(dtype),
                MATCH_METHOD_CODES[method], tmean, tsum2, tnorm, qeps, 2, out)
    for t in range(2):
        want = naive.volume_scores(vol, tpls[t], method)
        np.testing.assert_allclose(got[t], want, atol=_tol(dtype, float(np.abs(want).max())) * 10)


# ---------------------------------------------------------------------------
# irregular samples (times=)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gaussian", [True, False])
def test_irregular_kernel_lag_sums_and_twin_equal_naive(gaussian, rng):
    K, step = 12, 1.3
    rows = []
    for n in (1, 7, 40):
        t = np.sort(rng.uniform(0, 30.0, n))
        t[len(t) // 2:len(t) // 2 + 2] = t[len(t) // 2]  # repeated times
        rows.append((np.sort(t), rng.standard_normal(n)))
    B, N = len(rows), 40
    T = np.full((B, N), np.inf)
    X = np.zeros((B, N))
    m = np.array([len(r[0]) for r in rows], dtype=np.int64)
    for b, (t, x) in enumerate(rows):
        T[b, :len(t)], X[b, :len(t)] = t, x
    out = np.empty((B, 4, K + 1))
    _call(irregular.kernel_lag_sums, T, X, m, step, step / 4, gaussian, out)
    twin = np.empty((B, 4, K + 1))
    _twins.kernel_lag_sums(T, X, m, step, step / 4, gaussian, twin)
    for b, (t, x) in enumerate(rows):
        want = naive.kernel_lag_sums(t, x, step, step / 4, gaussian, K)
        np.testing.assert_allclose(out[b], want, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(twin[b], want, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# network matched filtering
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_network_stack_equals_naive_and_twin(dtype, rng):
    # missing windows (NaN), a channel of weight 0, degenerate ratios past
    # the slack (0) and just past 1 (+-1), a decimation grid that starts
    # inside the first block (a negative first output)
    G, C, nb, R, S = 2, 3, 4, 40, 30
    cross = _rand(rng, (G, C, nb, R), dtype)
    cross[0, 0, 1, :5] = [1.05, -1.05, 3.0, -0.5, 0.0]
    invn = (rng.random((C, 200)) * 0.6).astype(dtype)
    invn[1, 50:60] = np.nan
    invn[:, 70:72] = np.nan
    invn[0, 30:40] = 1.0
    wts = rng.random((G, C))
    wts[1, 2] = 0
    args = (cross, np.int64(-2), np.int64(S), rng.integers(0, 3, (G, C)), rng.integers(2, 9, (G, C)), wts,
            np.ones((G, C)), invn, np.int64(110), np.int64(3))
    got = _call(network.network_stack, *args, np.full((G, 40), -7.0, dtype))
    twin = _twins.network_stack(*args, np.full((G, 40), -7.0, dtype))
    want = naive.network_stack(*args, np.full((G, 40), -7.0))
    np.testing.assert_allclose(got, want, rtol=_tol(dtype), atol=_tol(dtype))
    np.testing.assert_allclose(twin, want, rtol=_tol(dtype), atol=_tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_window_norms_equals_naive_and_twin(dtype, rng):
    x = _rand(rng, (2, 300), dtype)
    x[0, 50] = np.nan
    x[0, 200] = np.inf
    x[1, 100:140] = 2.0  # flat windows
    args = (x, np.int64(20), np.array([0.1, 2.0]), np.full(2, 1e-12))
    got = _call(network.window_norms, *args, np.empty((2, 281), dtype))
    twin = _twins.window_norms(*args, np.empty((2, 281), dtype))
    want = naive.window_norms(*args)
    for a in (got, twin):
        np.testing.assert_allclose(a, want, rtol=10 * _tol(dtype))
    assert np.isnan(got[0, 31:51]).all() and (got[1, 100:121] == 0).all()
