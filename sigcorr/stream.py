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

import numpy as np

from . import _conv, _costs, _twins, _validate
from ._kernels import direct as _kdirect
from ._kernels import stream as _kstream
from ._runtime import ready, serialized_if_needed

__all__ = ["Correlate", "Convolve"]


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

    def __reduce__(self):  # (the dispatchers are module globals: pickled by name)
        return (_Kernel, (self.kernel, self.twin))


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
                    raise ValueError(f"chunk has leading shape {x.shape[:-1]} ({_count(x.shape[:-1])} channels), "
                                     f"but this stream has {self.lead} ({_count(self.lead)} channels), fixed by "
                                     "its first chunk; time is the last axis")
            x = x.astype(self.dtype, copy=False)
        B = 1
        for s in self.lead:
            B *= s
        x = x.reshape(B, x.shape[-1])
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

    def _start(self):
        pass

    def _channels(self):
        pass


def _count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


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
        B = self._B = _count(self.lead)
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
        m1 = self.m - 1
        B, n = x.shape
        h = self._h
        L = h + n
        nout = L - m1
        hist = self._hist
        if nout <= 0:  # still filling the kernel's span
            if n:
                hist[:, :m1 - n] = hist[:, n:]
                hist[:, m1 - n:] = x
            self._h = L
            return np.empty(self.lead + (0,), self.dtype)
        if h:
            work = np.empty((B, L), self.dtype)
            work[:, :h] = hist[:, m1 - h:]
            work[:, h:] = x
        else:
            work = x
        out = self._valid(work, nout)
        if m1:
            hist[...] = work[:, L - m1:]
        self._h = m1
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
            self._call(work.reshape(B, 1, L), self._ker, out, 0, 0)
            return out.reshape(B, nout)
        out = _conv.fft_path(work, self._ker[0, :, ::-1], 1, "valid")
        return np.ascontiguousarray(out, dtype=self.dtype)

    @serialized_if_needed
    def flush(self):
        """The outputs still owed at the end of the stream (the zero-padded
        tail of 'full' and 'same'); closes the stream."""
        self._close()
        m1 = self.m - 1
        B = _count(self.lead)
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
