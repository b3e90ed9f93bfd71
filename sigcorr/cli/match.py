"""``sigcorr match``: a template in an image, or many images and templates.

``sigcorr match IMAGE TEMPLATE`` prints a table (or ``--json``) of the best
matches and can plot them; ``sigcorr match IMAGES... --template T
[--template T2 ...]`` searches every image (globs, optional worker
processes) for all the templates at once and prints one line per image
(``--jsonl``: JSON lines), an unreadable image on its own error line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .._validate import template_fits
from ..match import locate, match_template
from ..stream import MatchTemplate
from ._io import (SAMPLE_IMAGE, SAMPLE_TEMPLATE, CliError, file_error, fmt, num, progress_bar, pyplot, read_image,
                  read_match_input, read_series, save_plot, serve, stdin_rows)


def _check_fits(image, template, name="template"):
    """The library's rule (``template_fits``), worded for the command line."""
    if image.ndim == 3 or template.ndim == 3:
        if image.ndim != template.ndim:
            raise CliError(f"a volume needs a 3-D template and a 3-D template a volume, got image shape "
                           f"{image.shape} and {name} shape {template.shape}")
        if any(t > n for t, n in zip(template.shape, image.shape)):
            raise CliError(f"{name} ({'x'.join(map(str, template.shape))}) is larger than the volume "
                           f"({'x'.join(map(str, image.shape))}) in at least one dimension")
        return
    if not template_fits(image.shape, template.shape):
        raise CliError(
            f"{name} ({template.shape[0]}x{template.shape[1]}) is larger than the image "
            f"({image.shape[0]}x{image.shape[1]}) in at least one dimension"
        )


def run_match(image, template, *, method="ccoeff_normed", threshold=None, max_matches=1,
              min_distance=None, pyramid=0, subpixel=False):
    """Locate ``template`` in ``image``, a template larger than the image a CliError.

    Parameters
    ----------
    image, template : numpy.ndarray
        2-D arrays, or 3-D ones (a volume and its template).
    method, threshold, max_matches, min_distance, subpixel
        As :func:`sigcorr.locate`.
    pyramid : int
        :func:`sigcorr.locate`'s ``pyramid_levels``.

    Returns
    -------
    Matches
        As :func:`sigcorr.locate`.

    Examples
    --------
    >>> from sigcorr.cli import SAMPLE_IMAGE, SAMPLE_TEMPLATE, read_image
    >>> run_match(read_image(SAMPLE_IMAGE), read_image(SAMPLE_TEMPLATE)).positions.tolist()
    [[38.0, 92.0]]
    """
    _check_fits(image, template)
    volume = {"channel_axis": None} if image.ndim == 3 else {}  # (a 3-D image here is a volume)
    return locate(image, template, method=method, threshold=threshold, max_matches=max_matches,
                  min_distance=min_distance, pyramid_levels=pyramid, subpixel=subpixel, **volume)


def match_record(matches, subpixel=False) -> dict:
    out = []
    for pos, score in zip(np.asarray(matches.positions), np.asarray(matches.scores)):
        position = [float(p) if subpixel else int(round(float(p))) for p in pos]
        out.append({"position": position, "score": num(score)})
    return {"matches": out}


def match_table(record, image, template, method, source="") -> str:
    kind = "volume" if image.ndim == 3 else "image"
    lines = [
        f"{kind} {'x'.join(map(str, image.shape))}, template {'x'.join(map(str, template.shape))}"
        f", method {method}{source}",
    ]
    if not record["matches"]:
        lines.append("no match found (try a lower --threshold)")
        return "\n".join(lines)
    axes = ("z", "row", "col") if image.ndim == 3 else ("row", "col")
    lines.append("  ".join([f"{'rank':>4}"] + [f"{a:>8}" for a in axes] + [f"{'score':>10}"]))
    for i, m in enumerate(record["matches"], start=1):
        score = "n/a" if m["score"] is None else f"{m['score']:.4f}"
        lines.append("  ".join([f"{i:>4}"] + [f"{fmt(v, 2):>8}" for v in m["position"]] + [f"{score:>10}"]))
    return "\n".join(lines)


def plot_match(axes, image, template, matches, scores, method):
    from matplotlib.patches import Rectangle

    ax_img, ax_map = axes
    h, w = template.shape
    ax_img.imshow(image, cmap="gray", interpolation="nearest")
    positions = np.asarray(matches.positions, dtype=float).reshape(-1, 2)
    for i, (r, c) in enumerate(positions):
        color = "red" if i == 0 else "orange"
        ax_img.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor=color, linewidth=1.5))
        ax_img.text(c, r - 2, str(i + 1), color=color, fontsize=8, va="bottom")
    ax_img.set_title(f"image {image.shape[0]}x{image.shape[1]}: {len(positions)} match(es)")
    ax_img.set_axis_off()
    im = ax_map.imshow(scores, cmap="viridis", interpolation="nearest")
    if len(positions):
        ax_map.plot(positions[:, 1], positions[:, 0], "o", mfc="none", mec="red", ms=10, mew=1.5)
    ax_map.set_title(f"{method} score (top-left corner)")
    ax_map.figure.colorbar(im, ax=ax_map, fraction=0.046, pad=0.04)


