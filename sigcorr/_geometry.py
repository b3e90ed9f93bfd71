"""Output geometry: where each mode's output lies inside the full result,
and how far a boundary extends an input.  Shared by the in-memory paths and
``sigcorr.dask``; pure index arithmetic, no arrays: also how
``match_template(pad_input=True)`` extends its image (:func:`input_pads`)."""


def out_slices(n, m, mode):
    """Per-axis (start, length) of the mode's output inside the full result."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    if mode == "same":
        return (full - n) // 2, n
    length = abs(n - m) + 1
    return (full - length) // 2, length


def centred_batch(shape1, shape2, axes):
    """scipy's 'same' output has in1's shape on every axis, batch axes too:
    where in1 has length 1 on a batch axis and in2 more, only in2's centred
    element ((length - 1) // 2, as scipy's ``_centered`` crops) is kept.
    Returns the slices of in2 that leave that element, or None."""
    sel = [slice(None)] * len(shape2)
    for ax, (n, m) in enumerate(zip(shape1, shape2)):
        if ax not in axes and n == 1 and m > 1:
            c = (m - 1) // 2
            sel[ax] = slice(c, c + 1)
    return tuple(sel) if any(s != slice(None) for s in sel) else None


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


#: numpy.pad's modes that ``pad_input`` accepts (scikit-image's ``mode``;
#: 'empty' is left out: its values are whatever memory held).
PAD_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect",
             "symmetric", "wrap")


def input_pads(tshape, mode="constant"):
    """How ``match_template(pad_input=True)`` extends the image along each
    template axis, as scikit-image does.  Returns ``(pads, crops)``: the
    image is padded by ``pads`` ((before, after) per axis) with ``mode``,
    then ``crops`` ((start, stop) per axis, or None) taken of the padded
    axes.  The window of output i starts at i - t // 2, so t // 2 before and
    t - 1 - t // 2 after are read; scikit-image pads t on both sides, which
    only 'linear_ramp' (a ramp over the pad's width) can tell apart: for it
    the same t are padded, and the part read kept."""
    read = [(t // 2, t - 1 - t // 2) for t in tshape]
    if mode != "linear_ramp":
        return read, None
    return [(t, t) for t in tshape], [(t - b, -(t - a)) for t, (b, a) in zip(tshape, read)]
