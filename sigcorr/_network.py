"""The network matched-filter engine: many multichannel templates with
moveouts, their per-channel normalized correlations weighted and stacked
without ever storing the per-channel score arrays.

:class:`Bank` holds the templates once prepared (centred, unit-norm, their
FFT spectra); :meth:`Bank.scores` scores a slice of data (C, n) into the
(T, n_out) network score.  It is the whole computation of
``sigcorr.matched_filter`` and is meant to be called on consecutive slices
too (a stream carries the last ``span - 1`` samples over): every output
depends only on the samples of its own windows, and ``phase`` keeps the
``step`` decimation on the global output grid.

Per slice:

1. each channel's window statistics, once (not per template): float64
   running sums of the centred samples, their squares and the missing-sample
   count (``_kernels.network.window_norms``), turned into ``invn``, the
   inverse window norm (0 for a flat window, NaN for a window holding a
   missing sample);
2. the cross terms of the centred channels with the centred, unit-norm
   templates: the direct kernel (``_kernels.direct.corr_padded``) one
   template at a time for short templates, else overlap-save FFTs: each
   channel's blocks transformed once per slice and multiplied by every
   template's spectrum, a template's moveout folded into its spectrum as
   leading zeros, so that all templates share one block grid;
3. ``_kernels.network.network_stack``: the scores, weighted, stacked over
   the channels present and decimated, block by block, into the output.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft as sfft

from . import _conv, _costs, _fft, _twins, _workspace
from ._kernels import network as _knet
from ._kernels import windows as _kwin
from ._runtime import run, threads

__all__ = ["Bank", "block_plan", "output_length"]



_POOL = {}  # pid -> the threads of _product (a forked child makes its own: its parent's are not there)


def _product(X, spec, out):
    """out[g, c, b] = X[c, b] * spec[g, c] (the product spectra of a batch),
    split over sigcorr's threads (numpy's multiply releases the GIL)."""
    n = min(threads(), out.shape[0] * out.shape[1])
    if n <= 1 or out.size < (1 << 16):
        np.multiply(X[None], spec[:, :, None, :], out=out)
        return out
    pool = _POOL.get(os.getpid())
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.clear()
        pool = _POOL[os.getpid()] = ThreadPoolExecutor(max(2, threads()), thread_name_prefix="sigcorr-network")
    flat_out = out.reshape((-1,) + out.shape[2:])  # (G * C, nb, F)
    C = out.shape[1]

    def part(lo, hi):
        for k in range(lo, hi):
            np.multiply(X[k % C], spec[k // C, k % C, None, :], out=flat_out[k])

    bounds = np.linspace(0, flat_out.shape[0], n + 1).astype(int)
    list(pool.map(lambda ab: part(*ab), zip(bounds[:-1], bounds[1:])))
    return out


def output_length(n, span, step, phase=0):
    """Decimated outputs of a slice of n samples: the undecimated i in
    [0, n - span + 1) with (phase + i) % step == 0."""
    total = n - span + 1
    if total <= 0:
        return 0
    first = (-phase) % step
    return max(0, -(-(total - first) // step))


def block_plan(span, n=None):
    """The overlap-save block length L for an effective template of ``span``
    samples (m + the largest moveout) and its stride L - span + 1; for a
    slice of ``n`` samples shorter than that block (a stream's push), the
    fast length that holds the slice in one block."""
    L = _fft.overlap_save_block(span)
    if n is not None and n < L:
        L = sfft.next_fast_len(n, True)
    return L, L - span + 1


class Bank:
    """Prepared templates (T, C, m) float64, with moveouts (T, C) int64 and
    weights (T, C) float64, for data of ``dtype``."""

    def __init__(self, templates, moveouts, weights, dtype):
        T, C, m = templates.shape
        self.T, self.C, self.m, self.dtype = T, C, m, np.dtype(dtype)
        self.mv = np.ascontiguousarray(moveouts, dtype=np.int64)
        self.w = np.ascontiguousarray(weights, dtype=np.float64)
        self.span = m + int(self.mv.max())
        tc = templates - templates.mean(axis=2, keepdims=True)
        energy = (tc * tc).sum(axis=2)
        raw = (templates * templates).sum(axis=2)
        # a flat template (its energy at rounding level) scores 0 everywhere
        flat = energy <= np.maximum(_kwin.ENERGY_REL * raw, 1e-300)
        norm = np.sqrt(np.where(flat, 1.0, energy))
        self.unit = np.where(flat[:, :, None], 0.0, tc / norm[:, :, None])  # float64, unit norm
        self.itn = np.where(flat, 0.0, 1.0)
        self._spectra = None

    # -- the method ---------------------------------------------------------
    def method(self, n):
        """'direct' or 'fft' for a slice of n samples, by the cost model."""
        c = _costs.get()
        item = self.dtype.itemsize
        n_out = max(n - self.span + 1, 1)
        # direct: the multiply-adds, and per window and template channel the
        # cross term's trip through memory to the stacking kernel
        direct = self.T * self.C * (n - self.m + 1) * (self.m * c.direct_ns[item] + c.network_direct_window_ns)
        L, S = block_plan(self.span, n)
        nb = -(-n_out // S)
        price = c.fft_parallel_ns * (c.fft_f32 if item == 4 else 1.0)
        # FFT: one inverse transform per template, channel and block (the
        # forward ones are once per channel, the products a fraction of it)
        fft = self.T * self.C * nb * L * np.log2(L) * price + c.fft_call_ns
        return "fft" if fft < direct else "direct"

    def spectra(self, L):
        """The templates' conjugated spectra at block length L, each
        template's moveout as leading zeros: (T, C, L // 2 + 1)."""
        if self._spectra is not None and self._spectra[0] == L:
            return self._spectra[1]
        T, C, m = self.unit.shape
        k = np.zeros((T, C, self.span))
        t_idx, c_idx = np.meshgrid(np.arange(T), np.arange(C), indexing="ij")
        cols = self.mv[:, :, None] + np.arange(m)
        k[t_idx[:, :, None], c_idx[:, :, None], cols] = self.unit
        spec = sfft.rfft(k.astype(self.dtype), L, axis=-1, workers=threads())
        np.conjugate(spec, out=spec)
        self._spectra = (L, spec)
        return spec

    # -- scoring --------------------------------------------------------------
    def scores(self, x, step=1, phase=0, out=None, method=None, progress=None):
        """The network scores (T, n_dec) of the slice ``x`` (C, n) in the
        bank's dtype (NaN and inf: missing samples): the outputs i in
        [0, n - span + 1) with (phase + i) % step == 0.  ``out``: an array
        to write them into; ``progress``: called with the number of
        templates done, as they are done."""
        x = np.ascontiguousarray(x, dtype=self.dtype)  # (a slice of a longer record: copied)
        C, n = x.shape
        n_out = n - self.span + 1
        n_dec = output_length(n, self.span, step, phase)
        if out is None:
            out = np.empty((self.T, n_dec), dtype=self.dtype)
        if n_dec == 0:
            return out
        method = self.method(n) if method is None else method
        L, S = block_plan(self.span, n)
        if method == "fft":
            nb = -(-n_out // S)
            length = max(nb * S + self.span - 1, n)
        else:
            length = n
        xc = _workspace.empty("network:data", (C, length), self.dtype)
        invn = self._window_stats(x, xc)
        if method == "fft":
            self._fft_scores(xc, invn, n_out, L, S, step, phase, out, progress)
        else:
            self._direct_scores(xc, invn, n_out, step, phase, out, progress)
        return out

    def _window_stats(self, x, xc):
        """``xc[:, :n]`` = the channels centred by their present samples'
        means, missing samples 0 (zeros beyond n); returns ``invn`` (C, n -
        m + 1) from ``_kernels.network.window_norms``: 1 / sqrt(window
        energy) in float64 running sums, 0 for a flat window (the
        degenerate-window rule of ``_kernels.windows``), NaN for a window
        with a missing sample."""
        C, n = x.shape
        m = self.m
        xc[:, n:] = 0
        dst = xc[:, :n]
        sums = x.sum(axis=1, dtype=np.float64)
        whole = bool(np.isfinite(sums).all())  # (no missing sample: the sums of finite data are finite)
        if whole:
            means = sums / n
            np.subtract(x, means.astype(self.dtype)[:, None], out=dst)
        else:
            ok = np.isfinite(x)
            np.copyto(dst, x)
            dst[~ok] = 0
            means = dst.sum(axis=1, dtype=np.float64) / np.maximum(ok.sum(axis=1), 1)
            dst -= means.astype(self.dtype)[:, None]
            dst[~ok] = 0
        peak = np.maximum(dst.max(axis=1), -dst.min(axis=1)).astype(np.float64)
        qeps = _kwin.ENERGY_ABS * m * peak * peak
        invn = np.empty((C, n - m + 1), dtype=self.dtype)
        return run(_knet.window_norms, _twins.window_norms, x, np.int64(m), means, qeps, invn)

    def _direct_scores(self, xc, invn, n_out, step, phase, out, progress):
        C = self.C
        n = xc.shape[1]
        nw = n - self.m + 1
        src = xc.reshape(C, 1, n)
        cross = _workspace.empty("network:cross", (C, 1, nw), self.dtype)
        for t in range(self.T):
            ker = np.ascontiguousarray(self.unit[t, :, None, :], dtype=self.dtype)
            _conv.corr_planes(src, ker, cross, 0, 0)
            mv = self.mv[t:t + 1]
            self._stack(cross.reshape(1, C, 1, nw), 0, n_out, mv, mv, t, t + 1, invn, n_out, step, phase, out)
            if progress is not None:
                progress(1)

    def _fft_scores(self, xc, invn, n_out, L, S, step, phase, out, progress):
        C, T = self.C, self.T
        F = L // 2 + 1
        spec_t = self.spectra(L)
        csize = spec_t.itemsize
        nb_total = -(-n_out // S)
        budget = max(_costs.get().network_group_bytes // csize, 1)  # complex values per product batch
        nbk = int(min(nb_total, max(1, budget // (C * F))))
        G = int(min(T, max(1, budget // (C * nbk * F))))
        zero = np.zeros((T, C), dtype=np.int64)
        for b0 in range(0, nb_total, nbk):
            nb = min(nbk, nb_total - b0)
            X = _fft.block_spectra(xc, L, S, b0, nb, "network:blocks")  # (C, nb, F)
            for g0 in range(0, T, G):
                g1 = min(g0 + G, T)
                prod = _workspace.empty("network:prod", (g1 - g0, C, nb, F), X.dtype)
                _product(X, spec_t[g0:g1], prod)
                cross = _fft.irfft_blocks(prod, L, "network:cross")
                self._stack(cross, b0 * S, S, zero[g0:g1], self.mv[g0:g1], g0, g1, invn, n_out, step, phase, out)
                if progress is not None and b0 + nb >= nb_total:
                    progress(g1 - g0)

    def _stack(self, cross, i0, S, shift, mv, g0, g1, invn, n_out, step, phase, out):
        # network_stack on templates g0..g1 with the output grid of ``phase``:
        # local output i is kept where (phase + i) % step == 0, so the kernel
        # counts its outputs from the first kept one (``first``), reading the
        # window statistics ``first`` samples later
        first = (-phase) % step
        run(_knet.network_stack, _twins.network_stack, cross, np.int64(i0 - first), np.int64(S),
            np.ascontiguousarray(shift), np.ascontiguousarray(mv + first), self.w[g0:g1], self.itn[g0:g1], invn,
            np.int64(n_out - first), np.int64(step), out[g0:g1])
