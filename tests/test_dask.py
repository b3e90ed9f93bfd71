"""sigcorr.dask equals in-memory sigcorr, on odd chunkings and on a real cluster."""

import dataclasses

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import sigcorr  # noqa: E402
import sigcorr.dask as sd  # noqa: E402
from sigcorr import _costs  # noqa: E402

RTOL = 1e-12


@pytest.fixture
def user_chunks():
    """match_template on the chunks given (no merging of short ones), so that
    its halos cross several blocks."""
    with _costs.pinned(dataclasses.replace(_costs.DEFAULTS, dask_halo_blocks=1)):
        yield


def _close(got, want, rtol=RTOL):
    got = got.compute() if hasattr(got, "compute") else got
    finite = np.abs(want)[np.isfinite(want)]  # (an all-missing series' NaN has no scale)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, equal_nan=True)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_convolve_correlate_1d_every_mode(mode, method, rng):
    x = rng.standard_normal(1000)
    for m in (1, 4, 31, 130):  # kernels wider than the 37-sample chunks too
        k = rng.standard_normal(m)
        _close(sd.convolve(x, k, mode, method, chunks=37), sigcorr.convolve(x, k, mode, method))
        _close(sd.correlate(x, k, mode, method, chunks=37), sigcorr.correlate(x, k, mode, method))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate_2d_and_batches(mode, rng):
    img = rng.standard_normal((130, 101))
    for shape in [(3, 3), (4, 7), (20, 2)]:
        k = rng.standard_normal(shape)
        _close(sd.convolve(img, k, mode, chunks=(23, 17)), sigcorr.convolve(img, k, mode))
        _close(sd.correlate(img, k, mode, chunks=(23, 17)), sigcorr.correlate(img, k, mode))
    batch = rng.standard_normal((9, 300))
    k = rng.standard_normal((1, 12))
    _close(sd.correlate(batch, k, mode, axes=1, chunks=(4, 50)), sigcorr.correlate(batch, k, mode, axes=1))
    c = rng.standard_normal(200) + 1j * rng.standard_normal(200)
    kc = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    _close(sd.correlate(c, kc, mode, chunks=33), sigcorr.correlate(c, kc, mode))


@pytest.mark.parametrize("boundary, fillvalue", [("fill", 0), ("fill", 2.5), ("wrap", 0), ("symm", 0)])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_2d_boundaries_at_the_true_edges(boundary, fillvalue, mode, rng):
    img = rng.standard_normal((64, 77))
    for shape in [(3, 3), (4, 6), (9, 2)]:
        k = rng.standard_normal(shape)
        _close(sd.convolve2d(img, k, mode, boundary, fillvalue, chunks=(10, 13)),
               sigcorr.convolve2d(img, k, mode, boundary, fillvalue))
        _close(sd.correlate2d(img, k, mode, boundary, fillvalue, chunks=(10, 13)),
               sigcorr.correlate2d(img, k, mode, boundary, fillvalue))


@pytest.mark.parametrize("mode", ["constant", "reflect", "linear_ramp", "mean", "wrap"])
def test_match_template_pad_input_modes(mode, rng):
    # the whole image padded (true edges), then scored in blocks
    img = rng.random((90, 70))
    tpl = img[20:31, 30:38].copy()
    kw = {"constant_values": 0.5} if mode == "constant" else {}
    _close(sd.match_template(img, tpl, pad_input=True, mode=mode, chunks=(25, 30), **kw),
           sigcorr.match_template(img, tpl, pad_input=True, mode=mode, **kw), rtol=1e-9)
    colour = np.stack([img, img[::-1], 1 - img], axis=-1)
    _close(sd.match_template(colour, colour[20:31, 30:38], pad_input=True, mode=mode, chunks=(25, 30, 3), **kw),
           sigcorr.match_template(colour, colour[20:31, 30:38], pad_input=True, mode=mode, **kw), rtol=1e-9)


