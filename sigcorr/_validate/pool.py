"""Pooling and the convolution layers."""

from __future__ import annotations

from .common import as_numeric_array, check_flag, check_int, compute_dtype

# ---------------------------------------------------------------------------
# pool and layers
# ---------------------------------------------------------------------------


def tuple_param(value, name, n, *, minimum):
    """An int or a length-n sequence of ints, each >= minimum -> tuple of n ints."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a sequence of {n} ints, got {value!r}")
        vals = tuple(check_int(v, name) for v in value)
    else:
        vals = (check_int(value, name),) * n
    for v in vals:
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return vals


def pool_input(x, nd, name="x"):
    """The array pooled over its last ``nd`` axes: real, at least ``nd``-D, not empty."""
    arr = as_numeric_array(x, name, allow_complex=False)
    check_pool_ndim(arr.ndim, nd, name)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def check_pool_ndim(ndim, nd, name="x"):
    if ndim < nd:
        raise ValueError(f"{name} must have at least {nd} dimension(s) to pool over, got {ndim}-D")


def pool_params(shape, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """torch's pooling arguments for an input of ``shape`` pooled over its
    last ``nd`` axes: ``(k, s, p, d, out)``, each per pooled axis, padded in
    front to two axes for ``nd == 1`` (a 1-row plane: k=1, s=1, p=0, d=1,
    out=1).  ``stride=None`` (or ``()``) means ``kernel_size``."""
    k = tuple_param(kernel_size, "kernel_size", nd, minimum=1)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        tuple_param(stride, "stride", nd, minimum=1)
    p = tuple_param(padding, "padding", nd, minimum=0)
    d = tuple_param(dilation, "dilation", nd, minimum=1)
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    ndim = len(shape)
    sizes = shape[ndim - nd:]
    out = []
    for ax in range(nd):
        if p[ax] > k[ax] // 2:  # torch's rule: half the kernel size, dilation aside
            raise ValueError(
                f"padding should be at most half of kernel size, but got padding={p[ax]} "
                f"and kernel_size={k[ax]}"
            )
        o = pool_output_size(sizes[ax], k[ax], s[ax], p[ax], d[ax], ceil_mode)
        if o < 1:
            raise ValueError(
                f"kernel_size {k[ax]} (dilation {d[ax]}) is larger than the padded input "
                f"({sizes[ax]} + 2 * {p[ax]}) along axis {ndim - nd + ax}: output size would be {o}"
            )
        out.append(o)
    if nd == 1:
        k, s, p, d, out = (1,) + k, (1,) + s, (0,) + p, (1,) + d, [1] + out
    return k, s, p, d, out


def check_avg_pool3d_size(shape, k):
    """torch's avg_pool3d rule (not its 1-D/2-D ones): the input, padding
    aside, at least as large as the window along each pooled axis."""
    sizes = tuple(shape[len(shape) - 3:])
    if any(n < kk for n, kk in zip(sizes, k)):
        raise ValueError(f"x's last three axes {sizes} are smaller than kernel_size {tuple(k)} "
                         "(torch's avg_pool3d refuses them, padding aside)")


def pool_output_size(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape for one axis."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out




def layer_inputs(x, weight, bias, stride, padding, dilation, nd):
    """Validate conv1d/conv2d/conv3d's inputs (``nd`` spatial axes).

    Returns ``(x, weight, bias, dtype, stride, dilation, pads, outs)``: the
    arrays as given (bias None or (C_out,)), the compute dtype, stride and
    dilation per axis, (lo, hi) padding per axis and the output sizes.
    """
    xa = as_numeric_array(x, "x", allow_complex=False)
    wa = as_numeric_array(weight, "weight", allow_complex=False)
    check_layer_x_ndim(xa.shape, nd)
    if wa.ndim != nd + 2:
        raise ValueError(
            f"weight must be {nd + 2}-D (C_out, C_in, {_KERNEL_AXES[nd]}), got shape {wa.shape}")
    if xa.size == 0 or wa.size == 0:
        raise ValueError(f"x and weight must not be empty, got shapes {xa.shape} and {wa.shape}")
    if wa.shape[1] != xa.shape[1]:
        raise ValueError(
            f"weight has {wa.shape[1]} input channels but x has {xa.shape[1]} "
            f"(weight {wa.shape}, x {xa.shape})")
    co = wa.shape[0]
    dtypes = [xa.dtype, wa.dtype]
    ba = None
    if bias is not None:
        ba = as_numeric_array(bias, "bias", allow_complex=False)
        if ba.shape != (co,):
            raise ValueError(f"bias must have shape ({co},) (one value per output channel), got {ba.shape}")
        dtypes.append(ba.dtype)
    dtype = compute_dtype(*dtypes)
    s = tuple_param(stride, "stride", nd, minimum=1)
    d = tuple_param(dilation, "dilation", nd, minimum=1)
    k = wa.shape[2:]
    pads = conv_padding(padding, nd, k, d, s)
    sizes = xa.shape[2:]
    outs = []
    for ax in range(nd):
        span = sizes[ax] + pads[ax][0] + pads[ax][1]
        reach = d[ax] * (k[ax] - 1) + 1  # the input span one output's taps cover
        if reach > span:
            raise ValueError(
                f"kernel size {k[ax]} (dilation {d[ax]}) can't be greater than the padded "
                f"input size {span} along spatial axis {ax}")
        outs.append((span - reach) // s[ax] + 1)
    return xa, wa, ba, dtype, s, d, pads, outs


_KERNEL_AXES = {1: "K", 2: "kH, kW", 3: "kD, kH, kW"}
_INPUT_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def check_layer_x_ndim(shape, nd):
    if len(shape) != nd + 2:
        raise ValueError(f"x must be {nd + 2}-D (N, C_in, {_INPUT_AXES[nd]}), got shape {tuple(shape)}")


def conv_padding(padding, nd, kernel, dilation, stride):
    """torch's conv padding (int, tuple, 'valid', 'same') -> ((lo, hi) per axis)."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return pads
        raise ValueError(f"padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}")
    vals = tuple_param(padding, "padding", nd, minimum=0)
    return [(v, v) for v in vals]
