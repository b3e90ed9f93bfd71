"""Load scipy's installed ``scipy/signal/tests/test_signaltools.py`` with
sigcorr's functions in place of scipy's.

Each call loads a fresh copy of the module (its own globals), so the two
variants (every name swapped; ``oaconvolve`` alone) run side by side.  The
functions are the thin wrappers a user switching from scipy would write.
"""

from __future__ import annotations

import importlib.util
import itertools
import types

import numpy as np
import pytest
import scipy.signal
import scipy.signal.tests

import sigcorr

#: The classes and functions of scipy's file that test convolution and correlation.
NAMES = (
    "TestConvolve", "TestConvolve2d", "TestFFTConvolve", "TestOAConvolve", "TestAllFreqConvolves",
    "TestCorrelateReal", "TestCorrelate", "TestCorrelateComplex", "TestCorrelate2d",
    "test_correlation_lags", "test_correlation_lags_invalid_mode",
    "test_choose_conv_method", "test_choose_conv_method_2", "test_convolve_longdtype_input",
)


def _as_fftconvolve(out, in1, in2):
    """fftconvolve returns floats for integer and bool inputs once it
    transforms an axis (one longer than 1 in both inputs); sigcorr.convolve
    returns scipy.signal.convolve's integer dtype (the same values)."""
    transformed = any(n > 1 and m > 1 for n, m in zip(np.shape(in1), np.shape(in2)))
    return out.astype(np.float64) if transformed and out.dtype.kind in "biu" else out


def fftconvolve(in1, in2, mode="full", axes=None):
    """scipy.signal.fftconvolve, as a sigcorr user writes it."""
    return _as_fftconvolve(sigcorr.convolve(in1, in2, mode=mode, method="fft", axes=axes), in1, in2)


def oaconvolve(in1, in2, mode="full", axes=None):
    """scipy.signal.oaconvolve: sigcorr's FFT path (overlap-save for long signals)."""
    return _as_fftconvolve(sigcorr.convolve(in1, in2, mode=mode, method="fft", axes=axes), in1, in2)


#: Every name swapped.
ALL = {
    "convolve": sigcorr.convolve,
    "correlate": sigcorr.correlate,
    "convolve2d": sigcorr.convolve2d,
    "correlate2d": sigcorr.correlate2d,
    "correlation_lags": sigcorr.correlation_lags,
    "choose_conv_method": sigcorr.choose_conv_method,
    "fftconvolve": fftconvolve,
    "oaconvolve": oaconvolve,
}

#: Only oaconvolve: scipy's own fftconvolve is the reference.
OACONVOLVE = {"oaconvolve": oaconvolve}


class _Signal(types.ModuleType):
    """``scipy.signal`` as the tests see it (``signal.convolve``): the swapped
    names, and scipy's for everything else."""

    def __init__(self, swaps):
        super().__init__("scipy.signal")
        self.__dict__.update(swaps)

    def __getattr__(self, name):
        return getattr(scipy.signal, name)


_count = itertools.count()


def load(swaps: dict, names=NAMES) -> dict:
    """scipy's test module with ``swaps`` in its globals; returns ``names``,
    its test classes and functions, ready to be re-exported."""
    path = scipy.signal.tests.__path__[0] + "/test_signaltools.py"
    spec = importlib.util.spec_from_file_location(f"_scipy_test_signaltools_{next(_count)}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, func in swaps.items():
        setattr(mod, name, func)
    mod.signal = _Signal({k: v for k, v in swaps.items() if hasattr(scipy.signal, k)})
    out = {name: getattr(mod, name) for name in names}
    if "TestAllFreqConvolves" in out:
        out["TestAllFreqConvolves"] = _reparametrized(mod.TestAllFreqConvolves, swaps)
    return out


def _reparametrized(cls, swaps):
    """TestAllFreqConvolves captured scipy's fftconvolve and oaconvolve in its
    parametrization when the module was imported: the same class, over the
    swapped functions (ids kept)."""
    marks = []
    for mark in cls.pytestmark:
        if mark.name == "parametrize" and mark.args[0] == "convapproach":
            params = []
            for p in mark.args[1]:
                func = p.values[0]
                params.append(pytest.param(swaps.get(func.__name__, func), marks=p.marks, id=func.__name__))
            mark = pytest.mark.parametrize("convapproach", params).mark
        marks.append(mark)
    body = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    body["pytestmark"] = marks
    return type(cls.__name__, (), body)
