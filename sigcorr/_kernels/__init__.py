"""Numba kernels, one module per family.

Rules: every ``@njit`` function of the package lives here; kernels take
native-endian C-contiguous arrays of the dtypes ``sigcorr._validate`` produces,
do no validation, use no Python objects, and never import public modules.
Parallel kernels use ``@njit(parallel=True, cache=True)`` with ``prange`` over
the outermost independent work.
"""
