"""match_template, find_matches, locate."""

from __future__ import annotations

import numpy as np

from .._geometry import PAD_MODES
from .._kernels.codes import MATCH_METHOD_CODES
from .common import (as_kernel_array, as_numeric_array, check_choice, check_flag, check_int, check_nonempty, check_real,
                     compute_dtype)
from .scale import extrema, safe_exponent, scaled

# ---------------------------------------------------------------------------
# match
# ---------------------------------------------------------------------------

# the method names, in OpenCV's TM_* order: the keys of the kernels' codes
MATCH_METHODS = tuple(MATCH_METHOD_CODES)
MINIMIZING = ("sqdiff", "sqdiff_normed")  # distances: the best match is the lowest score


def maximizes(method: str) -> bool:
    """Whether the best match of a (checked) method is its highest score."""
    return method not in MINIMIZING


def normalized(method: str) -> bool:
    """Whether a (checked) method's scores are normalized (scale-free)."""
    return method.endswith("_normed")


def scale_free(img, tpls, dtype):
    """Image and templates (an array or a list of them) scaled by one power
    of two into the safe range of ``dtype`` (:mod:`.scale`, the scale-free
    rule; untouched, k = 0, for data inside it).  Returns ``(img, tpls, k,
    ext)``: normalized scores computed on them are the data's; unnormalized
    ones (sums of products) come back with ``unscale(scores, k)``; ``ext`` is
    the returned (C, ...) image's per-channel :func:`extrema` (None where it
    holds non-finite values), which the scoring reuses rather than pass over
    the image again."""
    parts = list(tpls) if isinstance(tpls, list) else [tpls]
    ext = extrema(img)
    k = safe_exponent(img, *parts, dtype=dtype, ext=ext)
    if k == 0:
        return img, tpls, 0, ext
    tpls = [scaled(t, k) for t in tpls] if isinstance(tpls, list) else scaled(tpls, k)
    # (ldexp is monotonic: the scaled image's extrema are the extrema scaled)
    ext = None if ext is None else (scaled(ext[0], k), scaled(ext[1], k))
    return scaled(img, k), tpls, k, ext


def check_pad_mode(mode, constant_values):
    """``pad_input``'s ``mode`` (numpy.pad's, as scikit-image's) and
    ``constant_values`` (a real number, NaN allowed: padding that is
    missing); a ``constant_values`` other than 0 with another mode, which
    would be ignored, is refused."""
    mode = check_choice(mode, "mode", PAD_MODES)
    value = check_real(constant_values, "constant_values", finite=False)
    if mode != "constant" and not value == 0:
        raise ValueError(f"constant_values is used only with mode='constant', got mode={mode!r} "
                         f"and constant_values={constant_values!r}")
    return mode, value


def check_match_method(method) -> str:
    if isinstance(method, str) and method.lower() in MATCH_METHODS:
        return method.lower()
    opts = ", ".join(repr(m) for m in MATCH_METHODS)
    raise ValueError(f"method must be one of {opts}, got {method!r}")


def template_fits(ishape, tshape) -> bool:
    """Whether a template of shape ``tshape`` fits in an image of shape
    ``ishape`` (same number of axes): not larger in any spatial axis (the
    first two of a colour (H, W, C) image)."""
    spatial = 2 if len(ishape) == 3 else len(ishape)
    return all(t <= n for t, n in zip(tuple(tshape)[:spatial], tuple(ishape)[:spatial]))


def match_shapes(ishape, tshape) -> None:
    """An image and a template of these shapes can be matched: the same
    number of axes, 1-D, 2-D or colour (H, W, C) with the same channels,
    the template not larger than the image in any axis."""
    ishape, tshape = tuple(ishape), tuple(tshape)
    if len(ishape) != len(tshape):
        raise ValueError(
            f"image and template must have the same number of dimensions, "
            f"got image.ndim={len(ishape)} and template.ndim={len(tshape)}"
        )
    if len(ishape) > 3:
        raise ValueError(
            f"image must be 1-D, 2-D or a colour image (H, W, C), got {len(ishape)}-D"
        )
    if len(ishape) == 3 and ishape[2] != tshape[2]:
        raise ValueError(
            f"image and template must have the same number of channels, "
            f"got {ishape[2]} and {tshape[2]} (for a volume (D, H, W) pass channel_axis=None)"
        )
    if not template_fits(ishape, tshape):
        raise ValueError(
            f"template must not be larger than image in any axis, got template "
            f"shape {tshape} and image shape {ishape}"
        )


