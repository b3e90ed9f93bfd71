"""sigcorr on Dask arrays: the same functions, chunked, with the in-memory answers.

Needs the ``dask`` extra (``pip install "sigcorr[dask]"``).  Every function
takes a Dask array (or a NumPy array plus ``chunks=``) and returns a lazy Dask
array (or a small result), computed block by block by sigcorr's own in-memory
functions, so it runs unchanged on a ``dask.distributed`` cluster.

How each is chunked:

* ``convolve``, ``correlate``, ``convolve2d``, ``correlate2d``,
  ``match_template``: the zero padding (or the boundary: ``fill`` with any
  value, ``wrap``, ``symm``) is added once at the true edges of the array;
  then every block computes the "valid" result of itself plus a halo, on its
  right/bottom, of the kernel's extent minus one (``map_overlap`` with
  ``boundary="none"``, as dask-image does), so the edge blocks see the real
  boundary and no block sees made-up ghost cells.  Batch axes are plain blocks.
* ``find_matches``: the peaks of each block (with a halo of ``min_distance``),
  then one greedy suppression over all of them: the same matches as in memory.
* ``autocorrelation``: every block adds its lag sums over its own samples
  against the next ``max_lag`` ones; the blocks' partial sums are added, so
  one long series may be chunked in time.  NaN is missing, as in memory.
* ``matched_filter``: time chunks with a halo of the templates' span
  (``m - 1 + max(moveouts)``), their boundaries on multiples of ``step``.
* ``detect_period``, ``detect_periods``, ``conv1d``, ``conv2d``: the series / batch axis as
  blocks (the time axis, and the channels, in one chunk).
* pooling: the padding at the true edges, chunks aligned to the stride, a
  halo where windows overlap.

Chunks smaller than a halo are merged with their neighbours automatically.
Each task runs sigcorr's parallel kernels on its share of the cores: the
threads sigcorr uses, divided by the tasks the scheduler runs at once (the
threads of a distributed worker, or of the local threaded scheduler), since
tasks that each start every core's worth of threads only contend.

Workers compile nothing on their first task when their kernels are in the
cache: ``client.run(sigcorr.warmup)`` compiles them once per machine.

One module per family, beside the in-memory one: :mod:`.convolve`,
:mod:`.match`, :mod:`.network` (matched filtering), :mod:`.series` (autocorrelation, cross-correlation,
periods), :mod:`.pool` (pooling and layers); the chunk machinery they
share is in :mod:`._blocks`.
"""

try:
    import dask.array as _da  # noqa: F401  (every family needs it: fail here, with the fix)
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError('sigcorr.dask needs Dask: pip install "sigcorr[dask]"') from exc

from .convolve import convolve, convolve2d, correlate, correlate2d
from .match import find_matches, match_template
from .network import matched_filter
from .pool import avg_pool1d, avg_pool2d, avg_pool3d, conv1d, conv2d, conv3d, max_pool1d, max_pool2d, max_pool3d
from .series import autocorrelation, crosscorrelation, detect_period, detect_periods

__all__ = [
    "convolve", "correlate", "convolve2d", "correlate2d", "match_template", "find_matches",
    "autocorrelation", "crosscorrelation", "detect_period", "detect_periods", "max_pool1d", "max_pool2d",
    "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "conv1d", "conv2d", "conv3d", "matched_filter",
]