@pytest.mark.usefixtures("user_chunks")
@pytest.mark.parametrize("method", ["ccoeff_normed", "ccorr_normed", "sqdiff_normed", "ccoeff", "ccorr", "sqdiff"])
def test_match_template_every_method(method, rng):
    img = rng.random((150, 140))
    tpl = img[40:61, 70:86].copy()
    _close(sd.match_template(img, tpl, method, chunks=(19, 33)), sigcorr.match_template(img, tpl, method),
           rtol=1e-9)
    _close(sd.match_template(img, tpl, method, pad_input=True, chunks=40),
           sigcorr.match_template(img, tpl, method, pad_input=True), rtol=1e-9)
    mask = (rng.random(tpl.shape) > 0.3).astype(float)
    _close(sd.match_template(img, tpl, method, mask=mask, chunks=50),
           sigcorr.match_template(img, tpl, method, mask=mask), rtol=1e-9)


@pytest.mark.usefixtures("user_chunks")
def test_match_template_colour_1d_and_float32(rng):
    img = rng.random((90, 80, 3))
    tpl = img[10:25, 30:41]
    _close(sd.match_template(img, tpl, chunks=(30, 30, 1)), sigcorr.match_template(img, tpl), rtol=1e-9)
    sig = rng.standard_normal(500)
    _close(sd.match_template(sig, sig[100:140], chunks=60), sigcorr.match_template(sig, sig[100:140]), rtol=1e-9)
    img32 = img[..., 0].astype(np.float32)
    got = sd.match_template(img32, img32[5:21, 5:21], chunks=32).compute()
    assert got.dtype == np.float32
    _close(got, sigcorr.match_template(img32, img32[5:21, 5:21]), rtol=2e-4)


def test_match_template_merges_chunks_short_against_the_template(rng):
    img = rng.random((600, 260))
    tpl = img[100:108, 50:58].copy()
    want = sigcorr.match_template(img, tpl)
    # 19 x 33 chunks, blocks of at least 32 template extents (256): 266 + 334
    # rows (the short rest joins the last block), all 260 columns
    got = sd.match_template(img, tpl, chunks=(19, 33))
    assert got.chunks == ((266, 327), (253,))
    _close(got, want, rtol=1e-9)
    # at most dask_block_bytes of image per block: here 64 x 64 float64
    small = dataclasses.replace(_costs.DEFAULTS, dask_block_bytes=64 * 64 * 8)
    with _costs.pinned(small):
        got = sd.match_template(img, tpl, chunks=(19, 33))
        assert got.chunks[0][:3] == (76, 76, 76) and got.chunks[1] == (66, 66, 121)
        _close(got, want, rtol=1e-9)
    # chunks long enough already: kept
    assert sd.match_template(img, tpl, chunks=(300, 260)).chunks == ((300, 293), (253,))


@pytest.mark.parametrize("kw", [dict(), dict(threshold=0.5), dict(max_matches=7, min_distance=4),
                                dict(min_distance=9, subpixel=True), dict(maximize=False, min_distance=2)])
def test_find_matches_equals_in_memory(kw, rng):
    s = rng.random((120, 97))
    s[3, 4] = np.nan
    want = sigcorr.find_matches(s, **kw)
    got = sd.find_matches(s, chunks=(17, 23), **kw)
    np.testing.assert_array_equal(got.positions, want.positions)
    np.testing.assert_array_equal(got.scores, want.scores)
    one = rng.random(400)
    w1 = sigcorr.find_matches(one, min_distance=3, **{k: v for k, v in kw.items() if k != "min_distance"})
    g1 = sd.find_matches(one, min_distance=3, chunks=31, **{k: v for k, v in kw.items() if k != "min_distance"})
    np.testing.assert_array_equal(g1.positions, w1.positions)


@pytest.mark.parametrize("adjusted", [False, True])
@pytest.mark.parametrize("demean, normalize", [(True, True), (False, False), (True, False)])
def test_autocorrelation_long_series_chunked_in_time(adjusted, demean, normalize, rng):
    x = rng.standard_normal(5000).cumsum() + 10
    for L in (0, 7, 300):
        kw = dict(demean=demean, normalize=normalize, adjusted=adjusted)
        _close(sd.autocorrelation(x, L, chunks=211, **kw), sigcorr.autocorrelation(x, L, **kw), rtol=1e-10)
    x[[5, 900, 4999]] = np.nan
    _close(sd.autocorrelation(x, 50, chunks=400, adjusted=adjusted), sigcorr.autocorrelation(x, 50, adjusted=adjusted),
           rtol=1e-10)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e155, 1e300])
