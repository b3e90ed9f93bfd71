"""``sigcorr detect``: network matched-filter detections in multichannel data.

The templates (and moveouts, weights) are ``.npy`` files; the data ``.npy``
(C, N), CSV columns or miniSEED (ObsPy, the ``seismo`` extra).  The scores
come from :func:`sigcorr.matched_filter` a group of templates at a time (a
progress bar on a terminal's stderr), each row's threshold from
:func:`sigcorr.mad_threshold` (``--mad K``) or ``--threshold``, the
detections from :func:`sigcorr.find_matches` per template (``rows=True``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import find_matches, mad_threshold, matched_filter
from ._io import CliError, fmt, progress_bar, read_channels, read_npy

GROUP = 16  # templates per matched_filter call (and per progress step)


def _array(path, what):
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{p}: no such file ({what})")
    return read_npy(p)


def detections(ch, tpl, moveouts, weights, mad, threshold, min_distance, step):
    """Every detection as a dict (template, sample, score, mad), by time."""
    T = tpl.shape[0]
    bar = progress_bar(T, "template", "sigcorr detect")
    found = []
    try:
        for g0 in range(0, T, GROUP):
            g1 = min(g0 + GROUP, T)
            sl = slice(g0, g1)
            scores = matched_filter(ch.data, tpl[sl], moveouts=None if moveouts is None else moveouts[sl],
                                    weights=None if weights is None else weights[sl], step=step)
            unit = mad_threshold(scores, 1.0)  # one MAD per row
            thr = unit * mad if threshold is None else threshold
            m = find_matches(scores, threshold=thr, min_distance=max(1, min_distance // step), rows=True)
            for t, i, s in zip(m.template.tolist(), m.times.tolist(), m.scores.tolist()):
                u = unit[t]
                found.append({"template": g0 + t, "sample": i * step, "score": float(s),
                              "mad": float(s / u) if u > 0 else None})
            if bar is not None:
                bar.update(g1 - g0)
    finally:
        if bar is not None:
            bar.close()
    found.sort(key=lambda d: (d["sample"], d["template"]))
    return found


def cmd_detect(args) -> int:
    ch = read_channels(args.data)
    tpl = _array(args.templates, "--templates")
    if tpl.ndim == 2 and ch.data.shape[0] > 1:
        tpl = tpl[None]  # one (C, m) template
    moveouts = _array(args.moveouts, "--moveouts")
    weights = _array(args.weights, "--weights")
    if moveouts is not None and moveouts.ndim == 1:
        moveouts = moveouts[None]
    if weights is not None and weights.ndim == 1:
        weights = weights[None]
    m = tpl.shape[-1]
    min_distance = args.min_distance if args.min_distance is not None else m
    fs = args.fs if args.fs is not None else ch.fs
    found = detections(ch, tpl, moveouts, weights, args.mad, args.threshold, min_distance, args.step)
    for d in found:
        if ch.start is not None and fs:
            d["time"] = str(ch.start + d["sample"] / fs)
        elif fs:
            d["time"] = d["sample"] / fs
        if args.jsonl:
            print(json.dumps(d))
        else:
            when = f" ({d['time']})" if "time" in d else ""
            mad = f", {d['mad']:.1f} x MAD" if d["mad"] is not None else ""
            print(f"template {d['template']} at sample {d['sample']}{when}: score {fmt(d['score'])}{mad}")
    if not args.jsonl:
        print(f"{len(found)} detection{'s' if len(found) != 1 else ''} of {tpl.shape[0]} templates "
              f"on {ch.data.shape[0]} channels x {ch.data.shape[1]} samples", file=sys.stderr)
    sys.stdout.flush()
    return 0