def finite_mask(m, name):
    """A mask, of weights (``mask``) or of presence (``image_mask``, nonzero
    is present), as float64: NaN and inf refused, the one rule for both (a
    NaN would count as a weight, or as present)."""
    m = np.asarray(m, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite: NaN or inf is neither a weight nor present or missing")
    return m


def mask_weights(mask, shape, also=None):
    """``mask``: weights >= 0 (finite, :func:`finite_mask`) of the template's
    ``shape`` (or of the shape ``also``: a colour template's (h, w)), as float64."""
    m = as_numeric_array(mask, "mask", allow_complex=False)
    if m.shape != tuple(shape) and (also is None or m.shape != tuple(also)):
        raise ValueError(f"mask must have the template's shape {tuple(shape)}, got {m.shape}")
    m = finite_mask(m, "mask")
    if np.any(m < 0):
        raise ValueError("mask weights must be >= 0")
    return m


def match_inputs(image, template, mask):
    """Validate match_template's inputs.

    Returns ``(img, tpl, msk, one_d, dtype)``: image (C, H, W) and
    template (C, h, w) in the "image" compute dtype (:func:`compute_dtype`),
    mask (C, h, w) float64 or None.
    """
    img = as_numeric_array(image, "image", allow_complex=False)
    tpl = as_numeric_array(template, "template", allow_complex=False)
    check_pair(img, tpl, stack=False)
    dtype = compute_dtype(img.dtype, tpl.dtype, family="image")
    one_d = img.ndim == 1

    def planes(a):
        if a.ndim == 1:
            a = a[None, :, None]
        elif a.ndim == 2:
            a = a[:, :, None]
        return np.moveaxis(a, 2, 0)

    msk = None
    if mask is not None:
        m = mask_weights(mask, tpl.shape, tpl.shape[:2] if tpl.ndim == 3 else None)
        if m.ndim == 2 and tpl.ndim == 3:
            m = np.repeat(m[:, :, None], tpl.shape[2], axis=2)
        msk = np.ascontiguousarray(planes(m))
    return (as_kernel_array(planes(img), dtype), as_kernel_array(planes(tpl), dtype),
            msk, one_d, dtype)


#: trailing template sizes that look like colour channels (RGB, RGBA)
CHANNEL_SIZES = (3, 4)


def reads_as_stack(ishape, tshape, stack=None) -> bool:
    """Whether a template of shape ``tshape`` is a stack of templates for an
    image of shape ``ishape``: one more axis than the image, in front
    ((T, w), (T, h, w), (T, h, w, C)).  ``stack=True``/``False`` forces the
    reading; ``None`` infers it, but refuses the ambiguous case: a grey (1-D
    or 2-D) image with a template whose extra last axis has 3 or 4 entries,
    which may be a colour template as much as a stack."""
    ishape, tshape = tuple(ishape), tuple(tshape)
    extra = len(tshape) == len(ishape) + 1 and len(ishape) >= 1
    if stack is None:
        if extra and len(ishape) in (1, 2) and tshape[-1] in CHANNEL_SIZES:
            grey = "grey (2-D)" if len(ishape) == 2 else "1-D"
            raise ValueError(
                f"template of shape {tshape} on a {grey} image is ambiguous: a colour template "
                f"({tshape[-1]} channels) or a stack of {tshape[0]} templates of shape {tshape[1:]}? "
                f"For a colour template convert it to grey (e.g. template.mean(axis=-1)) or the image "
                f"to colour; for a stack pass stack=True"
            )
        return extra
    stack = check_flag(stack, "stack")
    if stack and not extra:
        raise ValueError(
            f"with stack=True template must be a stack (T, ...) with one more axis than image, got "
            f"template.ndim={len(tshape)} and image.ndim={len(ishape)}"
        )
    return stack


def check_pair(img, tpl, stack=None) -> bool:
    """The checks of an image and its template or stack of templates (NumPy
    or Dask arrays: only their shapes are read) every front end shares:
    neither empty, the stack reading (:func:`reads_as_stack`), the shapes
    (:func:`match_shapes`).  Returns whether ``tpl`` is a stack."""
    stack = reads_as_stack(img.shape, tpl.shape, stack)
    if stack and tpl.shape[0] == 0:
        raise ValueError("template stack must hold at least one template, got shape "
                         f"{tpl.shape}")
    check_nonempty(img, "image")
    one = tpl[0] if stack else tpl
    check_nonempty(one, "template")
    match_shapes(img.shape, one.shape)
    return stack


def match_stack_inputs(image, templates, mask, *, stack=None, masked=None):
    """Validate match_template's inputs where ``templates`` may be a stack
    (:func:`reads_as_stack`; ``masked``: :func:`as_numeric_array`'s option).

    A stack has one more axis than ``image``, in front: (T, w) for a 1-D
    image, (T, h, w) for a 2-D one, (T, h, w, C) for a colour one.  Returns
    ``(img, tpls, msk, one_d, dtype, stack)`` with ``tpls`` (T, C, h, w)
    (T = 1 without a stack) and ``img``, ``msk`` as :func:`match_inputs`.
    """
    img = as_numeric_array(image, "image", allow_complex=False, masked=masked)
    tpl = as_numeric_array(templates, "template", allow_complex=False, masked=masked)
    if not check_pair(img, tpl, stack):
        i, t, m, one_d, dtype = match_inputs(img, tpl, mask)
        return i, t[None], m, one_d, dtype, False
    i, t0, m, one_d, dtype = match_inputs(img, tpl[0], mask)
    if tpl.ndim == 2:
        planes = tpl[:, None, None, :]
    elif tpl.ndim == 3:
        planes = tpl[:, None]
    else:
        planes = np.moveaxis(tpl, 3, 1)
    tpls = as_kernel_array(planes, dtype)
    return i, tpls, m, one_d, dtype, True


class _ChannelDefault:
    """``channel_axis``'s default: OpenCV's colour reading of a 3-D image
    whose template has as many channels, a volume otherwise."""

    def __repr__(self):
        return "'auto'"


#: match_template's default ``channel_axis``
CHANNEL_DEFAULT = _ChannelDefault()


def channel_reading(image, template, channel_axis, stack=None):
    """How match_template reads a 3-D image (arrays or shapes' owners).

    Returns ``(image, template, volume)``: with ``channel_axis`` an int the
    two with that axis moved last (the colour axis, OpenCV's (H, W, C)), and
    whether every axis is spatial (a volume, with a 3-D template or a
    (T, d, h, w) stack).  The default (:data:`CHANNEL_DEFAULT`) reads a 3-D
    image as colour when the template's last axis has the image's channel
    count or the image has at most four (an RGBA image's; a mismatch is then
    the shape checks' error), as a volume otherwise; ``None``
    (scikit-image's meaning) makes every axis spatial.
    """
    ndim = np.ndim(image)
    if ndim > 3:
        raise ValueError(
            f"image must be 1-D, 2-D, a colour image (H, W, C) or, with channel_axis=None, a 3-D volume "
            f"(D, H, W); got {ndim}-D (4-D and higher images are not supported: a stack of templates "
            f"takes one more axis on the template)")
    ragged = False
    try:
        tshape = np.shape(template)
    except ValueError:  # locate's list of templates of several sizes: read by its first
        ragged = True
        tshape = (len(template),) + np.shape(template[0])
    if channel_axis is CHANNEL_DEFAULT:
        channels = np.shape(image)[-1] if ndim else 0
        volume = ndim == 3 and len(tshape) in (3, 4) and tshape[-1] != channels \
            and channels > max(CHANNEL_SIZES) and not (len(tshape) == 4 and stack is False)
        return image, template, volume
    if channel_axis is None:
        return image, template, ndim == 3
    ax = check_int(channel_axis, "channel_axis")
    if ndim != 3:
        raise ValueError(f"channel_axis={ax} names the colour axis of a 3-D (H, W, C) image, got a {ndim}-D image; "
                         "leave channel_axis out (or pass None) for a grey image")
    if not -3 <= ax < 3:
        raise ValueError(f"channel_axis={ax} is out of range for a 3-D image: -3 to 2 (or None for a volume)")
    ax %= 3
    image = np.moveaxis(image if hasattr(image, "ndim") else np.asarray(image), ax, -1)  # (a Dask array stays lazy)
    if ragged:  # a list of (h, w, C) templates: each one's axis
        template = [np.moveaxis(np.asarray(t), ax, -1) if np.ndim(t) == 3 else t for t in template]
        channels = {np.shape(t)[-1] for t in template if np.ndim(t) == 3}
    else:
        template = np.asarray(template)
        if template.ndim == 3:
            template = np.moveaxis(template, ax, -1)
        elif template.ndim == 4:
            template = np.moveaxis(template, ax + 1, -1)
        channels = {template.shape[-1]} if template.ndim in (3, 4) else set()
    if channels - {image.shape[-1]}:
        raise ValueError(f"channel_axis={channel_axis}: image has {image.shape[-1]} channels on that axis but "
                         f"template has {max(channels - {image.shape[-1]})}")
    return image, template, False


def volume_inputs(image, templates, stack=None, *, mask=None, masked=None):
    """Validate match_template's inputs for a volume (every axis spatial).

    Returns ``(img, tpls, msk, dtype, stack)``: the (D, H, W) volume and the
    (T, d, h, w) templates (T = 1 without a stack) in the "image" compute
    dtype, and ``mask`` as (d, h, w) float64 weights (:func:`mask_weights`:
    one template's shape) or None.  ``masked``: :func:`as_numeric_array`'s
    option for NumPy masked arrays.
    """
    img = as_numeric_array(image, "image", allow_complex=False, masked=masked)
    tpl = as_numeric_array(templates, "template", allow_complex=False, masked=masked)
    stack = volume_shapes(img.shape, tpl.shape, stack)
    dtype = compute_dtype(img.dtype, tpl.dtype, family="image")
    tpls = tpl if stack else tpl[None]
    msk = None if mask is None else np.ascontiguousarray(mask_weights(mask, tpls.shape[1:]))
    return as_kernel_array(img, dtype), as_kernel_array(tpls, dtype), msk, dtype, stack


def volume_shapes(ishape, tshape, stack=None) -> bool:
    """The checks of a volume and its template(s) by their shapes (both
    front ends): a 3-D template or a (T, d, h, w) stack, none empty, not
    larger than the volume.  Returns whether the template is a stack."""
    ishape, tshape = tuple(ishape), tuple(tshape)
    if stack is None:
        stack = len(tshape) == 4
    elif check_flag(stack, "stack") and len(tshape) != 4:
        raise ValueError(f"with stack=True template must be a (T, d, h, w) stack of volumes, got shape {tshape}")
    one = tshape[1:] if stack else tshape
    if len(one) != 3:
        raise ValueError(f"a volume (D, H, W) needs a 3-D template (d, h, w) or a (T, d, h, w) stack, got "
                         f"template shape {tshape}")
    if stack and tshape[0] == 0:
        raise ValueError(f"template stack must hold at least one template, got shape {tshape}")
    if 0 in ishape:
        raise ValueError(f"image must not be empty, got shape {ishape}")
    if 0 in one:
        raise ValueError(f"template must not be empty, got shape {one}")
    if any(t > n for t, n in zip(one, ishape)):
        raise ValueError(f"template must not be larger than image in any axis, got template shape {one} "
                         f"and image shape {ishape}")
    return bool(stack)


def locate_inputs(image, templates, stack=None):
    """Validate locate's image and templates: one template, a stack (as
    :func:`match_stack_inputs`), or a list or tuple of templates (each with
    the image's number of axes: a stack, of one size or several).  Returns
    ``(img, tpls, one_d, dtype)``: ``tpls`` a (T, C, h, w) array when the
    sizes agree, else a list of (C, h, w) arrays, all in one compute dtype."""
    img = as_numeric_array(image, "image", allow_complex=False)
    if isinstance(templates, (list, tuple)) and templates:
        items = [as_numeric_array(t, f"template {k}", allow_complex=False) for k, t in enumerate(templates)]
        if all(t.ndim == img.ndim for t in items):  # a list of templates, not one template as nested lists
            if stack is not None and not check_flag(stack, "stack"):
                raise ValueError("a list of templates is a stack: stack=False needs one template")
            stack = True
            if len({t.shape for t in items}) > 1:
                checked = [match_inputs(img, t, None) for t in items]
                dtype = compute_dtype(img.dtype, *(t.dtype for t in items), family="image")
                img, tpls = as_kernel_array(checked[0][0], dtype), [as_kernel_array(c[1], dtype) for c in checked]
                return img, finite_templates(tpls), checked[0][3], dtype
    img, tpls, _, one_d, dtype, _ = match_stack_inputs(img, templates, None, stack=stack)
    return img, finite_templates(tpls), one_d, dtype


def finite_templates(tpls):
    """locate's templates, refused with a NaN or infinite pixel."""
    if not all(np.isfinite(t).all() for t in tpls):
        raise ValueError("template has NaN or infinite pixels: locate scores as match_template's "
                         "nan_policy='propagate', where every window of such a template scores NaN and "
                         "nothing can be found; fill them, or score with match_template(image, template, "
                         "nan_policy='omit') and pick the matches with find_matches")
    return tpls


NAN_POLICIES = ("propagate", "omit")


def missing_inputs(nan_policy, image_mask, min_overlap, image, msk, volume=False):
    """Validate match_template's missing-pixel arguments.

    ``image`` is the user's image (as given), ``msk`` the validated template
    mask (C, h, w), a volume's (d, h, w), or None.  Returns ``(policy,
    present, min_overlap)`` with ``present`` a (H, W) bool plane ((1, n) for
    a 1-D image, the (D, H, W) voxels for a ``volume``) of the pixels
    ``image_mask`` keeps, or None.
    """
    policy = check_choice(nan_policy, "nan_policy", NAN_POLICIES)
    min_overlap = check_real(min_overlap, "min_overlap")
    if not 0.0 <= min_overlap <= 1.0:
        raise ValueError(f"min_overlap must be a fraction in [0, 1], got {min_overlap}")
    present = None
    if image_mask is not None:
        m = as_numeric_array(image_mask, "image_mask", allow_complex=False)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"image_mask must be a boolean or numeric array, got dtype {m.dtype}")
        m = finite_mask(m, "image_mask")
        shape = np.shape(image)
        spatial = shape[:2] if len(shape) == 3 and not volume else shape
        if m.shape != tuple(spatial):
            raise ValueError(f"image_mask must have the image's shape {tuple(spatial)}, got {m.shape}")
        present = m != 0
        if present.ndim == 1:
            present = present[None, :]
    if policy == "omit" and msk is not None and not np.isin(msk, (0.0, 1.0)).all():
        raise ValueError("mask must be binary (0 or 1) with nan_policy='omit': it marks the "
                         "template pixels that are present")
    return policy, present, min_overlap