def test_autocorrelation_chunked_in_time_is_scale_free(scale, rng):
    # each block scaled by its own power of two, the blocks added at the
    # row's largest: normalized results as at scale 1, unnormalized ones in
    # the data's units (inf or subnormal only where the true value is)
    X = rng.standard_normal((3, 2000)) + np.array([[0.0], [5.0], [0.0]])
    X[1, ::7] = np.nan
    X[2, :1000] *= 1e-6  # blocks of very different sizes in one row
    for adjusted in (False, True):
        want = sigcorr.autocorrelation(X, 30, adjusted=adjusted)
        got = sd.autocorrelation(X * scale, 30, adjusted=adjusted, chunks=(2, 300)).compute()
        np.testing.assert_allclose(got, want, atol=1e-12)
    if scale != 1e300:
        return
    want = sigcorr.autocorrelation(X, 30, demean=False, normalize=False)
    with np.errstate(over="ignore"):
        true = np.ldexp(want, 1040)
    plain = sd.autocorrelation(X * 2.0 ** 520, 30, demean=False, normalize=False, chunks=(2, 300)).compute()
    assert np.isinf(plain).any() and not np.isnan(plain).any()
    np.testing.assert_array_equal(np.isinf(plain), np.isinf(true))
    np.testing.assert_allclose(plain[~np.isinf(true)], true[~np.isinf(true)], rtol=1e-9)
    tiny = sd.autocorrelation(X * 2.0 ** -300, 30, demean=False, normalize=False, chunks=(2, 300)).compute()
    np.testing.assert_allclose(np.ldexp(tiny, 600), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_autocorrelation_batches(rng):
    X = rng.standard_normal((70, 300))
    _close(sd.autocorrelation(X, 40, chunks=(16, 300)), sigcorr.autocorrelation(X, 40))
    _close(sd.autocorrelation(X, 40, chunks=(16, 77)), sigcorr.autocorrelation(X, 40), rtol=1e-10)
    _close(sd.autocorrelation(X.T, 40, axis=0, chunks=(300, 16)), sigcorr.autocorrelation(X.T, 40, axis=0))


def test_crosscorrelation_pairs_as_blocks(rng):
    x = rng.standard_normal((25, 300))
    y = np.roll(x, 3, axis=1) + 0.5 * rng.standard_normal((25, 300))
    y[2, 7] = np.nan
    for kw in (dict(), dict(two_sided=False, adjusted=True), dict(demean=False, normalize=False)):
        _close(sd.crosscorrelation(x, y, 40, chunks=(6, 100), **kw), sigcorr.crosscorrelation(x, y, 40, **kw))
    _close(sd.crosscorrelation(x.T, y.T, 10, axis=0, chunks=(300, 5)), sigcorr.crosscorrelation(x.T, y.T, 10, axis=0))


def test_detect_period_series_as_blocks(rng):
    t = np.arange(600)
    X = np.sin(2 * np.pi * t / rng.uniform(10, 60, (50, 1))) + 0.3 * rng.standard_normal((50, 600))
    got = sd.detect_period(X, chunks=(7, 100))
    want = sigcorr.detect_period(X)
    np.testing.assert_array_equal(got.period.compute(), want.period)
    np.testing.assert_array_equal(got.strength.compute(), want.strength)
    assert sd.detect_period(X[0]).period == want.period[0]


def test_detect_periods_series_as_blocks(rng):
    t = np.arange(1200)
    X = (np.sin(2 * np.pi * t / 24) + (t % 168 < 48) + 0.3 * rng.standard_normal((30, 1200)))
    X[3] = rng.standard_normal(1200)
    got = sd.detect_periods(X, max_periods=4, chunks=(7, 200))
    want = sigcorr.detect_periods(X, max_periods=4)
    assert got.periods.shape == (30, 4)
    np.testing.assert_array_equal(got.periods.compute(), want.periods)
    np.testing.assert_array_equal(got.strengths.compute(), want.strengths)
    np.testing.assert_array_equal(sd.detect_periods(X[0], max_periods=4).periods, want.periods[0])
    along0 = sd.detect_periods(X.T, axis=0, chunks=(1200, 10))
    np.testing.assert_array_equal(along0.periods.compute(), sigcorr.detect_periods(X).periods)


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), (3, 1, 1), (4, 3, 2), (5, 2, 2)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pooling(args, ceil_mode, rng):
    x = rng.standard_normal((2, 3, 45, 38))
    _close(sd.max_pool2d(x, *args, ceil_mode=ceil_mode, chunks=(1, 3, 16, 13)),
           sigcorr.max_pool2d(x, *args, ceil_mode=ceil_mode))
    for inc in (True, False):
        _close(sd.avg_pool2d(x, *args, ceil_mode=ceil_mode, count_include_pad=inc, chunks=(1, 3, 16, 13)),
               sigcorr.avg_pool2d(x, *args, ceil_mode=ceil_mode, count_include_pad=inc))
    s = x[0, 0]
    _close(sd.max_pool1d(s, *args, ceil_mode=ceil_mode, chunks=(5, 9)), sigcorr.max_pool1d(s, *args, ceil_mode=ceil_mode))
    _close(sd.max_pool1d(s, 3, 2, 1, dilation=2, chunks=(5, 9)), sigcorr.max_pool1d(s, 3, 2, 1, dilation=2))
    _close(sd.avg_pool1d(s, *args, ceil_mode=ceil_mode, chunks=(5, 9)), sigcorr.avg_pool1d(s, *args, ceil_mode=ceil_mode))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_convolve_correlate_volumes_at_the_true_edges(mode, method, rng):
    vol = rng.standard_normal((21, 19, 23))
    k = rng.standard_normal((3, 4, 2))
    _close(sd.convolve(vol, k, mode, method, chunks=(8, 7, 9)), sigcorr.convolve(vol, k, mode, method), rtol=1e-10)
    _close(sd.correlate(vol, k, mode, method, chunks=(8, 7, 9)), sigcorr.correlate(vol, k, mode, method), rtol=1e-10)
    batch = rng.standard_normal((3, 12, 11, 10))
    _close(sd.correlate(batch, k[None], mode, method, axes=(1, 2, 3), chunks=(2, 5, 6, 4)),
           sigcorr.correlate(batch, k[None], mode, method, axes=(1, 2, 3)), rtol=1e-10)


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), (3, 1, 1), ((2, 3, 2), (1, 2, 2), (1, 1, 0))])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pooling_volumes(args, ceil_mode, rng):
    x = rng.standard_normal((2, 17, 15, 19)).astype(np.float32)
    _close(sd.max_pool3d(x, *args, ceil_mode=ceil_mode, chunks=(1, 9, 8, 10)),
           sigcorr.max_pool3d(x, *args, ceil_mode=ceil_mode))
    _close(sd.max_pool3d(x, 3, 2, 1, dilation=(1, 2, 1), chunks=(1, 9, 8, 10)),
           sigcorr.max_pool3d(x, 3, 2, 1, dilation=(1, 2, 1)))
    for inc in (True, False):
        _close(sd.avg_pool3d(x, *args, ceil_mode=ceil_mode, count_include_pad=inc, chunks=(1, 9, 8, 10)),
               sigcorr.avg_pool3d(x, *args, ceil_mode=ceil_mode, count_include_pad=inc), rtol=1e-5)


