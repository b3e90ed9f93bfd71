"""Output geometry: where each mode's output lies inside the full result,
and how far a boundary extends an input.  Shared by the in-memory paths and
``sigcorr.dask``; pure index arithmetic, no arrays."""


def out_slices(n, m, mode):
    """Per-axis (start, length) of the mode's output inside the full result."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    if mode == "same":
        return (full - n) // 2, n
    length = abs(n - m) + 1
    return (full - length) // 2, length


def boundary_pads(shape, kshape, mode, correlation):
    """Per-axis (before, after) extension of ``in1`` for ``convolve2d`` /
    ``correlate2d`` with a boundary: the 'valid' result of the extended input
    is the mode's output.  scipy's correlate2d centres 'same' at m // 2 of
    the full correlation, one sample later than the convolution's
    (m - 1) // 2 for even m."""
    pads = []
    for n, m in zip(shape, kshape):
        s0, length = out_slices(n, m, mode)
        if correlation and mode == "same":
            s0 = m // 2
        pads.append((m - 1 - s0, length - n + s0))
    return pads
