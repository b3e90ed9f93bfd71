"""Memory helpers for kernels' outputs."""

from numba import prange, types

from ._jit import A1, I8, jit

HUGE_PAGE = 1 << 21  # bytes: the unit of a transparent huge page fault


@jit(parallel=True, sigs=[(A1(types.uint8), I8)])
def touch_pages(buf, page):
    """Write 0 to the first byte of every ``page`` bytes of ``buf`` (uint8),
    huge page by huge page, the huge pages shared out over the threads: the
    kernel zeroes each page as it faults it in, and zeroing in parallel is
    faster than on one thread."""
    n = buf.shape[0]
    chunks = (n + HUGE_PAGE - 1) // HUGE_PAGE
    for c in prange(chunks):
        for i in range(c * HUGE_PAGE, min(n, (c + 1) * HUGE_PAGE), page):
            buf[i] = 0
