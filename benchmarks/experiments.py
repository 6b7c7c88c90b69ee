"""Every experiment's quick version, as a lecturer would run it: wall time and verdict.

    python -m benchmarks.experiments --quick [--json PATH]      # the quick versions (the room's default)
    python -m benchmarks.experiments [--json PATH]              # the full, paper-sized versions

Each row is one experiment: its wall time on this machine (target: the quick version within 60 s,
what a class waits for in the room) and, in the notes, its verdict and numbers. Experiments run
one after the other, in one process, on the CPU; each measures what it measures (steps or wall
time) as declared in lab/experiments/<room>.py.
"""
from __future__ import annotations

from benchmarks.report import Row, parse_args, report
from lab.experiments.registry import all_experiments
from lab.experiments.runner import run_experiment

QUICK_TARGET_S = 60.0


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    size = "quick" if args.quick else "full"
    rows, notes = [], [f"size: {size}; one process, experiments in turn"]
    for experiment in all_experiments():
        run, seconds = run_experiment(experiment, size)
        verdict = run.verdict
        target = f"<= {QUICK_TARGET_S:.0f} s" if size == "quick" else None
        met = seconds <= QUICK_TARGET_S if size == "quick" else None
        rows.append(Row(f"{experiment.id} ({experiment.room}): {verdict.word}", seconds, "s",
                        target=target, met=met))
        notes.append(f"{experiment.id}: {verdict.word} - {verdict.summary}")
        print(f"{experiment.id}: {seconds:.1f} s, {verdict.word}", flush=True)
    report(rows, args, "Neural Lab experiments: wall time and verdict", notes)


if __name__ == "__main__":
    main()
