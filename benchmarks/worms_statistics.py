"""Simulated worms against real recordings: the statistics that define whole-brain activity.

    python -m benchmarks.worms_statistics [--quick] [--real PATH ...] [--seeds N] [--json PATH]
    (also printed by python -m benchmarks.worms)

Each simulated seed runs ``WORMS_PER_SEED`` worms for 480 s at dt 0.6 s (the room's model with
its default parameters); every worm, simulated or real, is measured by the same helper with the
same preprocessing (engines.worms.statistics.worm_statistics: resample to 0.6 s, first 480 s,
per-neuron z-score, complete traces only). Rows per statistic: one per seed (value: mean over
its worms; met: every worm of the seed inside the fixed range), one over all seeds, then one per
real recording (the shared Flavell-lab recordings when present, and each ``--real`` file or
folder, read by the lab's loaders) with the same target for reference. The peer column holds
the mean of the real recordings.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks.report import Row, parse_args, report
from engines.worms.loaders import load
from engines.worms.simulate import simulate_collection
from engines.worms.statistics import (STANDARD_DT_S, STANDARD_STRETCH_S, TARGETS,
                                      WormStatistics, worm_statistics)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "flavell2023"
WORMS_PER_SEED = 4
STATISTICS = {  # field of WormStatistics -> how the table names it
    "autocorrelation_10s": "autocorrelation at 10 s",
    "pc1_variance": "PC1 variance",
    "pc1_3_variance": "PCs 1-3 variance",
    "pc1_3_variance_shifted": "PCs 1-3 variance, traces shifted (chance)",
    "mean_abs_correlation": "mean |correlation|",
    "mean_abs_correlation_shifted": "mean |correlation|, traces shifted (chance)",
    "fraction_abs_correlation_above_0_5": "pairs |correlation| > 0.5",
    "reversals_per_min": "reversals per minute",
    "reversal_duration_s": "mean reversal duration",
}
UNITS = {"reversals_per_min": "/min", "reversal_duration_s": "s"}


def simulated_statistics(seeds, n_worms: int = WORMS_PER_SEED) -> dict[int, list[WormStatistics]]:
    """Seed -> the statistics of its worms (480 s each at the standard dt)."""
    out = {}
    for seed in seeds:
        collection, _ = simulate_collection(n_worms=n_worms, duration_s=STANDARD_STRETCH_S,
                                            dt=STANDARD_DT_S, seed=seed)
        out[seed] = [worm_statistics(rec) for rec in collection]
    return out


def real_statistics(paths) -> list[WormStatistics]:
    """The statistics of every recording in the given files or folders, in order."""
    return [worm_statistics(rec) for path in paths for rec in load(path)]


def real_paths(extra=()) -> list[Path]:
    """The shared Flavell-lab folder when present, then the paths given on the command line."""
    shared = [SHARED] if SHARED.is_dir() and any(SHARED.glob("*-data.h5")) else []
    paths = shared + [Path(p) for p in extra]
    return list({path.resolve(): path for path in paths}.values())  # each once


def _target(key: str) -> tuple[str | None, tuple | None]:
    if key not in TARGETS:
        return None, None
    lo, hi = TARGETS[key]
    return f"{lo:g}-{hi:g}", (lo, hi)


def _within(values, bounds) -> bool | None:
    if bounds is None:
        return None
    return bool(all(bounds[0] <= v <= bounds[1] for v in values))


def statistics_rows(simulated: dict[int, list[WormStatistics]],
                    real: list[WormStatistics]) -> list[Row]:
    """Rows grouped by statistic: each seed, all seeds, then each real recording."""
    rows = []
    for key, label in STATISTICS.items():
        target, bounds = _target(key)
        unit = UNITS.get(key, "")
        real_values = [getattr(s, key) for s in real if not math.isnan(getattr(s, key))]
        peer = f"real mean ({len(real_values)} recordings)" if real_values else None
        peer_value = float(np.mean(real_values)) if real_values else None
        every = []
        for seed, stats in simulated.items():
            values = [getattr(s, key) for s in stats]
            every += values
            rows.append(Row(f"{label}: simulated seed {seed} ({len(values)} worms, "
                            f"{min(values):.2f}-{max(values):.2f})", float(np.mean(values)), unit,
                            peer, peer_value, target, _within(values, bounds)))
        if every:
            rows.append(Row(f"{label}: simulated, all {len(simulated)} seeds ({len(every)} worms, "
                            f"{min(every):.2f}-{max(every):.2f})", float(np.mean(every)), unit,
                            peer, peer_value, target, _within(every, bounds)))
        for stats in real:
            value = getattr(stats, key)
            rows.append(Row(f"{label}: real {stats.name} ({stats.n_neurons} neurons)", value, unit,
                            target=target, met=None if math.isnan(value) else _within([value], bounds)))
    return rows


def add_options(parser) -> None:
    parser.add_argument("--real", action="append", default=[], metavar="PATH",
                        help="a recording file or folder to measure beside the simulation "
                             "(repeatable; any format the lab reads)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="simulated seeds (default 5, or 3 with --quick)")


def run(args) -> tuple[list[Row], list[str]]:
    seeds = range(args.seeds or (3 if args.quick else 5))
    paths = real_paths(args.real)
    rows = statistics_rows(simulated_statistics(seeds), real_statistics(paths))
    notes = [f"simulated: seeds {seeds.start}-{seeds.stop - 1}, {WORMS_PER_SEED} worms each, "
             f"{STANDARD_STRETCH_S:.0f} s at dt {STANDARD_DT_S} s, default parameters",
             f"preprocessing (all worms): resample to {STANDARD_DT_S} s, first "
             f"{STANDARD_STRETCH_S:.0f} s, z-score, complete traces only; reversal runs of "
             "reversal_vec, a run of k samples lasting k * dt",
             "shifted: each trace rolled in time by its own random offset (5 draws): what slow "
             "but unrelated traces reach by chance; the excess over it is shared activity",
             "real: " + (", ".join(str(p) for p in paths) if paths else
                         "none given and the shared recordings are absent")]
    return rows, notes


def main(argv=None) -> None:
    args = parse_args("Simulated worms against real recordings", argv, add_options)
    rows, notes = run(args)
    report(rows, args, "Whole-brain statistics: simulated worms against real recordings", notes)


if __name__ == "__main__":
    main()