def scales_angles(scales, angles, one_d):
    """locate's ``scales`` and ``angles`` as 1-D float arrays (defaults [1.0]
    and [0.0]); scales > 0, angles in degrees, both finite and non-empty."""
    if one_d:
        raise ValueError("scales and angles need a 2-D (or colour) image and template")
    out = []
    for value, name, default in ((scales, "scales", 1.0), (angles, "angles", 0.0)):
        if value is None:
            out.append(np.array([default]))
            continue
        arr = np.atleast_1d(np.asarray(value))
        if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got {value!r}")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite")
        if name == "scales" and (arr <= 0).any():
            raise ValueError(f"scales must be > 0, got {value!r}")
        out.append(arr)
    return out[0], out[1]


def check_score_map(ndim, *, stack=True) -> None:
    """find_matches' scores: a 1-D or 2-D map, or (``stack``) a 3-D stack of 2-D maps."""
    if ndim in (1, 2) or (stack and ndim == 3):
        return
    more = " (or a 3-D stack of 2-D maps)" if stack else ""
    raise ValueError(f"scores must be 1-D or 2-D{more}, got {ndim}-D")


def check_volume_map(ndim) -> None:
    """find_matches(volume=True)'s scores: one volume's 3-D map or a 4-D stack of them."""
    if ndim not in (3, 4):
        raise ValueError(f"scores must be a 3-D volume map (or a 4-D stack of them) with volume=True, got {ndim}-D")


