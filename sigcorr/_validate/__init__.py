"""Turning user input into kernel input.

Everything a kernel may assume is established here: a native-endian,
C-contiguous, writable array of one of the dtypes the kernels are compiled for
(float32, float64; complex is split or routed to FFT paths by the callers),
chosen by the one dtype policy, :func:`compute_dtype`'s table.  Every error a
user can trigger is raised here, as a ``ValueError`` or ``TypeError`` naming
the argument and what was expected, in one wording per mistake (scipy's where
scipy words it); ``sigcorr.dask`` calls the same checks.

One module per family (``common`` holds the shared checks); this package
re-exports every check, so callers write ``_validate.check_mode``.  Add new
checks to your family's module.
"""

from .common import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .match import *  # noqa: F401,F403
from .network import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .scale import *  # noqa: F401,F403
from .series import *  # noqa: F401,F403