def cmd_match(args) -> int:
    if args.stream:
        return cmd_match_stream(args)
    if args.template:
        return cmd_match_many(args)
    if args.jsonl:
        raise CliError("--jsonl goes with --template (many images); use --json for IMAGE TEMPLATE")
    if len(args.inputs) not in (0, 2):
        raise CliError("give both IMAGE and TEMPLATE, or neither (to use the sample data), "
                       "or images with --template T")
    args.image, args.template = args.inputs if args.inputs else (None, None)
    image_path = Path(args.image) if args.image else SAMPLE_IMAGE
    template_path = Path(args.template) if args.template else SAMPLE_TEMPLATE
    image, template = read_match_input(image_path), read_match_input(template_path)
    if image.ndim == 3 and (args.plot or args.scales is not None or args.angles is not None):
        raise CliError("--plot, --scales and --angles work on 2-D images only, not volumes")
    plt = pyplot() if args.plot else None
    if args.scales is not None or args.angles is not None:
        _check_fits(image, template)
        matches = locate(image, template, method=args.method, threshold=args.threshold,
                         max_matches=args.max_matches, min_distance=args.min_distance,
                         pyramid_levels=args.pyramid, subpixel=args.subpixel,
                         scales=args.scales, angles=args.angles)
        if args.json:
            print(json.dumps(many_record(matches, args.subpixel, True)))
            return 0
    else:
        matches = run_match(image, template, method=args.method, threshold=args.threshold,
                            max_matches=args.max_matches, min_distance=args.min_distance,
                            pyramid=args.pyramid, subpixel=args.subpixel)
    record = match_record(matches, args.subpixel)
    if args.json:
        print(json.dumps(record))
    else:
        source = "" if args.image else " (sample data)"
        print(match_table(record, image, template, args.method, source))
    if plt is not None:
        scores = match_template(image, template, args.method)
        fig, axes = plt.subplots(1, 2, figsize=(11, 5))
        plot_match(axes, image, template, matches, scores, args.method)
        save_plot(fig, args.plot)
    return 0


def expand_inputs(patterns) -> list[str]:
    """Paths in order: a pattern with glob characters (quoted past the shell,
    or on a shell that does not expand) becomes its sorted matches, or stays
    as given when nothing matches (it then gets its own error line)."""
    import glob

    out = []
    for p in patterns:
        found = sorted(glob.glob(p, recursive=True)) if any(ch in p for ch in "*?[") else []
        out.extend(found or [p])
    return out


def many_record(matches, subpixel, search) -> dict:
    """JSON record of one image's matches: position (top-left), center, score,
    template index, and scale/angle when they were searched."""
    out = []
    for i in range(len(matches)):
        pos = [float(p) if (subpixel or search) else int(round(float(p))) for p in matches.positions[i]]
        m = {"position": pos, "center": [float(c) for c in matches.centers[i]],
             "score": num(matches.scores[i]), "template": int(matches.template[i])}
        if search:
            m["scale"] = float(matches.scales[i])
            m["angle"] = float(matches.angles[i])
        out.append(m)
    return {"matches": out}


_WORKER = {}


def _read_for_search(path):
    """``read_image``, in float32 for image files (8/16-bit and float32 pixels
    are exact in it; the search then runs in float32, as OpenCV's)."""
    arr = read_image(path)
    return arr if Path(path).suffix.lower() == ".npy" else arr.astype(np.float32)


def _worker_init(templates, options):
    # one compute thread per worker process: the processes share the cores
    import numba


    numba.set_num_threads(1)  # also scipy.fft's workers: sigcorr uses one thread count
    _WORKER.update(templates=templates, options=options)


def _try_read(path):
    try:
        return _read_for_search(path)
    except (CliError, ValueError, TypeError, OSError, MemoryError) as exc:
        return exc


