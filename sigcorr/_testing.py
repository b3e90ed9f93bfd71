"""Inputs shared by sigcorr's tests and benchmarks (as ``numpy.testing`` or
``skimage.data`` serve theirs): synthetic scenes for the template searches.
Not part of the public API; nothing in the library imports it."""

import numpy as np


def random_array(rng, shape, dtype):
    """Random data of ``dtype`` for the convolution tests: small integers
    (exact in every method) for integer dtypes, standard normal values (real
    and imaginary parts for complex ones) otherwise."""
    if np.dtype(dtype).kind == "i":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


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


def photo_family():
    """Grey float32 versions (channel mean, 8-bit values) of the photographs
    of ``skimage.data`` that ship with scikit-image (no download), of
    several kinds: people, animals, objects, text, astronomy, microscopy.
    Pure repeated textures (brick, grass, checkerboard) are left out: they
    hold no unique object."""
    from skimage import data

    out = {}
    for name in ("camera", "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry",
                 "hubble_deep_field", "stereo_motorcycle", "page", "text", "moon", "colorwheel",
                 "clock", "coins", "cell"):
        p = getattr(data, name)()
        if isinstance(p, tuple):  # a stereo pair: its left view
            p = p[0]
        out[name] = (p[..., :3].mean(axis=2) if p.ndim == 3 else p).astype(np.float32)
    return out


def recovery_case(photo, rng, scale, angle, side, min_std=12.0, max_tries=400, at=None):
    """One case of the scale/angle accuracy family: a crop of ``photo``
    (``side`` square, its standard deviation at least ``min_std``) that is
    unique in the photograph (no other window within 0.9 of it by
    ``ccoeff_normed``, half a side away or more), and its surroundings
    zoomed and rotated (:func:`transformed_scene`'s scene).  Returns
    ``(scene, crop, centre, stats)`` with the crop's texture statistics
    (``std``, ``grad``: mean absolute neighbour difference) and ``second``:
    the best score elsewhere in the photograph (a look-alike's); None when no
    crop qualifies within ``max_tries`` draws."""
    from scipy import ndimage

    from sigcorr import match_template

    H, W = photo.shape
    m = side + 20
    for _ in range(max_tries):
        if H - 2 * m - side < 1 or W - 2 * m - side < 1:
            return None
        if at is not None:
            y, x = at
        else:
            y, x = int(rng.integers(m, H - m - side)), int(rng.integers(m, W - m - side))
        crop = photo[y:y + side, x:x + side]
        if crop.std() < min_std:
            continue
        sc = match_template(photo, crop)
        sc[max(0, y - side // 2):y + side // 2 + 1, max(0, x - side // 2):x + side // 2 + 1] = -np.inf
        second = float(np.nanmax(sc))
        if second > 0.9:
            continue
        grad = float(np.abs(np.diff(crop, axis=1)).mean() + np.abs(np.diff(crop, axis=0)).mean())
        big = photo[y - m:y + side + m, x - m:x + side + m]
        z = ndimage.zoom(big, scale, order=1)
        scene = ndimage.rotate(z, angle, reshape=True, order=1, mode="constant", cval=float(photo.mean()))
        stats = {"std": float(crop.std()), "grad": grad, "second": second}
        return scene.astype(np.float32), crop.copy(), (np.array(scene.shape) - 1) / 2, stats
    return None
