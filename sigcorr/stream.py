"""Streams: correlation, convolution, template matching and period tracking
on a signal that arrives in chunks.

Every object here keeps the state a stream needs between chunks and no
more (the kernel's or the window's last samples, never the stream):

* ``push(chunk)`` takes the next samples and returns the outputs that
  chunk completes, at once (an output is returned by the push that brings
  the last sample of its window, never later);
* ``flush()`` returns the rest at the end of the stream (the outputs whose
  window reaches past the last sample: the zero-padded tail of ``"full"``
  and ``"same"``), after which the stream is closed: a further ``push``
  raises ``ValueError`` until ``reset()`` starts a new stream;
* ``reset()`` forgets the stream (the settings stay), ``copy()`` forks it
  (the copy and the original then go their own ways), and the objects
  pickle, so a stream can be handed to another process mid-way.

The contract: the concatenation (along the last axis) of every ``push``
output and the ``flush`` output equals the offline call on the whole
signal, for any chunking (chunks of 0, 1 or a few samples, chunks shorter
than the kernel, chunks of 100,000): to 1e-10 relative in float64 and to
the offline call's own tolerance in float32 (the offline call may choose
the FFT where a chunk is computed directly, or the other way round).

Time is the last axis of a chunk; its leading axes are channels (or
independent series), fixed by the first chunk; every later chunk must have
the same leading shape.  The compute dtype follows the offline call's
rule (float32 stays float32, float64 and integers compute in float64) and
is fixed by the first chunk too (or by ``dtype=``): a chunk that would
compute in another dtype is refused with a ``TypeError`` naming both.
NaN is a missing sample, as offline: it reaches only the outputs whose
window holds it.
"""

from __future__ import annotations

import copy as _copy
import math

import numpy as np

from . import _conv, _costs, _lagsums, _network, _twins, _validate
from ._kernels import detect as _kdetect
from ._kernels import direct as _kdirect
from ._kernels import stream as _kstream
from ._kernels import windows as _kwin
from ._kernels.codes import MATCH_METHOD_CODES
from ._runtime import ready, serialized_if_needed

__all__ = ["Correlate", "Convolve", "MatchTemplate", "PeriodTracker", "MatchedFilter"]


class _Kernel:
    """A kernel called directly once it is known to be compiled (or to
    compile in the foreground); its twin until then (``_runtime.run``'s rule,
    the check made once per stream rather than once per push)."""

    __slots__ = ("kernel", "twin", "ok")

    def __init__(self, kernel, twin):
        self.kernel, self.twin, self.ok = kernel, twin, False

    def __call__(self, *args):
        if self.ok:
            return self.kernel(*args)
        if ready(self.kernel, *args):
            self.ok = True
            return self.kernel(*args)
        return self.twin(*args)

    def __reduce__(self):  # by the kernel's name: a stream's pickle holds no code
        return (_kernel_named, (self.kernel.sigcorr_name,))


# corr_padded's outer axes for planes (none): its sizes, kernel sizes,
# output sizes and leading pads
_PLANES = (_conv.NO_AXES,) * 4


def _kernel_named(name):
    from ._kernels import REGISTRY

    return _Kernel(REGISTRY[name][0], getattr(_twins, name.rsplit(".", 1)[1]))


def _check_kernel_1d(kernel, name):
    k = _validate.as_numeric_array(kernel, name, allow_complex=False)
    if k.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {k.shape}")
    _validate.check_nonempty(k, name)
    return k


