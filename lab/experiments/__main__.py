"""The experiments on the command line.

    python -m lab.experiments list                       # one per line, id first
    python -m lab.experiments run ID [--quick | --full | --smoke] [--json PATH]
    python -m lab.experiments export ID [--size quick]   # writes ID.py into the current folder
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engines.files import atomic_write_bytes
from lab.experiments.export import script_for
from lab.experiments.registry import all_experiments, find_experiment
from lab.experiments.report import figure_summary, verdict_line
from lab.experiments.runner import run_experiment


def _run(experiment_id: str, size: str, json_path: str | None) -> int:
    experiment = find_experiment(experiment_id)
    print(f"{experiment.title} ({experiment.room}, {size})\n{experiment.question}\n")
    run, seconds = run_experiment(experiment, size)
    verdict = run.verdict
    for figure in experiment.figures:
        print(figure_summary(run.table(), figure.kind, figure.x, figure.y, figure.group))
    print(f"\nclaim ({experiment.claim.source}): {experiment.claim.statement}")
    print(f"reproduced when: {experiment.claim.tolerance}")
    print(verdict_line({"reproduced": verdict.reproduced, "summary": verdict.summary,
                        "untested": verdict.untested}))
    print(f"wall time: {seconds:.1f} s")
    if json_path:
        record = {"id": experiment.id, "size": size, "seconds": seconds, "reproduced": verdict.reproduced,
                  "observed": verdict.observed, "summary": verdict.summary, "untested": verdict.untested,
                  "numbers": verdict.numbers,
                  "rows": run.rows}
        atomic_write_bytes(Path(json_path), json.dumps(record, indent=1, default=float).encode())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.experiments", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="one experiment per line: id, room, title")
    run = verbs.add_parser("run", help="run one experiment and print its figure's numbers and verdict")
    run.add_argument("id")
    sizes = run.add_mutually_exclusive_group()
    sizes.add_argument("--quick", dest="size", action="store_const", const="quick")
    sizes.add_argument("--full", dest="size", action="store_const", const="full")
    sizes.add_argument("--smoke", dest="size", action="store_const", const="smoke")
    run.add_argument("--json", metavar="PATH")
    export = verbs.add_parser("export", help="write ID.py, a script that reproduces it with the engines")
    export.add_argument("id")
    export.add_argument("--size", default="quick", choices=["smoke", "quick", "full"])
    args = parser.parse_args(argv)
    try:
        if args.verb == "list":
            for e in all_experiments():
                print(f"{e.id}\t{e.room}\t{e.title}")
            return 0
        if args.verb == "run":
            return _run(args.id, args.size or "quick", args.json)
        path = Path(f"{args.id}.py")
        atomic_write_bytes(path, script_for(find_experiment(args.id), args.size).encode())
        print(f"wrote {path}")
        return 0
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
