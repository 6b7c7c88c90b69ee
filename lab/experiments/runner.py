"""Running an experiment: every (condition, seed) in turn, rows as they come, then the verdict.

``ExperimentRun.step()`` advances by one row (it returns 1 when that finishes a (condition, seed)
job, so progress counts jobs), so a room's BackgroundTask can run it with progress, pause and stop,
and a view can draw the figure as results arrive; ``run_experiment`` is the
blocking loop over the same steps (the command line and the benchmark use it).
"""
from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from lab.experiments.spec import Experiment, RoomData, Verdict


class ExperimentRun:
    """One run of ``experiment`` at ``size`` ("smoke", "quick" or "full"), on the experiment's own
    data or, given ``data``, on what its room shows (one job, see spec.RoomData)."""

    def __init__(self, experiment: Experiment, size: str = "quick", data: RoomData | None = None):
        if size not in experiment.sizes:
            raise ValueError(f"{experiment.id} has no size {size!r}")
        self.experiment, self.size = experiment, size
        self.knobs = dict(experiment.sizes[size])
        self._jobs = experiment.jobs(size, data)
        self._inputs = dict(data.inputs) if data is not None else {}
        self._job = 0
        self._rows_of_job = None
        self.rows: list[dict] = []
        self.verdict: Verdict | None = None

    @property
    def total_jobs(self) -> int:
        return len(self._jobs)

    @property
    def jobs_done(self) -> int:
        return self._job

    def step(self) -> int | None:
        """Collect the next row: 0, or 1 when its job is done; None once judged (the end)."""
        if self._job < len(self._jobs):
            condition, seed = self._jobs[self._job]
            if self._rows_of_job is None:
                self._rows_of_job = iter(self.experiment.measure(dict(condition), seed, dict(self.knobs), **self._inputs))
            row = next(self._rows_of_job, None)
            if row is not None:
                self.rows.append({**condition, "seed": seed, **row})
                return 0
            self._job, self._rows_of_job = self._job + 1, None
            return 1
        if self.verdict is None:
            self.verdict = Verdict.from_judge(self.experiment.judge(self.table()))
        return None

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def run_experiment(experiment: Experiment, size: str = "quick",
                   on_row: Callable[[ExperimentRun], None] | None = None) -> tuple[ExperimentRun, float]:
    """Run to the end; returns the run (rows, verdict) and its wall time in seconds."""
    run = ExperimentRun(experiment, size)
    started = time.perf_counter()
    while run.step() is not None:
        if on_row is not None:
            on_row(run)
    return run, time.perf_counter() - started


def figure_table(experiment: Experiment, table: pd.DataFrame) -> pd.DataFrame:
    """What the figure shows, as numbers: for lines, mean and std over seeds per (group, x)."""
    figure = experiment.figure
    if table.empty or figure.kind != "line":
        return table
    keys = [k for k in (figure.group, figure.x) if k]
    return table.groupby(keys)[figure.y].agg(["mean", "std", "count"]).reset_index()
