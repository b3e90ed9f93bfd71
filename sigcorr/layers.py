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

__all__ = ["conv1d", "conv2d"]


def _conv(x, weight, bias, stride, padding, dilation, nd):
    xa, wa, ba, dtype, s, d, pads, outs = _validate.layer_inputs(x, weight, bias, stride, padding, dilation, nd)
    co = wa.shape[0]
    xk = _validate.as_kernel_array(xa, dtype)
    wk = _validate.as_kernel_array(wa, dtype)
    bk = np.zeros(co, dtype=dtype) if ba is None else _validate.as_kernel_array(ba, dtype)
    if nd == 1:
        xk = xk[:, :, None, :]
        wk = wk[:, :, None, :]
        s, d, pads, outs = (1,) + s, (1,) + d, [(0, 0)] + pads, [1] + outs
    if s == (1, 1) and d == (1, 1):
        if any(p for pair in pads for p in pair):
            xk = np.pad(xk, ((0, 0), (0, 0)) + tuple(tuple(pair) for pair in pads))
        out = run(_klayers.conv2d_unit, _twins.conv2d_unit, xk, wk, bk,
                  output_array((xk.shape[0], co, outs[0], outs[1]), dtype))
    else:
        out = run(_klayers.conv2d_general, _twins.conv2d_general, xk, wk, bk, s[0], s[1], pads[0][0],
                  pads[1][0], d[0], d[1], output_array((xk.shape[0], co, outs[0], outs[1]), dtype))
    return out[:, :, 0, :] if nd == 1 else out


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
