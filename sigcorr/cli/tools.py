"""``sigcorr demo``, ``sigcorr warmup`` and ``sigcorr calibrate``.

The demo runs match and period on the embedded sample data; warmup compiles
every kernel into the cache; calibrate re-measures the cost model (its
arguments and its run live in :mod:`sigcorr.calibrate`).
"""

from __future__ import annotations

import json

from ..match import match_template
from ._io import SAMPLE_IMAGE, SAMPLE_SERIES, SAMPLE_TEMPLATE, SAMPLE_TEMPLATE_POSITION, pyplot, read_image, read_series, save_plot
from .match import match_record, match_table, plot_match, run_match
from .period import period_record, period_table, plot_period, run_period


def cmd_demo(args) -> int:
    plt = pyplot() if args.plot else None
    image, template = read_image(SAMPLE_IMAGE), read_image(SAMPLE_TEMPLATE)
    matches = run_match(image, template)
    m_record = match_record(matches)
    x, source = read_series(SAMPLE_SERIES)
    result, acf = run_period(x)
    p_record = period_record(result)
    if args.json:
        print(json.dumps({**m_record, **p_record}))
    else:
        found = tuple(m_record["matches"][0]["position"]) if m_record["matches"] else None
        verdict = "correct" if found == SAMPLE_TEMPLATE_POSITION else "WRONG"
        print(f"== match: a {template.shape[0]}x{template.shape[1]} crop of a NASA photograph "
              f"(cut at {SAMPLE_TEMPLATE_POSITION}) found at {found}: {verdict}")
        print(match_table(m_record, image, template, "ccoeff_normed"))
        print()
        print("== period: yearly sunspot numbers 1700-2008 (the solar cycle is about 11 years)")
        print(period_table(result, acf, x, 1.0, source))
    if plt is not None:
        fig = plt.figure(figsize=(11, 10))
        grid = fig.add_gridspec(3, 2, height_ratios=[2.2, 1, 1])
        plot_match([fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])],
                   image, template, matches, match_template(image, template), "ccoeff_normed")
        plot_period([fig.add_subplot(grid[1, :]), fig.add_subplot(grid[2, :])],
                    x, 1.0, result, acf, source + " (year index from 1700)")
        fig.tight_layout()
        save_plot(fig, args.plot)
    return 0


def cmd_warmup(args) -> int:
    from .._warmup import warmup

    info = warmup(args.processes, progress=True)
    where = info["cache"] or "nowhere (no writable cache folder: set NUMBA_CACHE_DIR)"
    if args.json:
        print(json.dumps(info))
    else:
        print(f"sigcorr warmup: {info['kernels']} kernels compiled in {info['seconds']:.1f} s; cache: {where}")
    return 0


def cmd_calibrate(args) -> int:
    from .. import calibrate

    return calibrate.run_command(args)
