"""Inputs shared by sigcorr's tests and benchmarks (as ``numpy.testing`` or
``skimage.data`` serve theirs): synthetic scenes for the template searches.
Not part of the public API; nothing in the library imports it."""

import numpy as np


def transformed_scene(photo, rng, scale, angle, side=40):
    """A textured crop of ``photo`` and a scene: its surroundings zoomed by
    ``scale`` and rotated by ``angle`` about the crop's centre (the scene's
    centre)."""
    from scipy import ndimage

    while True:
        y, x = rng.integers(side + 30, min(photo.shape) - 2 * side - 30, 2)
        crop = photo[y:y + side, x:x + side]
        # textured: contrast and fine detail (smooth gradients have look-alikes)
        if crop.std() > 30 and np.abs(np.diff(crop, axis=1)).mean() + np.abs(np.diff(crop, axis=0)).mean() > 16:
            break
    big = photo[y - side - 20:y + 2 * side + 20, x - side - 20:x + 2 * side + 20]
    z = ndimage.zoom(big, scale, order=1)
    scene = ndimage.rotate(z, angle, reshape=True, order=1, mode="constant", cval=float(photo.mean()))
    return scene.astype(np.float32), crop.copy(), (np.array(scene.shape) - 1) / 2


def photos():
    """Three grey photographs of scikit-image's (camera, coins, astronaut), in
    float32 (8-bit values): the real images the matching tests score."""
    from skimage import data
    from skimage.color import rgb2gray

    return {
        "camera": data.camera().astype(np.float32),
        "coins": data.coins().astype(np.float32),
        "astronaut": (rgb2gray(data.astronaut()) * 255).astype(np.float32),
    }
