"""Pooling and conv2d beside torch (2 threads), issue 5 targets."""

from __future__ import annotations

import numpy as np

import sigcorr
from _harness import Row, best_times


def rows(quick: bool = False) -> list[Row]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    rep = 3 if quick else 7
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 64, 128, 128), dtype=np.float32)
    tx = torch.from_numpy(x)
    out = []
    cases = [
        ("max_pool2d(x, 2), x 64x64x128x128 float32", lambda: sigcorr.max_pool2d(x, 2),
         lambda: F.max_pool2d(tx, 2), "<= 0.5x", 0.5),
        ("avg_pool2d(x, 2), same x", lambda: sigcorr.avg_pool2d(x, 2),
         lambda: F.avg_pool2d(tx, 2), "<= 1.0x", 1.0),
        ("max_pool2d(x, 3, 2, 1), same x", lambda: sigcorr.max_pool2d(x, 3, 2, 1),
         lambda: F.max_pool2d(tx, 3, 2, 1), "<= 0.5x", 0.5),
    ]
    for name, s, p, target, bound in cases:
        np.testing.assert_allclose(s(), p().numpy(), rtol=1e-6, atol=1e-6)
        t = best_times({"s": s, "p": p}, repeat=rep)
        out.append(Row(name, t["s"], "torch.nn.functional", t["p"], target, bound))
    x = tx = None  # free the memory before the next rows
    xi = rng.standard_normal((16, 3, 224, 224), dtype=np.float32)
    w = rng.standard_normal((16, 3, 5, 5), dtype=np.float32)
    b = rng.standard_normal(16, dtype=np.float32)
    txi, tw, tb = torch.from_numpy(xi), torch.from_numpy(w), torch.from_numpy(b)
    np.testing.assert_allclose(sigcorr.conv2d(xi, w, b, padding=2),
                               F.conv2d(txi, tw, tb, padding=2).numpy(), atol=1e-3)
    t = best_times({"s": lambda: sigcorr.conv2d(xi, w, b, padding=2),
                    "p": lambda: F.conv2d(txi, tw, tb, padding=2)}, repeat=rep)
    out.append(Row("conv2d, x 16x3x224x224 float32, 16 5x5 filters, padding 2", t["s"],
                   "torch.nn.functional.conv2d", t["p"], "<= 1.5x", 1.5))
    return out
