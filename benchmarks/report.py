"""Shared command line and table printing for every benchmark.

Each benchmark builds a list of ``Row`` objects (the lab's figure and, where there is one, the
peer's figure on the same input in the same run) and hands them to ``report``.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable

from engines.files import atomic_path


@dataclass
class Row:
    name: str                      # what was measured, e.g. "steps/s N=500"
    value: float                   # the lab's figure
    unit: str                      # "s", "steps/s", "dB", ...
    peer: str | None = None        # who we compare with, e.g. "reservoirpy 0.4.2"
    peer_value: float | None = None
    target: str | None = None      # the target, e.g. ">= 2x peer"
    met: bool | None = None        # whether the target was met

    @property
    def ratio(self) -> float | None:
        if self.peer_value in (None, 0) or self.value is None:
            return None
        return self.value / self.peer_value


def parse_args(description: str, argv=None, extra: Callable[[argparse.ArgumentParser], None] | None = None):
    """The common flags: --quick (finishes within a minute), --json PATH, --device."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smaller run that finishes within a minute")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    parser.add_argument("--device", default="cpu", help="torch device for benchmarks that use torch (cpu or cuda)")
    if extra:
        extra(parser)
    return parser.parse_args(argv)


def median_time(fn: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.3g}"
        return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
    return str(x)


def format_table(rows: Iterable[Row]) -> str:
    header = ["figure", "lab", "unit", "peer", "peer value", "ratio", "target", "met"]
    body = [[r.name, _fmt(r.value), r.unit, r.peer or "-", _fmt(r.peer_value), _fmt(r.ratio),
             r.target or "-", _fmt(r.met)] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(b) for b in body])


def write_json(rows: Iterable[Row], path: str) -> None:
    """Atomic write: a reader never sees a half-written file."""
    data = [dict(asdict(r), ratio=r.ratio) for r in rows]
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2))


def report(rows: list[Row], args, title: str, notes: Iterable[str] = ()) -> None:
    print(f"\n{title}")
    for note in notes:
        print(f"  {note}")
    print(format_table(rows))
    if getattr(args, "json", None):
        write_json(rows, args.json)
        print(f"\nrows written to {args.json}")
