"""Greedy non-maximum suppression for peak lists."""

import numpy as np

from ._jit import A1, A2, I8, jit


@jit(sigs=[(A2(I8), A1(I8), I8, I8)])
def suppress(coords, shape, radius, max_out):
    """Keep candidates (already sorted best first) not within ``radius`` of a kept one.

    ``coords`` (k, 2) int64 positions on a grid of ``shape`` (rows, cols);
    a kept peak blocks the square window of half-width ``radius`` around it
    (Chebyshev distance <= radius).  Returns the indices kept, at most
    ``max_out``.
    """
    blocked = np.zeros((shape[0], shape[1]), dtype=np.uint8)
    keep = np.empty(min(coords.shape[0], max_out), dtype=np.int64)
    n = 0
    for idx in range(coords.shape[0]):
        if n >= max_out:
            break
        y = coords[idx, 0]
        x = coords[idx, 1]
        if blocked[y, x]:
            continue
        keep[n] = idx
        n += 1
        for yy in range(max(0, y - radius), min(shape[0], y + radius + 1)):
            for xx in range(max(0, x - radius), min(shape[1], x + radius + 1)):
                blocked[yy, xx] = 1
    return keep[:n]