class _Stream:
    """Chunk bookkeeping shared by every stream: the leading shape and
    compute dtype (fixed by the first chunk, or by ``dtype=``), the samples
    pushed, the closed state after ``flush``."""

    _family = "signal"

    def __init__(self, dtype, *others):
        self._others = others  # dtypes the compute dtype is promoted with (the kernel's)
        self._fixed = None if dtype is None else self._compute(np.dtype(dtype))
        self.reset()

    def _compute(self, dt):
        if dt.kind not in "biuf":
            raise TypeError(f"chunk must be real (bool, int or float), got dtype {dt}")
        # (numpy's own dtype object, so the lean path can test it by identity)
        return np.dtype(_validate.compute_dtype(dt, *self._others, family=self._family).char)

    def reset(self):
        """Forget the stream (its samples, leading shape and, unless given
        as ``dtype=``, its dtype); the settings stay."""
        self.dtype = self._fixed
        self.lead = None
        self.count = 0  # samples pushed
        self._closed = False
        self._start()

    def copy(self):
        """An independent copy of the stream, state included (a fork)."""
        return _copy.deepcopy(self)

    def __getstate__(self):
        state = dict(self.__dict__)
        if state.get("_work") is not None:  # scratch, made again on the next push
            state["_work"] = np.empty((state["_work"].shape[0], 0), state["_work"].dtype)
        return state

    def _accept(self, chunk):
        """``chunk`` as a C-contiguous (B, n) array in the compute dtype; the
        leading shape and dtype fixed by the first chunk."""
        if self._closed:
            raise ValueError("push after flush(): the stream is closed; call reset() to start a new one")
        if type(chunk) is np.ndarray and chunk.dtype is self.dtype and chunk.shape[:-1] == self.lead:
            x = chunk  # the lean path: a chunk like the ones before
        else:
            x = _validate.as_numeric_array(chunk, "chunk", allow_complex=False, masked="missing")
            if x.ndim == 0:
                raise ValueError("chunk must have a time axis (the last), got a scalar")
            dt = self._compute(x.dtype)
            if self.dtype is None:
                self.dtype = dt
            elif dt != self.dtype:
                raise TypeError(f"chunk has dtype {x.dtype}, which computes in {dt}, but this stream computes in "
                                f"{self.dtype} (fixed by its first chunk or dtype=): convert the chunk "
                                f"(chunk.astype(np.{self.dtype.name}))")
            if self.lead is None:
                self.lead = x.shape[:-1]
                self._channels()
            elif x.shape[:-1] != self.lead:
                if x.size == 0 and x.ndim == 1:
                    x = np.empty(self.lead + (0,), self.dtype)
                else:
                    raise ValueError(f"chunk has leading shape {x.shape[:-1]} ({math.prod(x.shape[:-1])} channels), "
                                     f"but this stream has {self.lead} ({math.prod(self.lead)} channels), fixed by "
                                     "its first chunk; time is the last axis")
            x = x.astype(self.dtype, copy=False)
        x = x.reshape(math.prod(self.lead), x.shape[-1])
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        return x

    def _close(self):
        if self._closed:
            raise ValueError("flush() was already called: the stream is closed; call reset() to start a new one")
        self._closed = True
        if self.dtype is None:  # nothing pushed: the kernel's dtype
            self.dtype = np.dtype(_validate.compute_dtype(*self._others, np.float16, family=self._family).char)
        if self.lead is None:
            self.lead = ()
            self._channels()

    def _take(self, x):
        """The samples held (the last ``m - 1`` of the stream, fewer at its
        start) followed by the (B, n) chunk ``x``, as one (B, L) array; the
        last ``m - 1`` of it are held from now on."""
        m1 = self._hist.shape[1]
        h = self._h
        B, n = x.shape
        L = h + n
        if h:
            work = np.empty((B, L), x.dtype)
            work[:, :h] = self._hist[:, m1 - h:]
            work[:, h:] = x
        else:
            work = x
        if L >= m1:
            self._hist[...] = work[:, L - m1:]
        else:
            self._hist[:, m1 - L:] = work
        self._h = min(L, m1)
        return work

    def push(self, chunk):
        """The outputs ``chunk`` completes, in the shape the class documents."""
        x = self._accept(chunk)
        self.count += x.shape[1]
        return self._advance(x)

    def _start(self):
        pass

    def _channels(self):
        pass


# ---------------------------------------------------------------------------
# correlation and convolution
# ---------------------------------------------------------------------------


