"""sigcorr.dask beside in-memory sigcorr and dask-image (issue 13 targets)."""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    import dask
    import dask.array as da
    import dask_image.ndfilters as dif

    import sigcorr.dask as sd

    rep = 2 if quick else 4
    out = []
    rng = np.random.default_rng(0)
    with dask.config.set(scheduler="threads"):
        t = np.arange(1024)
        X = np.sin(2 * np.pi * t / rng.uniform(8, 200, (100_000, 1))) + rng.standard_normal((100_000, 1024))
        Xd = da.from_array(X, chunks=(10_000, 1024))
        # (equal to 1e-12: the lane FFT packs a chunk's series in pairs, so a series at a chunk edge
        # may share its lane with another partner, which changes the last bit)
        np.testing.assert_allclose(sd.detect_period(Xd).period.compute(), sigcorr.detect_period(X).period,
                                   rtol=1e-12)
        tm = best_times({"s": lambda: sd.detect_period(Xd).period.compute(),
                         "p": lambda: sigcorr.detect_period(X).period}, repeat=rep, burst=1)
        out.append(Row("sigcorr.dask.detect_period, 100,000 x 1,024 in 10 chunks (threads)", tm["s"],
                       "sigcorr.detect_period in memory", tm["p"], "<= 1.3x", 1.3))
        X = Xd = None  # free the memory before the next rows

        img = rng.random((8192, 8192), dtype=np.float32)
        imd = da.from_array(img, chunks=1024)
        tpl = img[3000:3064, 5000:5064].copy()
        tm = best_times({"s": lambda: sd.match_template(imd, tpl).compute(),
                         "p": lambda: sigcorr.match_template(img, tpl)}, repeat=rep, burst=1)
        out.append(Row("sigcorr.dask.match_template, 8192^2 float32 in 1024^2 chunks, 64^2", tm["s"],
                       "sigcorr.match_template in memory", tm["p"], "<= 1.3x", 1.3))

        k7 = rng.standard_normal((7, 7)).astype(np.float32)
        got = sd.correlate2d(imd, k7, "same").compute()
        ref = dif.correlate(imd, k7, mode="constant", cval=0.0).compute()
        np.testing.assert_allclose(got, ref, atol=1e-4)
        tm = best_times({"s": lambda: sd.correlate2d(imd, k7, "same").compute(),
                         "p": lambda: dif.correlate(imd, k7, mode="constant", cval=0.0).compute()},
                        repeat=rep, burst=1)
        out.append(Row("sigcorr.dask.correlate2d, 8192^2 float32 in 1024^2 chunks, 7x7", tm["s"],
                       "dask_image.ndfilters.correlate", tm["p"], "<= 0.5x", 0.5))
    return out


def _cluster_time(n_workers):
    import dask.array as da
    from distributed import Client, LocalCluster

    import sigcorr.dask as sd

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, \
            Client(cl) as client:
        client.run(sigcorr.warmup, processes=1)
        X = da.random.RandomState(1).standard_normal((100_000, 1024), chunks=(5_000, 1024))
        X = client.persist(X + da.sin(da.arange(1024) / 7.0))
        X.sum().compute()
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            sd.detect_period(X).period.compute()
            best = min(best, time.perf_counter() - t0)
    return best


def _zarr_stream():
    import dask.array as da
    import zarr
    from distributed import Client, LocalCluster
    from distributed.diagnostics import MemorySampler

    import sigcorr.dask as sd

    limit = 500 << 20
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                         memory_limit=limit) as cl, Client(cl) as client:
        shape, chunk = (23_000, 23_000), (2_048, 2_048)  # 2.1 GB of float32: over 4x the limit
        z = zarr.create_array(f"{tmp}/in.zarr", shape=shape, chunks=chunk, dtype="f4", compressors=None)
        da.store(da.random.RandomState(0).random(shape, chunks=chunk).astype(np.float32), z, lock=False)
        res = zarr.create_array(f"{tmp}/out.zarr", shape=shape, chunks=chunk, dtype="f4", compressors=None)
        ms = MemorySampler()
        t0 = time.perf_counter()
        with ms.sample("correlate2d"):
            x = da.from_zarr(f"{tmp}/in.zarr")
            da.store(sd.correlate2d(x, np.ones((7, 7), np.float32) / 49, "same").rechunk(chunk), res, lock=False)
        seconds = time.perf_counter() - t0
        peak = float(ms.to_pandas()["correlate2d"].max()) / len(client.scheduler_info()["workers"])
        alive = len(client.scheduler_info()["workers"])
    return z.nbytes, limit, seconds, peak, alive


def extra(quick: bool = False) -> str:
    one = _cluster_time(1)
    two = _cluster_time(2)
    nbytes, limit, seconds, peak, alive = _zarr_stream()
    return "\n".join([
        "| cluster | detect_period, 100,000 x 1,024 (s) | speed-up |",
        "| --- | ---: | ---: |",
        f"| LocalCluster, 1 worker process | {one:.2f} | 1.00 |",
        f"| LocalCluster, 2 worker processes | {two:.2f} | {one / two:.2f} |",
        "",
        "| zarr input | size | worker memory limit | time | peak memory per worker (cluster mean) | workers alive |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| correlate2d 7x7 'same', zarr to zarr | {nbytes / 2**30:.2f} GiB | {limit / 2**20:.0f} MiB "
        f"| {seconds:.1f} s | {peak / 2**20:.0f} MiB | {alive} of 2 |",
    ])