def test_conv_layers_batch_as_blocks(rng):
    x = rng.standard_normal((7, 3, 20, 21))
    w = rng.standard_normal((4, 3, 3, 5))
    b = rng.standard_normal(4)
    _close(sd.conv2d(x, w, b, stride=2, padding=1, chunks=(3, 1, 5, 5)), sigcorr.conv2d(x, w, b, stride=2, padding=1))
    _close(sd.conv1d(x[:, :, 0], w[:, :, 0], b, padding="same", chunks=(2, 3, 21)),
           sigcorr.conv1d(x[:, :, 0], w[:, :, 0], b, padding="same"))
    v, wv = rng.standard_normal((5, 2, 6, 7, 8)), rng.standard_normal((3, 2, 3, 2, 3))
    _close(sd.conv3d(v, wv, b[:3], stride=(1, 2, 1), padding=1, chunks=(2, 1, 3, 3, 3)),
           sigcorr.conv3d(v, wv, b[:3], stride=(1, 2, 1), padding=1))


def test_bad_input_is_explained():
    x = da.from_array(np.arange(100.0), chunks=10)
    unknown = x[x > 50]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        sd.correlate(unknown, np.ones(3))
    with pytest.raises(ValueError, match="batch axes"):
        sd.correlate(np.ones((4, 50)), np.ones((4, 3)), axes=1, chunks=(2, 10))
    with pytest.raises(ValueError, match="valid"):
        sd.correlate(np.ones(5), np.ones(9), "valid")
    with pytest.raises(ValueError, match="mode"):
        sd.convolve(np.ones(50), np.ones(3), "bogus", chunks=10)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           memory_limit="400MB")
    cl = Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