class Correlate(_Stream):
    """Streamed ``sigcorr.correlate(signal, kernel, mode)`` along the last axis.

    Parameters
    ----------
    kernel : array_like, 1-D
        The real kernel every channel is correlated with.
    mode : {'valid', 'same', 'full'}
        As offline: 'full' and 'same' read zeros before the first sample and
        after the last (the tail comes with ``flush()``).
    dtype : dtype, optional
        The compute dtype; by default the first chunk's (with the kernel's,
        by the offline rule: float32 chunks and a float32 kernel stay
        float32).

    Notes
    -----
    Each push correlates the kernel's last ``m - 1`` samples and the chunk
    (valid mode), by the direct parallel kernel or by FFT (overlap-save for
    long chunks), as the cost model picks for that chunk length; so a push
    costs O(n m) or O(n log m), and the state is ``m - 1`` samples per
    channel.  A 'valid' stream shorter than its kernel gives at ``flush()``
    what the offline call gives then (scipy swaps the inputs).  Integer
    chunks compute in float64 and come back as float64 (the offline call
    rounds them back to integers).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> from sigcorr import stream
    >>> rng = np.random.default_rng(0)
    >>> x, h = rng.standard_normal((2, 1000)), rng.standard_normal(31)
    >>> s = stream.Correlate(h, mode="same")
    >>> parts = [s.push(x[:, i:i + 128]) for i in range(0, 1000, 128)]
    >>> out = np.concatenate(parts + [s.flush()], axis=-1)
    >>> out.shape, bool(np.allclose(out, sigcorr.correlate(x, h[None], mode="same", axes=-1)))
    ((2, 1000), True)
    """

    _flip = False

    def __init__(self, kernel, mode="valid", *, dtype=None):
        k = _check_kernel_1d(kernel, "kernel")
        self.mode = _validate.check_mode(mode)
        self.kernel = k.copy()
        self.m = k.shape[0]
        super().__init__(dtype, k.dtype)

    def _start(self):
        self._hist = None
        self._methods = {}
        self._emitted = 0  # valid outputs of the padded stream computed so far
        self._call = _Kernel(_kdirect.corr_padded, _twins.corr_padded)
        self._push = _Kernel(_kstream.corr_push, _twins.corr_push)

    def _channels(self):
        m = self.m
        B = self._B = math.prod(self.lead)
        pre = 0 if self.mode == "valid" else m - 1
        self._hist = np.zeros((B, m - 1), self.dtype)
        self._h = pre  # samples of the padded stream held at the end of _hist
        k = self.kernel[::-1] if self._flip else self.kernel
        self._ker = np.ascontiguousarray(k, dtype=self.dtype).reshape(1, 1, m)
        self._ker2 = self._ker.reshape(1, m)
        self._skip = (m - 1) // 2 if self.mode == "same" else 0  # 'same': full's (m - 1) // 2 first outputs
        # the longest chunk pushed by the serial kernel, and its work rows
        self._serial = _costs.get().stream_serial_macs // (B * m)
        self._work = np.empty((B, m - 1 + min(self._serial, 1024)), self.dtype)

    def push(self, chunk):
        """The outputs ``chunk`` completes, shape ``(*channels, k)``."""
        if (type(chunk) is np.ndarray and chunk.dtype is self.dtype and chunk.shape[:-1] == self.lead
                and chunk.flags.c_contiguous and not self._closed):
            x = chunk.reshape(self._B, chunk.shape[-1])  # the lean path: a chunk like the ones before
        else:
            x = self._accept(chunk)
        n = x.shape[1]
        self.count += n
        m1 = self.m - 1
        if self._h < m1 or n > self._serial or not n:
            return self._advance(x)
        # one serial call: the history and the chunk correlated, the history moved on
        work = self._work
        if work.shape[1] < m1 + n:
            work = self._work = np.empty((self._B, m1 + n), self.dtype)
        out = np.empty((self._B, n), self.dtype)
        self._push(self._hist, x, work, self._ker2, out)
        first = self._emitted
        self._emitted = first + n
        if first < self._skip:
            out = out[:, min(self._skip - first, n):]
        return out.reshape(self.lead + (out.shape[1],))

    @serialized_if_needed
    def _advance(self, x):
        work = self._take(x)
        nout = work.shape[1] - (self.m - 1)
        if nout <= 0:  # still filling the kernel's span
            return np.empty(self.lead + (0,), self.dtype)
        out = self._valid(work, nout)
        first = self._emitted
        self._emitted += nout
        skip = self._skip - first
        if skip > 0:
            out = out[:, skip:] if skip < nout else out[:, :0]
        return out.reshape(self.lead + (out.shape[1],))

    def _valid(self, work, nout):
        """The valid correlation of (B, L) ``work`` with the kernel: (B, nout)."""
        B, L = work.shape
        method = self._methods.get(L)
        if method is None:
            method = self._methods[L] = _conv.choose(work, self._ker[0], 1, "valid")
        if method == "direct":
            out = np.empty((B, 1, nout), self.dtype)
            self._call(work.reshape(B, 1, 1, L), self._ker[:, None], out[:, None], *_PLANES, 0, 0)
            return out.reshape(B, nout)
        out = _conv.fft_path(work, self._ker[0, :, ::-1], 1, "valid")
        return np.ascontiguousarray(out, dtype=self.dtype)

    @serialized_if_needed
    def flush(self):
        """The outputs still owed at the end of the stream (the zero-padded
        tail of 'full' and 'same'); closes the stream."""
        self._close()
        m1 = self.m - 1
        B = math.prod(self.lead)
        N = self.count
        if self.mode == "valid":
            if N < self.m and N > 0:  # scipy's swap: the kernel slides over the signal
                data = self._hist[:, m1 - self._h:]
                k = self.kernel[::-1] if not self._flip else self.kernel
                out = _conv.convolve_core(data, np.ascontiguousarray(k, dtype=self.dtype)[None], (1,), "valid", "auto")
                return np.ascontiguousarray(out, dtype=self.dtype).reshape(self.lead + (out.shape[-1],))
            return np.empty(self.lead + (0,), self.dtype)
        # the outputs of the padded stream up to the mode's last: zeros after the end
        end = self._skip + N if self.mode == "same" else N + m1
        tail = end - self._emitted
        if N == 0 or tail <= 0:
            return np.empty(self.lead + (0,), self.dtype)
        return self._advance(np.zeros((B, tail), self.dtype))


class Convolve(Correlate):
    """Streamed ``sigcorr.convolve(signal, kernel, mode)`` along the last axis
    (the kernel flipped): an FIR filter whose 'full' output's first
    ``len(signal)`` samples are ``scipy.signal.lfilter(kernel, 1, signal)``.

    Parameters, state and costs are :class:`Correlate`'s.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.signal
    >>> from sigcorr import stream
    >>> rng = np.random.default_rng(1)
    >>> x, h = rng.standard_normal(5000), rng.standard_normal(64)
    >>> fir = stream.Convolve(h, mode="full")
    >>> y = np.concatenate([fir.push(x[i:i + 1024]) for i in range(0, 5000, 1024)])
    >>> bool(np.allclose(y, scipy.signal.lfilter(h, 1, x)))
    True
    """

    _flip = True


# ---------------------------------------------------------------------------
# template matching
# ---------------------------------------------------------------------------