def check_threshold(threshold):
    """A score threshold: None or a real number, +-inf allowed, NaN refused
    (no score passes a NaN threshold, and no comparison could tell)."""
    if threshold is None:
        return None
    value = check_real(threshold, "threshold", finite=False)
    if np.isnan(value):
        raise ValueError("threshold must be a number, not NaN (no score would pass it)")
    return value


def row_thresholds(threshold, rows):
    """find_matches(rows=True)'s threshold: None, one number (as
    :func:`check_threshold`) or one per row, as a (rows,) float64 array (a
    NaN entry: no match in that row, as ``mad_threshold`` gives a row of
    gaps)."""
    if threshold is None:
        return None
    arr = np.asarray(threshold) if not isinstance(threshold, (str, bytes)) else None
    if arr is None or arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
        raise TypeError(f"threshold must be a number or one number per row, got {threshold!r}")
    if arr.ndim == 0:
        return np.full(rows, check_threshold(float(arr)))
    if arr.shape != (rows,):
        raise ValueError(f"threshold must be one number or one per row ({rows},), got shape {arr.shape}")
    return arr.astype(np.float64)


def clamp_distance(min_distance, shape):
    """A checked ``min_distance`` (>= 1) no wider than a map of ``shape``
    needs: a suppression half-width of ``max(shape) - 1`` already covers the
    whole map from any of its samples (one match), so a larger one means the
    same and is clamped to it (no work or memory beyond the map's size)."""
    d = check_int(min_distance, "min_distance", minimum=1)
    return min(d, max(1, max((int(n) for n in shape), default=1) - 1))


def peak_options(threshold, max_matches, min_distance, shape=()):
    """``find_matches``' options, checked: (threshold, max_matches,
    min_distance), the distance clamped to the map's ``shape``
    (:func:`clamp_distance`)."""
    if max_matches is not None:
        max_matches = check_int(max_matches, "max_matches", minimum=1)
    return check_threshold(threshold), max_matches, clamp_distance(min_distance, shape)