def test_on_a_two_process_cluster(client, rng):
    X = rng.standard_normal((40, 400)) + np.sin(np.arange(400) / 4.0)
    img = rng.random((200, 180))
    assert client.run(lambda: __import__("sigcorr").__name__)  # workers import sigcorr
    r = sd.detect_period(X, chunks=(10, 400))
    np.testing.assert_array_equal(r.period.compute(), sigcorr.detect_period(X).period)
    _close(sd.correlate2d(img, img[:5, :5], "same", "wrap", chunks=50),
           sigcorr.correlate2d(img, img[:5, :5], "same", "wrap"))
    _close(sd.match_template(img, img[50:70, 60:80], chunks=64), sigcorr.match_template(img, img[50:70, 60:80]),
           rtol=1e-9)
    crops = np.stack([img[50:70, 60:80], img[100:120, 10:30]])
    for chunks in (64, (50, 90)):
        _close(sd.match_template(img, crops, chunks=chunks), sigcorr.match_template(img, crops), rtol=1e-9)
    # a volume's peaks, block by block on the workers
    vol = rng.random((24, 20, 22))
    want = sigcorr.find_matches(vol, min_distance=3, max_matches=20, subpixel=True, volume=True)
    got = sd.find_matches(vol, min_distance=3, max_matches=20, subpixel=True, volume=True, chunks=(12, 10, 11))
    np.testing.assert_array_equal(got.positions, want.positions)
    np.testing.assert_array_equal(got.scores, want.scores)


def test_zarr_input_larger_than_worker_memory(client, tmp_path):
    zarr = pytest.importorskip("zarr")
    # 440 MB of float32 on disk, more than the 400 MB limit of each worker:
    # read, correlated and written back block by block (uncompressed, for speed)
    shape, chunk = (10_000, 11_000), (2_000, 2_200)
    z = zarr.create_array(str(tmp_path / "big.zarr"), shape=shape, chunks=chunk, dtype="f4", compressors=None)
    da.store(da.random.default_rng(0).random(shape, dtype=np.float32, chunks=chunk), z, lock=False)
    res = zarr.create_array(str(tmp_path / "out.zarr"), shape=shape, chunks=chunk, dtype="f4", compressors=None)
    k = np.ones((3, 3), np.float32) / 9
    x = da.from_zarr(str(tmp_path / "big.zarr"))
    da.store(sd.correlate2d(x, k, "same").rechunk(chunk), res, lock=False)
    corner = np.asarray(z[:50, :50])
    np.testing.assert_allclose(res[:49, :49], sigcorr.correlate2d(corner, k, "same")[:49, :49], rtol=1e-5)
    # no worker was killed for exceeding its memory limit
    assert len(client.scheduler_info()["workers"]) == 2


def _message(case, module):
    with pytest.raises((ValueError, TypeError)) as info:
        case(module)
    return f"{type(info.value).__name__}: {info.value}"