class MatchTemplate(_Stream):
    """Streamed 1-D ``sigcorr.match_template(signal, template, method, mask=mask)``.

    Parameters
    ----------
    template : array_like
        A 1-D template (m,), or a stack (T, m) scored in one pass.
    method : {'ccoeff_normed', 'ccorr_normed', 'sqdiff_normed', 'ccoeff', 'ccorr', 'sqdiff'}
        OpenCV's scores, as offline.
    mask : array_like, optional
        Weights >= 0 of the template's shape (OpenCV's masked matching).
    dtype : dtype, optional
        The compute dtype; by default the first chunk's, by the offline rule
        (float32 and 8/16-bit integers compute in float32, the rest in
        float64; the window sums are float64 either way).

    Notes
    -----
    Each push scores the windows the chunk completes (output i is the window
    starting at sample i, the "valid" output; shape ``(*channels, k)``,
    ``(*channels, T, k)`` for a stack): the cross term by the direct
    kernel, the window sums and sums of squares by ``match_scores``' float64
    running sums over the held ``m - 1`` samples and the chunk, so no sum is
    carried from the start of the stream and none drifts.  The ccoeff
    methods centre the data by a reference level (the first chunk's mean),
    as the offline call centres by the whole signal's mean: the scores do
    not change, the sums stay small.  NaN makes the windows that hold it
    NaN; a template with NaN (of weight > 0 under ``mask``) scores NaN
    everywhere.

    Two things the whole signal decides offline are read from the samples
    seen so far: the degenerate-window floor (a window whose energy is below
    1e-13 m times the largest squared sample counts as flat), which can tell
    apart only windows within rounding of flat; and the scale-free rule:
    data beyond float64's safe range (magnitudes outside 2**-300..2**300;
    float32: 2**-40..2**40), which the offline call scales by a power of
    two first, are scored as they are.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> from sigcorr import stream
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(3000)
    >>> s = stream.MatchTemplate(x[1000:1100])
    >>> scores = np.concatenate([s.push(x[i:i + 256]) for i in range(0, 3000, 256)] + [s.flush()])
    >>> scores.shape, int(np.argmax(scores))
    ((2901,), 1000)
    >>> bool(np.allclose(scores, sigcorr.match_template(x, x[1000:1100])))
    True
    """

    _family = "image"

    def __init__(self, template, method="ccoeff_normed", *, mask=None, dtype=None):
        self.method = _validate.check_match_method(method)
        t = _validate.as_numeric_array(template, "template", allow_complex=False)
        if t.ndim not in (1, 2):
            raise ValueError(f"template must be 1-D (m,) or a stack (T, m), got shape {t.shape}")
        _validate.check_nonempty(t, "template")
        self.stack = t.ndim == 2
        self.template = t.reshape(-1, t.shape[-1]).copy()
        self.m = t.shape[-1]
        self.mask = None
        if mask is not None:
            msk = _validate.finite_mask(_validate.as_numeric_array(mask, "mask", allow_complex=False), "mask")
            if msk.shape != (self.m,):
                raise ValueError(f"mask must have the template's shape ({self.m},), got {msk.shape}")
            if np.any(msk < 0):
                raise ValueError("mask weights must be >= 0")
            self.mask = msk
        super().__init__(dtype, t.dtype)

    def _start(self):
        self._hist = None
        self._ref = None  # the reference level (B,) the ccoeff methods centre by
        self._peak = 0.0  # the largest |sample| seen (the degenerate-window floor)
        self._cross = _Kernel(_kdirect.corr_padded, _twins.corr_padded)
        self._scores = _Kernel(_kwin.match_scores, _twins.match_scores)
        self._counts = _Kernel(_kwin.window_sums, _twins.window_sums)

    def _channels(self):
        B = self._B = math.prod(self.lead)
        self._hist = np.zeros((B, self.m - 1), self.dtype)
        self._h = 0
        # the templates in the compute dtype (as offline), NaN ones lost
        tpls = self.template.astype(self.dtype)
        ok = np.isfinite(tpls)
        bad = ~ok if self.mask is None else ~ok & (self.mask[None] > 0)
        self._lost = bad.any(axis=1)
        t64 = np.where(ok, tpls, 0).astype(self.dtype).astype(np.float64)
        self._t64 = t64
        self._tmean = t64.mean(axis=1)
        self._tmean2 = np.ascontiguousarray(self._tmean[:, None])
        tcs = t64 - self._tmean[:, None]
        self._tker = np.ascontiguousarray(tcs.astype(self.dtype)[:, None, :])  # (T, 1, m)
        self._tsum2 = (t64 * t64).sum(axis=1)
        ccoeff = self.method.startswith("ccoeff")
        self._tnorm = np.sqrt((tcs * tcs).sum(axis=1) if ccoeff else self._tsum2)

    @serialized_if_needed
    def _advance(self, x):
        work = self._take(x)
        B, L = work.shape
        T = self._t64.shape[0]
        nout = L - self.m + 1
        if nout <= 0:
            return self._shaped(np.empty((T, B, 0), self.dtype))
        bad = ~np.isfinite(work)
        anybad = bool(bad.any())
        if self._ref is None:  # the first samples' mean: the level the ccoeff methods centre by
            self._ref = np.array([r[np.isfinite(r)].mean() if np.isfinite(r).any() else 0.0 for r in work])
        out = self._masked(work, bad, anybad, nout) if self.mask is not None else self._plain(work, bad, anybad, nout)
        out[self._lost] = np.nan
        return self._shaped(out)

    def _shaped(self, out):
        """(T, B, k) scores as ``(*channels, [T,] k)``."""
        T, B, k = out.shape
        out = np.moveaxis(out, 0, 1).reshape(self.lead + (T, k))
        return np.ascontiguousarray(out if self.stack else out[..., 0, :])

    def _plain(self, work, bad, anybad, nout):
        B, L = work.shape
        m, dt = self.m, self.dtype
        T = self._t64.shape[0]
        img = np.where(bad, 0, work).astype(dt) if anybad else work
        src = (img - self._ref[:, None]).astype(dt)
        if anybad:
            src[bad] = 0
        ccoeff = self.method.startswith("ccoeff")
        stats = np.ascontiguousarray(src if ccoeff else img).reshape(1, B, L)
        if stats.size:
            self._peak = max(self._peak, float(np.abs(stats).max()))
        qeps = _kwin.ENERGY_ABS * m * self._peak * self._peak
        # the cross terms of the centred data with each centred template, as
        # match_scores' blocks (T, 1, 1, B, nout)
        cross = np.empty((T, B, nout), dt)
        planes = src.reshape(1, B, L) if T == 1 else np.ascontiguousarray(np.broadcast_to(src, (T, B, L)))
        self._cross(planes[:, None], self._tker[:, None], cross[:, None], *_PLANES, 0, 0)
        counts = np.zeros((1, 1))
        if anybad:
            counts = self._counts(np.ascontiguousarray(bad, dtype=np.float64), 1, m)
        out = np.empty((T, B, nout), dt)
        self._scores(stats, 1, m, cross.reshape(T, 1, 1, B, nout), B, nout, counts, MATCH_METHOD_CODES[self.method],
                     self._tmean2, self._tsum2, self._tnorm, float(qeps), out)
        return out

    def _masked(self, work, bad, anybad, nout):
        """OpenCV's masked matching in float64 (match_template's mask= path)."""
        method = self.method
        M = self.mask
        M2 = M * M

        def corr(a, k):  # valid correlations of (B, L) rows with one (m,) kernel
            return _conv.convolve_core(np.ascontiguousarray(a), np.ascontiguousarray(k[::-1])[None], (1,), "valid",
                                       "auto")

        I = np.where(bad, 0.0, work).astype(np.float64)  # noqa: E741
        if method.startswith("ccoeff"):
            I = I - self._ref[:, None]  # noqa: E741
        self._peak = max(self._peak, float(np.abs(I).max()))
        II = corr(I * I, M2)
        floor = _kwin.ENERGY_ABS * float(M2.sum()) * self._peak * self._peak
        fallback = 1.0 if method == "sqdiff_normed" else 0.0
        res = []
        for T in self._t64:
            if method in ("ccorr", "ccorr_normed", "sqdiff", "sqdiff_normed"):
                cross = corr(I, M2 * T)
                tt = float(np.sum(M2 * T * T))
                sq = np.maximum(II - 2 * cross + tt, 0)
                if method in ("ccorr", "sqdiff"):
                    r = cross if method == "ccorr" else sq
                else:
                    num = cross if method == "ccorr_normed" else sq
                    r = _twins.normed_score(num, np.sqrt(np.where(II > floor, II, 0.0) * tt), fallback, np.float64)
            else:
                msum = float(M.sum()) or 1.0
                Tc = M * (T - float((M * T).sum()) / msum)
                mI = corr(I, M) / msum
                num = corr(I, M * Tc) - mI * float(np.sum(M * Tc))
                if method == "ccoeff":
                    r = num
                else:
                    ii = corr(I * I, M2) - 2 * mI * corr(I, M2) + mI * mI * float(M2.sum())
                    ii = np.where(ii > np.maximum(_kwin.ENERGY_REL * II, floor), ii, 0.0)
                    r = _twins.normed_score(num, np.sqrt(ii * float(np.sum(Tc * Tc))), fallback, np.float64)
            res.append(r)
        out = np.stack(res).astype(self.dtype)
        if anybad:
            hit = corr(bad.astype(np.float64), np.ones(self.m)) > 0.5
            out[:, hit] = np.nan
        return out

    def flush(self):
        """Nothing is owed at the end (the scores are the valid ones), but
        for a stream shorter than the template, which has none; closes the
        stream."""
        self._close()
        return self._shaped(np.empty((self.template.shape[0], math.prod(self.lead), 0), self.dtype))


