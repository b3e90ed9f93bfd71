"""Numba kernels, one module per family.

Rules: every numba function of the package lives here, decorated with
``_jit.jit`` (numba's ``njit`` with sigcorr's on-disk cache); kernels take
native-endian C-contiguous arrays of the dtypes ``sigcorr._validate``
produces, do no validation, use no Python objects, and never import public
modules.  A kernel called from Python declares the argument types it is
called with (``sigs=``): ``sigcorr warmup`` compiles exactly those, and
``sigcorr._twins`` holds its scipy / numpy twin of the same name.
Integer codes a kernel switches on (match methods) are named once in
``codes``, for the kernels and their Python callers alike.

Compile time is part of the design (every fresh install, container and
cluster worker pays it):

* parallel kernels are thin ``parallel=True`` loops, ``prange`` over the
  outermost independent work, calling one plain function per task (numba's
  parallel passes cost seconds per line of an inlined body);
* a task function that is short itself and only dispatches to heavier plain
  helpers is inlined into that loop (``inline="always"``: ``lag_window``,
  ``conv2d_unit``): every function numba links into another
  is optimized and emitted again at each level above it, so one level less
  saves 0.3-1 s per signature; a task with a long body of its own is not
  (inlined, ``lag_sums_fft``, ``match_scores``, ``omit_scores`` and
  ``detect`` compiled 1-2 s slower, as the parallel passes then see it);
* helpers called only from other kernels get no Python entry point
  (``_jit.jit`` without ``sigs``): about 5% less compile time in all;
* ``inline="always"`` only for the few-line helpers of the innermost loops,
  inlined into a plain (non-parallel) body, where LLVM needs to see them
  whole to vectorize;
* no literal constants as arguments of numba calls (``f(x, 0)``, or ``c = 0``
  before a loop that calls ``f(x, c)``): numba compiles a separate copy of
  ``f`` (and of everything it calls) for the literal; pass ``np.int64(0)``;
* ``prange`` indices are cast with ``np.int64`` before arithmetic with
  signed values (unsigned times signed is float64 in numba).
"""

# what the runtime outside this package needs of the decorator's module: the
# kernels called from Python with their signatures, and the cache folder
from ._jit import REGISTRY, cache_dir  # noqa: E402,F401
