"""Run every benchmark module and print one Markdown table (plus the machine).

    python benchmarks/run_all.py            # everything
    python benchmarks/run_all.py convolve   # only bench_convolve.py
    python benchmarks/run_all.py --quick    # smaller repeat counts
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import format_table  # noqa: E402

MODULES = ["convolve", "match", "match_stack", "network", "period", "pool", "volume", "delay", "dask", "stream"]


def machine() -> str:
    import numba
    import numpy
    import scipy

    import sigcorr

    sigcorr.correlate(numpy.ones(64), numpy.ones(3), method="direct")  # starts Numba's thread pool

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel ran (sections answered by FFTs alone)
        layer = "not started"
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, numba {numba.__version__} "
        f"(threading layer: {layer})"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("only", nargs="*", help="benchmark modules to run (default: all)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    names = args.only or MODULES
    print(f"Machine: {machine()}\n")
    for name in names:
        mod = importlib.import_module(f"bench_{name}")
        rows = mod.rows(quick=args.quick)
        print(f"### {name}\n")
        print(format_table(rows))
        extra = getattr(mod, "extra", None)
        if extra is not None:
            print()
            print(extra(quick=args.quick))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
