"""Convolution layers with torch.nn.functional's semantics (cross-correlation).

``conv2d(x, weight, bias)`` computes, for every sample n and output channel o,
``bias[o] + sum_c correlate(x[n, c], weight[o, c])`` moved by ``stride`` over
the zero-padded input, with ``dilation`` spacing the kernel taps: what a
deep-learning "Conv2d" layer computes.  A 1x1x28x28 input and a 5x1x5x5 weight
give 1x5x24x24.
"""

from __future__ import annotations

import numpy as np

from . import _twins, _validate
from ._kernels import layers as _klayers
from ._runtime import serialized_if_needed, output_array, run

__all__ = ["conv1d", "conv2d", "conv3d"]


def _conv(x, weight, bias, stride, padding, dilation, nd):
    xa, wa, ba, dtype, s, d, pads, outs = _validate.layer_inputs(x, weight, bias, stride, padding, dilation, nd)
    co = wa.shape[0]
    bk = np.zeros(co, dtype=dtype) if ba is None else _validate.as_kernel_array(ba, dtype)
    if nd == 3:
        return _conv3(xa, wa, bk, dtype, s, d, pads, outs)
    xk = _validate.as_kernel_array(xa, dtype)
    wk = _validate.as_kernel_array(wa, dtype)
    if nd == 1:
        xk = xk[:, :, None, :]
        wk = wk[:, :, None, :]
        s, d, pads, outs = (1,) + s, (1,) + d, [(0, 0)] + pads, [1] + outs
    out = _planes(xk, wk, bk, s, d, pads, outs)
    return out[:, :, 0, :] if nd == 1 else out


def _planes(xk, wk, bk, s, d, pads, outs):
    """conv2d of kernel-ready arrays: stride 1 and dilation 1 by
    ``conv2d_unit`` on a zero-padded copy, else ``conv2d_general``."""
    dtype = xk.dtype
    co = wk.shape[0]
    if s == (1, 1) and d == (1, 1):
        if any(p for pair in pads for p in pair):
            xk = np.pad(xk, ((0, 0), (0, 0)) + tuple(tuple(pair) for pair in pads))
        return run(_klayers.conv2d_unit, _twins.conv2d_unit, xk, wk, bk,
                   output_array((xk.shape[0], co, outs[0], outs[1]), dtype))
    return run(_klayers.conv2d_general, _twins.conv2d_general, xk, wk, bk, s[0], s[1], pads[0][0],
               pads[1][0], d[0], d[1], output_array((xk.shape[0], co, outs[0], outs[1]), dtype))


def _conv3(xa, wa, bk, dtype, s, d, pads, outs):
    """conv3d on the 2-D kernels: the depth taps become input channels.  For
    output slice z the input slices z * sd - pd + e * dd (e < kD; zero
    outside the input) are gathered as C_in * kD channels, the weight read
    as (C_out, C_in * kD, kH, kW), and groups of output slices run as one
    batch of conv2d (bounded to about ``_GATHER_BYTES`` of gathered input)."""
    N, Ci, D, H, W = xa.shape
    Co, _, kd, kh, kw = wa.shape
    od = outs[0]
    wk = _validate.as_kernel_array(wa, dtype).reshape(Co, Ci * kd, kh, kw)
    src = np.arange(od)[:, None] * s[0] - pads[0][0] + np.arange(kd)[None, :] * d[0]  # (od, kd)
    inside = (src >= 0) & (src < D)
    per_slice = N * Ci * kd * H * W * np.dtype(dtype).itemsize
    group = max(1, min(od, _GATHER_BYTES // max(per_slice, 1)))
    out = output_array((N, Co, od, outs[1], outs[2]), dtype)
    for z0 in range(0, od, group):
        z1 = min(od, z0 + group)
        # (N, Ci, G, kd, H, W): the depth taps of each output slice
        g = xa[:, :, np.clip(src[z0:z1], 0, D - 1)]
        g = np.where(inside[z0:z1][None, None, :, :, None, None], g, 0)
        g = _validate.as_kernel_array(np.moveaxis(g, 2, 1), dtype).reshape(N * (z1 - z0), Ci * kd, H, W)
        part = _planes(g, wk, bk, s[1:], d[1:], pads[1:], outs[1:])
        out[:, :, z0:z1] = np.moveaxis(part.reshape(N, z1 - z0, Co, outs[1], outs[2]), 1, 2)
    return out


# conv3d's gathered depth taps per batch of output slices, in bytes
_GATHER_BYTES = 64 << 20


@serialized_if_needed
def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """1-D convolution layer, as ``torch.nn.functional.conv1d`` (no kernel flip).

    Parameters
    ----------
    x : array_like, (N, C_in, L)
    weight : array_like, (C_out, C_in, K)
    bias : array_like, (C_out,), optional
    stride, dilation : int
    padding : int, 'valid' or 'same'
        Zero padding on both sides; 'same' (stride 1 only) keeps the length,
        padding one more on the right when the total is odd, as torch does.

    Returns
    -------
    ndarray, (N, C_out, L_out)
        float32 stays float32; integers compute in float64.

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    >>> sigcorr.conv1d(x, np.array([[[1.0, -1.0]]]), bias=np.array([0.5]))
    array([[[-0.5, -0.5, -0.5]]])
    """
    return _conv(x, weight, bias, stride, padding, dilation, 1)


@serialized_if_needed
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution layer, as ``torch.nn.functional.conv2d`` (no kernel flip).

    Parameters
    ----------
    x : array_like, (N, C_in, H, W)
    weight : array_like, (C_out, C_in, kH, kW)
    bias : array_like, (C_out,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'

    Returns
    -------
    ndarray, (N, C_out, H_out, W_out)

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> patch = np.array([[1.0, 2, 3], [0, 1, 5], [1, 0, 2]])[None, None]
    >>> filt = np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]])[None, None]
    >>> sigcorr.conv2d(patch, filt, bias=np.array([1.0]))
    array([[[[9.]]]])
    >>> sigcorr.conv2d(np.zeros((1, 1, 28, 28)), np.zeros((5, 1, 5, 5))).shape
    (1, 5, 24, 24)
    """
    return _conv(x, weight, bias, stride, padding, dilation, 2)


@serialized_if_needed
def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """3-D convolution layer, as ``torch.nn.functional.conv3d`` (no kernel flip).

    Parameters
    ----------
    x : array_like, (N, C_in, D, H, W)
    weight : array_like, (C_out, C_in, kD, kH, kW)
    bias : array_like, (C_out,), optional
    stride, dilation : int or (int, int, int)
    padding : int, (int, int, int), 'valid' or 'same'

    Returns
    -------
    ndarray, (N, C_out, D_out, H_out, W_out)
        Each output size is (n + 2p - d(k - 1) - 1) // s + 1.

    Notes
    -----
    Computed on the 2-D layer kernels: the kD depth taps of each output
    slice are read as C_in * kD input channels (gathered in batches of
    output slices).

    Examples
    --------
    >>> import numpy as np
    >>> import sigcorr
    >>> x = np.ones((1, 2, 4, 4, 4))
    >>> sigcorr.conv3d(x, np.ones((3, 2, 2, 2, 2)), bias=np.array([0.0, 1.0, 2.0]))[0, :, 0, 0, 0]
    array([16., 17., 18.])
    >>> sigcorr.conv3d(x, np.ones((3, 2, 3, 3, 3)), stride=2, padding=1).shape
    (1, 3, 2, 2, 2)
    """
    return _conv(x, weight, bias, stride, padding, dilation, 3)
