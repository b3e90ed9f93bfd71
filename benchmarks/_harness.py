"""Side-by-side timing: sigcorr and its peers on the same inputs, in one run.

Each ``bench_*.py`` module in this folder defines ``rows(quick=False)``, which
returns a list of :class:`Row`; ``run_all.py`` prints them as one table.
Timings are best-of-N wall-clock, with the candidates interleaved (every
round runs each once, in a new shuffled order, as a burst of back-to-back
calls) so that a burst of load on the machine hits every side alike, none
always runs after the same one, and every side is also timed in the steady
state of a loop.
"""

from __future__ import annotations

import dataclasses
import random
import time


def best_times(funcs: dict, repeat: int = 7, number: int = 1, warmup: int = 1, burst: int = 3) -> dict:
    """Best seconds per call for each callable, interleaved.

    Every round runs each candidate once in a new shuffled order; a turn is a
    burst of ``burst`` back-to-back timed calls (of ``number`` calls each), so
    each side is also seen in the steady state of a loop, not only right after
    another library left the cores idle (on this VM a parallel call that
    starts on idle cores pays a few milliseconds of wake-up).  The result is
    the best single timing over all rounds and bursts.
    """
    for f in funcs.values():
        for _ in range(warmup):
            f()
    best = {k: float("inf") for k in funcs}
    keys = list(funcs)
    order = random.Random(0)
    for _ in range(repeat):
        order.shuffle(keys)
        for k in keys:
            f = funcs[k]
            for _ in range(burst):
                t0 = time.perf_counter()
                for _ in range(number):
                    f()
                dt = (time.perf_counter() - t0) / number
                best[k] = min(best[k], dt)
    return best


@dataclasses.dataclass
class Row:
    workload: str
    sigcorr_s: float
    peer: str
    peer_s: float
    target: str = ""  # e.g. "<= 1.0x" (ratio sigcorr/peer) or ">= 3x faster"
    max_ratio: float | None = None  # the target as a bound on sigcorr_s / peer_s

    @property
    def ratio(self) -> float:
        return self.sigcorr_s / self.peer_s

    @property
    def met(self) -> str:
        if self.max_ratio is None:
            return ""
        return "yes" if self.ratio <= self.max_ratio else "NO"


def format_table(rows: list[Row]) -> str:
    head = "| workload | sigcorr (ms) | peer | peer (ms) | sigcorr / peer | target | met |"
    sep = "| --- | ---: | --- | ---: | ---: | --- | --- |"
    lines = [head, sep]
    for r in rows:
        lines.append(
            f"| {r.workload} | {r.sigcorr_s * 1e3:.2f} | {r.peer} | {r.peer_s * 1e3:.2f} "
            f"| {r.ratio:.3f} | {r.target} | {r.met} |"
        )
    return "\n".join(lines)