# ---------------------------------------------------------------------------
# period tracking
# ---------------------------------------------------------------------------

# detect_period's detector constants (sigcorr.period's: the significance level
# of an autocorrelation peak, in standard errors of white noise, and the
# lag-1 autocorrelation above which a series without period is searched
# again on its first differences)
_LEVEL = 2.5
_SMOOTH = 0.5
# the tracker slides its lag sums over at most this many blocks per window
# (its state: a row of lag sums per block), for pushes completing at most
# this many windows (beyond, one batched detection costs less)
_SLIDE_BLOCKS = 16
_SLIDE_WINDOWS = 8
# the raw sums' energy (the samples' and the trend line's) may be at most
# this many times the residual's: the expansion then keeps ~15 - log10(64)
# digits, far beyond the 1e-10 the offline call is matched to
_SLIDE_GUARD = 64.0


class PeriodTracker(_Stream):
    """Every ``hop`` samples, ``sigcorr.detect_period`` of the last ``window``.

    Parameters
    ----------
    window : int
        Samples per window (> 0; at least two cycles of ``min_period``).
    hop : int
        Samples between the ends of successive windows (> 0; a hop longer
        than the window skips the samples between windows).
    min_period, max_period, fs
        As :func:`sigcorr.detect_period` on a series of ``window`` samples
        (periods in units of 1/fs).

    Returns (from ``push`` and ``flush``)
    -------------------------------------
    rows : ndarray, float64, shape ``(*channels, k, 3)``
        One row per window the push completes: (end, period, strength),
        ``end`` the index one past the window's last sample (the window is
        ``x[end - window:end]``; the first window ends at ``window``, the
        next ``hop`` later), ``period`` and ``strength`` those of
        ``detect_period(x[..., end - window:end])`` (NaN where it finds no
        period).  ``flush()`` owes nothing (a window is reported by the push
        that completes it) and returns no rows.

    Notes
    -----
    The lag sums slide: the stream is cut in blocks of ``gcd(window,
    hop)`` samples, and each block's products with the window's earlier
    samples are summed once, when the block arrives (``hop * (max lag +
    1)`` multiply-adds per window, a quarter of the window's own sums for a
    2048-sample window and 512-sample hop; for long windows, where the cost
    model prices it lower, by FFT: each block transformed once, each pair of
    blocks one product and one inverse transform).  A window's lag sums are those
    of its blocks, turned into the sums of its residual (the detector's own
    trend line taken out, in O(window) with prefix sums), then read by
    ``detect_period``'s detector.  The state is the last ``window`` samples
    and one row of lag sums per block.  Detected afresh, as offline: a window that holds a
    missing (NaN) sample or a spike, or whose trend makes the raw sums too
    large against the residual's to keep the digits the offline call keeps
    (a level far from the one taken out of the sums is first taken out
    anew); windows that blocks do not tile (more than 16 blocks, or a hop
    as long as the window); and pushes that complete more than 8 windows
    (their detection in one batch costs less).
    Either way each row equals ``detect_period`` on its window.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> from sigcorr import stream
    >>> t = np.arange(6000)
    >>> x = np.sin(2 * np.pi * t / np.where(t < 3000, 40.0, 25.0))
    >>> tracker = stream.PeriodTracker(1024, 512)
    >>> rows = np.concatenate([tracker.push(x[i:i + 700]) for i in range(0, 6000, 700)])
    >>> [(int(end), round(float(p), 2)) for end, p, _ in rows[[0, -1]]]
    [(1024, 40.0), (5632, 25.0)]
    >>> res = sigcorr.detect_period(x[5632 - 1024:5632])
    >>> bool(abs(res.period - rows[-1, 1]) < 1e-9 and abs(res.strength - rows[-1, 2]) < 1e-9)
    True
    """

    _family = "series"

    def __init__(self, window, hop, *, min_period=None, max_period=None, fs=1.0):
        self.window = _validate.check_int(window, "window", minimum=1)
        self.hop = _validate.check_int(hop, "hop", minimum=1)
        pmin, pmax, fs = _validate.period_range(self.window, min_period, max_period, fs)
        self.min_period, self.max_period, self.fs = min_period, max_period, fs
        self._range = (float(pmin), float(pmax))  # (floats: the kernels' argument types)
        self._L = int(min(self.window - 2, math.ceil(pmax) + 2))
        g = math.gcd(self.window, self.hop)
        # blocks of gcd(window, hop) samples tile every window: the lag sums slide
        self._g = g if self.hop < self.window and self.window // g <= _SLIDE_BLOCKS else 0
        self._N, self._by_fft = self._block_plan()
        super().__init__(None)

    def _block_plan(self):
        """How ``track_push`` sums a block's pairs with the blocks before it,
        band of lags by band (``_kernels.stream._add_block``): (N, by_fft),
        band d (the block d before) by FFT of N points where by_fft[d] is 1,
        directly where 0 (N = 0: every band directly), by the cost model's
        prices: a band's inverse transform against its multiply-adds, and
        each block's own transform against what the bands save."""
        g, L1 = self._g, self._L + 1
        if not g:
            return 0, np.zeros(0)
        N = 1 << (2 * g - 1).bit_length()  # (two g-sample blocks' correlation, unwrapped)
        c = _costs.get()
        transform = c.track_fft_ns * N * math.log2(N)
        by_fft = np.zeros(self.window // g)
        saved = 0.0
        for d in range(min(self.window // g, (L1 - 1) // g + 2)):
            u = np.arange(max(0, d * g - g + 1), min(L1 - 1, d * g + g - 1) + 1) - d * g
            direct = c.track_mac_ns * float((g - np.abs(u)).sum())
            if direct > transform:
                by_fft[d] = 1.0
                saved += direct - transform
        if saved <= transform:
            return 0, np.zeros(by_fft.size)
        return N, by_fft

    def _start(self):
        self._buf = None
        # the sliding state (track_push): per channel, a ring of block lag
        # sums, the level taken out of them, the next block to add; None:
        # made from the window the next time the sums slide
        self._ring = self._F = self._tw = self._ref = self._nxt = None

    def _channels(self):
        self._B = math.prod(self.lead)
        self._buf = np.empty((self._B, 0))
        self._track = _Kernel(_kstream.track_push, _twins.track_push)
        self._detect = _Kernel(_kdetect.detect, _twins.detect)
        self._params = np.array([_lagsums.SPIKE, _SLIDE_GUARD, *_validate.ENERGY_SAFE, *self._by_fft])
        # (a complete window's rows: every lag k has window - k pairs)
        self._W = np.full(_SLIDE_WINDOWS * self._B, float(self.window))

    def push(self, chunk):
        """The rows of the windows ``chunk`` completes, shape ``(*channels, k, 3)``."""
        x = self._accept(chunk)
        start = self.count  # the index of the chunk's first sample
        self.count += x.shape[1]
        W, hop = self.window, self.hop
        # the ends of the windows this push completes: W + j hop in (start, count]
        j0 = max(0, -(-(start + 1 - W) // hop))
        j1 = (self.count - W) // hop if self.count >= W else -1
        seq = np.concatenate([self._buf, x], axis=1) if self._buf.shape[1] else x
        first = start - self._buf.shape[1]  # the stream index of seq[:, 0]
        self._buf = np.ascontiguousarray(seq[:, max(0, seq.shape[1] - W):])
        ends = np.arange(W + hop * j0, W + hop * j1 + 1, hop)
        if not ends.size:
            return np.empty(self.lead + (0, 3))
        if self._g and ends.size <= _SLIDE_WINDOWS:
            return self._slide(seq, first, ends)
        self._ring = None  # (made from the window the next time it slides)
        return self._rows(seq, ends - first, ends)

    def _slide(self, seq, first, ends):
        """The rows of the windows ending at ``ends`` (few), their lag sums
        slid block by block (``track_push``), then detected (``detect``); the
        windows it leaves (samples missing, a steep trend, a residual the
        detector searches again on its differences) detected afresh
        (``_settle``).  Both kernels are serial for a few windows, so the
        common push (one window, slid, with a period) takes no lock."""
        W, B, L = self.window, self._B, self._L
        nw = ends.size
        if self._ring is None:  # the window's blocks added afresh (with the reference kept, if any)
            self._ring = np.empty((B, W // self._g, L + 1))
            self._F = np.empty((B, W // self._g, 2 * self._N))  # (the blocks' spectra, if any band goes by FFT)
            self._tw = _kstream.block_twiddles(self._N)
            if self._ref is None:
                self._ref, self._nxt = np.empty(B), np.full(B, -1, dtype=np.int64)
            else:
                self._nxt = np.zeros(B, dtype=np.int64)
        rows = nw * B  # row w B + b: window w of channel b
        S = np.empty((rows, L + 1))
        info = np.empty((rows, 2))
        left = self._track(seq, np.empty_like(seq), np.int64(first), ends, np.int64(self._g), self._ring, self._F,
                           self._tw, self._ref, self._nxt, self._params, S, info)
        periods, strengths = np.empty((rows, 1)), np.empty((rows, 1))  # (in samples)
        if rows == 1 and not left:  # (the common push: its window slid; detect runs serially on one row)
            pmin, pmax = self._range
            self._detect(S, pmin, pmax, self._W[:1], self._W[:1], _LEVEL, periods, strengths)
            p = periods[0, 0]
            if p == p:  # (a period: no more to do)
                return np.array([[float(ends[0]), p / self.fs, strengths[0, 0]]]).reshape(self.lead + (1, 3))
            return self._settle(seq, first, ends, S, info, periods, strengths, True)
        return self._settle(seq, first, ends, S, info, periods, strengths, False)

    @serialized_if_needed
    def _settle(self, seq, first, ends, S, info, periods, strengths, detected):
        """``_slide``'s rows from the windows' lag sums ``S`` and statuses
        ``info``: the slid ones detected (unless ``detected``), the others
        detected afresh."""
        W, B, L = self.window, self._B, self._L
        nw = ends.size
        rows = nw * B
        pmin, pmax = self._range
        slid = info[:, 0] == 0
        if slid.all():
            if not detected:
                self._detect(S, pmin, pmax, self._W[:rows], self._W[:rows], _LEVEL, periods, strengths)
        elif slid.any():
            p, st = periods[slid], strengths[slid]
            self._detect(S[slid], pmin, pmax, self._W[:p.shape[0]], self._W[:p.shape[0]], _LEVEL, p, st)
            periods[slid], strengths[slid] = p, st
        # those the slide left, and those offline searches again on their
        # differences (a slid row without a period, rarely): afresh, as offline
        again = ~slid
        if np.isnan(periods[slid, 0]).any():
            again[_lagsums.searched_again(np.where(slid[:, None], S, 0.0), np.where(slid[:, None], periods, 0.0), W,
                                          pmin, _SMOOTH)] = True
        if again.any():
            sel = np.flatnonzero(again)
            y = np.stack([seq[k % B, ends[k // B] - first - W:ends[k // B] - first] for k in sel])
            p, st = np.empty((sel.size, 1)), np.empty((sel.size, 1))
            _lagsums.detect_rows(y, L, pmin, pmax, _LEVEL, _SMOOTH, p, st, np.empty(sel.size))
            periods[sel], strengths[sel] = p, st
        out = np.empty((B, nw, 3))
        out[:, :, 0] = ends
        out[:, :, 1] = periods.reshape(nw, B).T / self.fs
        out[:, :, 2] = strengths.reshape(nw, B).T
        return out.reshape(self.lead + (nw, 3))

    @serialized_if_needed
    def _rows(self, seq, stops, ends):
        """detect_period of the windows of ``seq`` ending at ``stops`` (one
        batch of series), as rows (end, period, strength)."""
        W, B = self.window, self._B
        nw = stops.size
        view = np.lib.stride_tricks.sliding_window_view(seq, W, axis=1)  # (B, n - W + 1, W)
        y = np.ascontiguousarray(view[:, stops - W].reshape(B * nw, W))
        pmin, pmax = self._range
        periods = np.empty((B * nw, 1))
        strengths = np.empty((B * nw, 1))
        support = np.empty(B * nw)
        step = max(1, _costs.get().acf_chunk_points // W)  # (chunks of series, as detect_period)
        for i in range(0, B * nw, step):
            j = min(B * nw, i + step)
            _lagsums.detect_rows(y[i:j], self._L, pmin, pmax, _LEVEL, _SMOOTH, periods[i:j], strengths[i:j],
                                 support[i:j])
        out = np.empty((B, nw, 3))
        out[:, :, 0] = ends
        out[:, :, 1] = periods[:, 0].reshape(B, nw) / self.fs
        out[:, :, 2] = strengths[:, 0].reshape(B, nw)
        return out.reshape(self.lead + (nw, 3))

    def __getstate__(self):
        state = super().__getstate__()
        # the ring is made again from the window by the next push, with the
        # same reference, so to the bit: the pickle holds the samples only
        state["_ring"] = state["_F"] = state["_tw"] = None
        return state

    def flush(self):
        """No rows (each window was reported by the push that completed it);
        closes the stream."""
        self._close()
        return np.empty(self.lead + (0, 3))


# ---------------------------------------------------------------------------
# network matched filtering
# ---------------------------------------------------------------------------


class MatchedFilter(_Stream):
    """Streamed ``sigcorr.matched_filter(data, templates, moveouts=, weights=)``.

    Parameters
    ----------
    templates : array_like, (T, C, m)
        T templates of C channels (or (T, m) for one channel).
    moveouts, weights : array_like, (T, C), optional
        As :func:`sigcorr.matched_filter`.
    method : {'ccoeff_normed'}
    dtype : dtype, optional
        The compute dtype; by default the first chunk's (float32 and 8/16-bit
        data compute in float32, the rest in float64), as offline.

    Notes
    -----
    Chunks are (C, n) (or (n,) for one channel); a push returns (T, k).
    Each push scores the outputs the chunk completes, output i being the
    network score of the windows starting at i + moveout[t, c], complete
    once sample i + m + max(moveouts) - 1 has arrived: the held ``m +
    max(moveouts) - 1`` samples and the chunk go through matched_filter's own engine
    (``_network.Bank``: direct or FFT blocks by the cost model).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> from sigcorr import stream
    >>> rng = np.random.default_rng(0)
    >>> data = rng.standard_normal((3, 2000))
    >>> templates = np.stack([data[:, 500:540], data[:, 1200:1240]])
    >>> mf = stream.MatchedFilter(templates)
    >>> scores = np.concatenate([mf.push(data[:, i:i + 100]) for i in range(0, 2000, 100)] + [mf.flush()], axis=-1)
    >>> scores.shape, bool(np.allclose(scores, sigcorr.matched_filter(data, templates)))
    ((2, 1961), True)
    """

    _family = "image"

    def __init__(self, templates, *, moveouts=None, weights=None, method="ccoeff_normed", dtype=None):
        _validate.check_network_method(method)
        t = _validate.as_numeric_array(templates, "templates", allow_complex=False)
        self._one = t.ndim == 2
        C = 1 if self._one else (t.shape[1] if t.ndim == 3 else 0)
        long = (1 << 62,) if self._one else (C, 1 << 62)  # (a stream has no length)
        tpl, mv, w, _ = _validate.network_shapes(long, t, moveouts, weights)
        self.templates = np.asarray(tpl, dtype=np.float64).copy()
        self.moveouts, self.weights = mv, w
        self.m = self.templates.shape[2] + int(mv.max())  # the span of a network window
        super().__init__(dtype)

    def _start(self):
        self._hist = None
        self._bank = None

    def _channels(self):
        C = self.templates.shape[1]
        if self.lead != (() if self._one else (C,)):
            lead, self.lead, self.dtype = self.lead, None, self._fixed  # (not fixed by a refused chunk)
            want = "(n,)" if self._one else f"({C}, n)"
            raise ValueError(f"chunk has leading shape {lead}, but the templates have {C} channel(s): "
                             f"chunks must be {want}")
        self._hist = np.zeros((C, self.m - 1), self.dtype)
        self._h = 0
        self._bank = _network.Bank(self.templates, self.moveouts, self.weights, self.dtype)

    @serialized_if_needed
    def _advance(self, x):
        work = self._take(x)
        if work.shape[1] < self.m:
            return np.empty((self.templates.shape[0], 0), self.dtype)
        return self._bank.scores(work)

    def flush(self):
        """Nothing is owed at the end (the scores are the valid ones); closes the stream."""
        if self.lead is None:  # nothing pushed: the templates' channels
            self.lead = () if self._one else (self.templates.shape[1],)
        self._close()
        return np.empty((self.templates.shape[0], 0), self.dtype)