def test_bad_input_gives_the_in_memory_message():
    # one rule and one wording in sigcorr._validate for both front ends
    x3 = np.ones((3, 4, 5))
    cases = [
        (lambda m: m.convolve(x3, np.ones((1, 1, 2)), axes=())),  # no axis named
        (lambda m: m.correlate(np.ones((3, 4)), np.ones(2))),  # dimensionality
        (lambda m: m.convolve(np.ones((3, 4)), np.ones((1, 2)), axes=(0, 5))),  # axis out of bounds
        (lambda m: m.convolve2d(np.ones(5), np.ones(2))),  # 2-D only
        (lambda m: m.convolve2d(np.ones((4, 4)), np.ones((2, 2)), fillvalue=[1, 2])),
        (lambda m: m.correlate2d(np.ones((4, 4)), np.ones((2, 2)), fillvalue=1j)),
        (lambda m: m.match_template(np.ones((5, 5)), np.ones((6, 2)))),  # too large
        (lambda m: m.match_template(np.ones((5, 5, 3)), np.ones((2, 2, 2)))),  # channels
        (lambda m: m.match_template(np.ones((5, 5)), np.ones(2))),  # dimensions
        (lambda m: m.match_template(np.ones((5, 5)), np.ones((2, 2)), pad_input=1)),
        (lambda m: m.find_matches(np.ones((5, 5)), maximize="yes")),
        (lambda m: m.autocorrelation(np.ones((3, 8)), axis=2)),
        (lambda m: m.autocorrelation(np.ones(8), 8)),
        (lambda m: m.autocorrelation(np.ones(8), demean=1)),
        (lambda m: m.detect_period(np.ones((2, 100)), fs=0)),
        (lambda m: m.detect_period(np.ones((2, 100)), axis=3)),
        (lambda m: m.max_pool2d(np.ones(8), 2)),
        (lambda m: m.max_pool1d(np.ones(8), 3, padding=2)),
        (lambda m: m.avg_pool1d(np.ones(8), 2, count_include_pad="no")),
        (lambda m: m.conv2d(np.ones((3, 8, 8)), np.ones((1, 1, 2, 2)))),
    ]
    for case in cases:
        want = _message(case, sigcorr)
        assert _message(case, sd) == want, want
    with pytest.raises(ValueError, match=r"^scores must be 1-D or 2-D, got 3-D$"):  # no stacks here
        sd.find_matches(np.ones((2, 3, 3)))


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.float32, np.float64])
def test_find_matches_keeps_the_maps_dtype(dtype):
    s = np.zeros((30, 30), dtype=dtype)
    s[5, 5], s[20, 12] = 9, 7
    want = sigcorr.find_matches(s, min_distance=2)
    got = sd.find_matches(s, min_distance=2, chunks=10)
    assert got.scores.dtype == want.scores.dtype == dtype
    assert got.scores.tolist() == want.scores.tolist() == [9, 7]
    for empty in (np.zeros((0, 4), dtype=dtype), np.zeros((4, 4), dtype=dtype)):
        assert sd.find_matches(empty, chunks=2).scores.dtype == sigcorr.find_matches(empty).scores.dtype == dtype


