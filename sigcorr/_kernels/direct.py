"""Direct (non-FFT) convolution/correlation kernels."""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def correlate2d_valid(image, kernel):
    """Valid-mode 2-D cross-correlation (no kernel flip).

    ``image`` (H, W) and ``kernel`` (h, w) are C-contiguous arrays of one float
    dtype with h <= H and w <= W; returns (H-h+1, W-w+1) in that dtype.
    out[i, j] = sum_{a, b} image[i + a, j + b] * kernel[a, b]
    """
    H, W = image.shape
    h, w = kernel.shape
    oh = H - h + 1
    ow = W - w + 1
    out = np.zeros((oh, ow), dtype=image.dtype)
    for i in prange(oh):
        row = out[i]
        for a in range(h):
            src = image[i + a]
            for b in range(w):
                k = kernel[a, b]
                for j in range(ow):
                    row[j] += src[j + b] * k
    return out