def _match_one(path, templates=None, options=None, image=None):
    """One image's JSON record, or its error: never raises (a bad file must
    not stop the others).  ``image``: the image already read (or the error
    reading it raised)."""
    templates = templates if templates is not None else _WORKER["templates"]
    options = options if options is not None else _WORKER["options"]
    try:
        image = _read_for_search(path) if image is None else image
        if isinstance(image, Exception):
            raise image
        for k, t in enumerate(templates):
            _check_fits(image, t, f"template {k}")
        search = options["scales"] is not None or options["angles"] is not None
        kw = dict(method=options["method"], threshold=options["threshold"], max_matches=options["max_matches"],
                  min_distance=options["min_distance"], pyramid_levels=options["pyramid"],
                  subpixel=options["subpixel"], scales=options["scales"], angles=options["angles"])
        # one search for every template, of one size or several: locate merges their
        # matches by centre and suppresses them together (one object, one match)
        matches = locate(image, list(templates), **kw)
        return {"file": str(path), **many_record(matches, options["subpixel"], search)}
    except (CliError, ValueError, TypeError, OSError, MemoryError) as exc:
        return {"file": str(path), "error": file_error(path, exc)}  # the record names the file


def cmd_match_many(args) -> int:
    """``sigcorr match IMAGES... --template T [...]``: one line per image."""
    if args.plot:
        raise CliError("--plot draws one image: use it with IMAGE TEMPLATE")
    if not args.inputs:
        raise CliError("give the images to search (files or globs) with --template")
    templates = [_read_for_search(Path(t)) for t in args.template]
    paths = expand_inputs(args.inputs)
    options = dict(method=args.method, threshold=args.threshold, max_matches=args.max_matches,
                   min_distance=args.min_distance, pyramid=args.pyramid, subpixel=args.subpixel,
                   scales=args.scales, angles=args.angles)

    workers = min(args.workers or 1, len(paths))
    bar = progress_bar(len(paths), "image", "sigcorr match")
    failed = 0

    def emit(rec):
        nonlocal failed
        if "error" in rec:
            failed += 1
        if args.jsonl or args.json:
            print(json.dumps(rec), flush=True)
        elif "error" in rec:
            print(f"sigcorr match: error: {rec['file']}: {rec['error']}", file=sys.stderr, flush=True)
        else:
            best = ", ".join(
                f"({fmt(m['position'][0], 2)}, {fmt(m['position'][1], 2)}) "
                f"{'n/a' if m['score'] is None else format(m['score'], '.4f')} t{m['template']}"
                + (f" x{m['scale']:.3f} {m['angle']:.1f}deg" if "scale" in m else "")
                for m in rec["matches"]) or "no match"
            print(f"{rec['file']}: {best}", flush=True)
        if bar is not None:
            bar.update(1)

    try:
        if workers <= 1:
            # the search runs on every core already; a thread reads and
            # decodes the next images meanwhile (Pillow releases the GIL)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as reader:
                ahead = [reader.submit(_try_read, p) for p in paths[:4]]
                for i, p in enumerate(paths):
                    image = ahead[i].result()
                    if i + 4 < len(paths):
                        ahead.append(reader.submit(_try_read, paths[i + 4]))
                    ahead[i] = None
                    emit(_match_one(p, templates, options, image))
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # spawn: numba's and the FFTs' thread pools do not survive a fork
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                     initargs=(templates, options)) as ex:
                for rec in ex.map(_match_one, paths, chunksize=max(1, min(16, len(paths) // (4 * workers)))):
                    emit(rec)
    finally:
        if bar is not None:
            bar.close()
    return 1 if failed else 0


def cmd_match_stream(args) -> int:
    """``sigcorr match --stream --template T``: a series read from stdin (one
    value, or one CSV row of channels, per line), each window's score printed
    as soon as its last sample arrives (with ``--threshold``, only the
    windows that pass it): ``index<TAB>score...`` lines, or JSON lines
    ``{"index": i, "scores": [...]}`` with ``--jsonl``/``--json``; ``index`` is
    the window's first sample (0-based)."""
    if not args.template or len(args.template) != 1:
        raise CliError("--stream needs one --template (a 1-D .npy or CSV series)")
    if args.inputs:
        raise CliError("--stream reads the series from stdin; give no IMAGE")
    template, _ = read_series(Path(args.template[0]))
    matcher = MatchTemplate(template, args.method)
    keep = None
    if args.threshold is not None:
        t = args.threshold
        keep = (lambda s: s <= t) if args.method.startswith("sqdiff") else (lambda s: s >= t)
    index = [0]  # the next window's first sample

    def step(row):
        scores = matcher.push(row[:, None])  # (channels, k)
        lines = []
        for j in range(scores.shape[1]):
            col = scores[:, j]
            if keep is None or any(keep(float(s)) for s in col):
                if args.jsonl or args.json:
                    lines.append(json.dumps({"index": index[0] + j, "scores": [num(s) for s in col]}) + "\n")
                else:
                    lines.append("\t".join([str(index[0] + j)] + [fmt(s, 6) for s in col]) + "\n")
        index[0] += scores.shape[1]
        return lines

    serve(stdin_rows(sys.stdin, args.column), step)
    matcher.flush()
    return 0