def test_each_task_runs_on_its_share_of_the_cores():
    # nested parallelism: a threaded scheduler running k tasks at once gives
    # each task's kernels threads() // k threads, restored after the task
    import concurrent.futures

    import dask
    import numba

    from sigcorr import _runtime
    from sigcorr.dask._blocks import per_task, task_threads

    total = _runtime.threads()
    assert task_threads() == total  # the main thread: the synchronous scheduler
    with dask.config.set(num_workers=2), concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(task_threads).result() == max(1, total // 2)
        inside = pool.submit(per_task(numba.get_num_threads)).result()
        after = pool.submit(numba.get_num_threads).result()
    assert inside == max(1, total // 2)
    assert after == numba.get_num_threads()


def test_find_matches_nan_threshold_and_huge_min_distance():
    s = np.random.default_rng(23).random((40, 30))
    with pytest.raises(ValueError, match=r"^threshold must be a number, not NaN"):
        sd.find_matches(s, threshold=np.nan, chunks=10)
    for d in (10**9, 2**62):
        m = sd.find_matches(s, min_distance=d, chunks=(10, 7))
        assert m.positions.tolist() == sigcorr.find_matches(s, min_distance=d).positions.tolist()
        assert len(m) == 1


@pytest.mark.usefixtures("user_chunks")
@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff"])
def test_match_template_stacks_equal_in_memory(method, rng):
    # issue 23: template stacks were refused with a misleading dimensions message
    img = rng.random((90, 100))
    crops = np.stack([img[:7, :9], img[30:37, 40:49], img[50:57, 10:19]])
    colour = np.dstack([img, img ** 2])
    cases = [(img, crops, {}, [13, (20, 33), 90]), (img[0], crops[:, 0], {}, [13, 40]),
             (colour, np.stack([np.dstack([c, c ** 2]) for c in crops]), {}, [(20, 33, 2), (45, 50, 1)]),
             (img, crops, {"pad_input": True}, [(20, 33)]),
             (img, crops[:, :, :3], {"stack": True}, [(30, 25)])]  # (3, 7, 3): a stack only when told
    for image, stack, kw, chunkings in cases:
        want = sigcorr.match_template(image, stack, method, **kw)
        assert want.shape[0] == len(stack)
        for chunks in chunkings:
            got = sd.match_template(image, stack, method, chunks=chunks, **kw)
            assert got.shape == want.shape and got.dtype == want.dtype
            _close(got, want, rtol=1e-9)
    with pytest.raises(ValueError, match="ambiguous"):
        sd.match_template(img, crops[:, :, :3], chunks=30)


def test_match_template_empty_inputs_give_the_in_memory_message():
    for image, template, kw in ((np.ones((0, 5)), np.ones((2, 2)), {}), (np.ones(0), np.ones(2), {}),
                                (np.ones((5, 5)), np.ones((0, 2)), {}),
                                (np.ones((5, 5)), np.ones((0, 2, 2)), {"stack": True})):
        def case(m, image=image, template=template, kw=kw):
            return m.match_template(image, template, **kw)

        want = _message(case, sigcorr)
        assert "empty" in want or "at least one template" in want
        assert _message(case, sd) == want


def test_find_matches_a_maps_only_score_is_its_match():
    for s in (np.array([[0.5]]), np.array([0.5]), np.array([[np.nan, 0.5, np.nan, np.nan]])):
        m = sd.find_matches(s, chunks=1)
        assert m.scores.tolist() == [0.5]
        assert m.positions.tolist() == sigcorr.find_matches(s).positions.tolist()
    assert len(sd.find_matches(np.ones((4, 4)), chunks=2)) == 0  # a flat map: none


# --- issue 23 ------------------------------------------------------------------


def test_crosscorrelation_broadcasts_as_in_memory(client, rng):
    x = rng.standard_normal((3, 120))
    y = rng.standard_normal((1, 120))
    for chunks in [None, (1, 120), (2, 40), (3, 7)]:
        for a, b in ((x, y), (y, x), (x, y[0])) + (((x[:, None], y),) if chunks is None else ()):
            want = sigcorr.crosscorrelation(a, b, 6)
            _close(sd.crosscorrelation(a, b, 6, chunks=chunks).compute(), want)
    with pytest.raises(ValueError, match="do not broadcast"):
        sd.crosscorrelation(x, rng.standard_normal((2, 120)))


def test_all_missing_and_masked_series(rng):
    x = rng.standard_normal((3, 300))
    x[1] = np.nan
    for c in [(3, 300), (2, 70)]:  # whole series per block, and the time axis chunked
        _close(sd.autocorrelation(x, 8, chunks=c), sigcorr.autocorrelation(x, 8), rtol=1e-10)
        assert np.isnan(sd.autocorrelation(x, 8, chunks=c).compute()[1]).all()
    r = sd.crosscorrelation(x, x[0], 5, chunks=(1, 300)).compute()
    assert np.isnan(r[1]).all()
    _close(r, sigcorr.crosscorrelation(x, x[0], 5))
    mask = np.zeros(x.shape, bool)
    mask[:, 10] = True
    xm = np.ma.masked_array(np.where(mask, 1e9, x), mask)
    xn = np.where(mask, np.nan, x)
    _close(sd.autocorrelation(xn, 8, chunks=(2, 70)), sigcorr.autocorrelation(xm, 8), rtol=1e-10)
    _close(sd.detect_period(xn, chunks=(1, 300)).period, sigcorr.detect_period(xm).period)


def test_wrap_and_symm_kernels_larger_than_the_array_are_refused(rng):
    # found by the fuzz's explore run: the padded blocks gave a wrong shape
    a, k = rng.standard_normal((1, 1)), rng.standard_normal((1, 3))
    for boundary in ("wrap", "symm"):
        with pytest.raises(ValueError, match="in1, the chunked array"):
            sd.correlate2d(a, k, "full", boundary)
    _close(sd.correlate2d(a, k, "full", "fill", chunks=1), sigcorr.correlate2d(a, k, "full", "fill"))


@pytest.mark.usefixtures("user_chunks")
@pytest.mark.parametrize("method", ["ccoeff_normed", "sqdiff"])
def test_match_template_volumes_equal_in_memory(method, rng):
    vol = rng.standard_normal((30, 27, 29))
    vol[12, 13, 14] = np.nan
    tpl = np.nan_to_num(vol[3:8, 4:10, 5:9])
    kw = dict(channel_axis=None)
    _close(sd.match_template(vol, tpl, method, chunks=(14, 13, 15), **kw), sigcorr.match_template(vol, tpl, method, **kw),
           rtol=1e-9)
    _close(sd.match_template(vol, tpl, method, pad_input=True, chunks=(14, 13, 15), **kw),
           sigcorr.match_template(vol, tpl, method, pad_input=True, **kw), rtol=1e-9)
    stack = np.stack([tpl, np.nan_to_num(vol[10:15, 0:6, 20:24])])
    _close(sd.match_template(vol, stack, method, chunks=(14, 13, 15), **kw),
           sigcorr.match_template(vol, stack, method, **kw), rtol=1e-9)
    # template weights (OpenCV's masked matching), on a volume as on an image
    w = rng.uniform(0.0, 1.0, tpl.shape)
    _close(sd.match_template(vol, tpl, method, mask=w, chunks=(14, 13, 15), **kw),
           sigcorr.match_template(vol, tpl, method, mask=w, **kw), rtol=1e-9)
    _close(sd.match_template(vol, stack, method, mask=w, pad_input=True, chunks=(14, 13, 15), **kw),
           sigcorr.match_template(vol, stack, method, mask=w, pad_input=True, **kw), rtol=1e-9)
    with pytest.raises(ValueError, match=r"^mask must have the template's shape \(5, 6, 4\)"):
        sd.match_template(vol, tpl, mask=np.ones((5, 6)), chunks=10, **kw)


@pytest.mark.parametrize("kw", [dict(), dict(threshold=0.9, maximize=False), dict(max_matches=5, min_distance=4),
                                dict(min_distance=3, subpixel=True), dict(max_matches=1)])
def test_find_matches_volumes_equal_in_memory(kw, rng):
    import dask

    s = rng.random((22, 19, 21)).astype(np.float32)
    s[3, 4, 5] = np.nan
    # peaks on and beside the chunk borders (9 | 10, 8 | 9, 10 | 11), close
    # enough to suppress each other across them
    s[9, 8, 10], s[10, 9, 11], s[10, 3, 12] = 1.5, 1.4, 1.3
    stack = np.stack([s, 0.99 * np.roll(s, 2, axis=2)])
    with dask.config.set(scheduler="threads"):
        for maps, chunks in ((s, (10, 9, 11)), (stack, (1, 10, 9, 11))):
            want = sigcorr.find_matches(maps, volume=True, **kw)
            got = sd.find_matches(da.from_array(maps, chunks=chunks), volume=True, **kw)
            assert len(got) > 0
            np.testing.assert_array_equal(got.positions, want.positions)
            np.testing.assert_array_equal(got.scores, want.scores, strict=True)
            np.testing.assert_array_equal(got.template, want.template)
    with pytest.raises(ValueError, match="3-D volume map"):
        sd.find_matches(np.ones((4, 4)), volume=True)
    with pytest.raises(TypeError, match="volume"):
        sd.find_matches(s, volume="yes")


def test_find_matches_on_chunked_volume_scores(rng):
    import dask

    vol = rng.standard_normal((30, 28, 26)).astype(np.float32)
    tpls = np.stack([vol[3:9, 4:10, 5:11], vol[14:20, 15:21, 12:18]])
    with dask.config.set(scheduler="threads"):
        scores = sd.match_template(vol, tpls, chunks=(12, 11, 13), channel_axis=None)
        want = sigcorr.find_matches(scores.compute(), threshold=0.5, min_distance=3, volume=True)
        got = sd.find_matches(scores, threshold=0.5, min_distance=3, volume=True)
    assert sorted(map(tuple, want.positions.tolist()))[:2] == [(3.0, 4.0, 5.0), (14.0, 15.0, 12.0)]
    np.testing.assert_array_equal(got.positions, want.positions)
    np.testing.assert_array_equal(got.scores, want.scores)
    np.testing.assert_array_equal(got.template, want.template)
