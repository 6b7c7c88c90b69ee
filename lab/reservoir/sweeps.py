"""The reservoir room's balance sweep and its export: the engine's SweepRunner, stepped by a task.

``start_sweep()`` checks the sweep's settings and starts the ``sweep`` task, whose steps advance
the engine's step-wise ``SweepRunner`` (every g x condition x seed on the chosen task, plus the
regime map of the first seed's network). Rows appear in ``sweep_table`` as seeds finish; the
summary and the regime map are published when the sweep ends (or is stopped: what came in so
far). ``sweep_csv()`` is the table as CSV.
"""
from __future__ import annotations

import pandas as pd
import param

from engines.errors import InvalidInputError
from engines.reservoir.sweep import COLUMNS, SweepRunner, summarise
from lab import cluster
from lab.reservoir.settings import CONDITIONS, ReservoirSettings
from lab.tasks import BackgroundTask

WAIT_SECONDS = 0.25      # how long one step of the task waits for a job, so stopping is prompt


class ReservoirSweeps(ReservoirSettings):
    """The settings, plus balance sweeps and their CSV export."""

    sweep_table = param.DataFrame(default=pd.DataFrame(columns=COLUMNS), constant=True,
                                  doc="One row per (seed, balance, adaptive, task).")
    sweep_summary = param.DataFrame(default=None, allow_None=True, constant=True,
                                    doc="Mean and standard deviation over seeds per (balance, condition).")
    sweep_regimes = param.DataFrame(default=None, allow_None=True, constant=True,
                                    doc="The regime of each (balance, condition) on the first seed's network.")

    def __init__(self, **params):
        super().__init__(**params)
        self.sweep = self.owns(BackgroundTask(name="reservoir-sweep", kind="finite"))
        self._runner: SweepRunner | None = None

    def start_sweep(self, split=None, n_adapt: int = 2000, scheduler=None) -> None:
        """Score every (g, condition, seed) on the chosen task in the background; ``scheduler``
        (a Dask Client or address) or, by default, the lab's cluster (lab.cluster: the operator's
        scheduler, or this server's shared local cluster)."""
        runner = SweepRunner(self.reservoir_params(), self._sweep_balances(), self._sweep_modes(),
                             range(self.seed, self.seed + self.sweep_seeds), [self.task_key], self.adaptation_params(),
                             n_adapt=n_adapt, split=split, scheduler=scheduler, regimes=True)
        self.sweep.stop()
        self._runner = runner
        self._publish(sweep_table=runner.table(), sweep_summary=None, sweep_regimes=None)
        self.sweep.start(lambda: self._sweep_step(runner), total_steps=runner.total,
                         on_finish=lambda outcome: self._sweep_ended(runner, outcome))

    def stop_sweep(self) -> None:
        self.sweep.stop(timeout=0)

    def sweep_csv(self) -> bytes:
        """The sweep's table as CSV (what the download button serves)."""
        return self.sweep_table.to_csv(index=False).encode()

    def _sweep_balances(self) -> list[float]:
        balances = sorted({float(g) for g in self.sweep_balances})
        if not balances:
            raise InvalidInputError("give at least one balance value g for the sweep")
        low, high = self.param.balance.bounds
        bad = [g for g in balances if not (low <= g <= high)]
        if bad:
            raise InvalidInputError(f"sweep balances must lie in [{low}, {high}], got {bad}")
        if self.topology != "random":
            raise InvalidInputError("sweeps draw a random network per seed; switch the network to random")
        return balances

    def _sweep_modes(self) -> list[bool]:
        if not self.sweep_conditions:
            raise InvalidInputError("choose static, adaptive or both for the sweep")
        return [CONDITIONS[c] for c in self.sweep_conditions]

    def _sweep_step(self, runner: SweepRunner) -> int:
        """Rows appear as seeds finish; the summary and regimes when the last job is in (before
        the task says 'finished')."""
        if runner.scheduler is None:   # made in this task's thread, never on the event loop
            runner.scheduler = cluster.client()
        done = runner.step(WAIT_SECONDS)
        if runner.done:
            self._finish_sweep(runner)
        elif done and len(runner.rows) != len(self.sweep_table):
            self._publish(sweep_table=runner.table())
        return done

    def _sweep_ended(self, runner: SweepRunner, outcome: str) -> None:
        if outcome != "finished":   # stopped or failed: what came in so far
            runner.cancel()
            self._finish_sweep(runner)

    def _finish_sweep(self, runner: SweepRunner) -> None:
        table = runner.table()
        regimes = runner.regimes
        if regimes is not None:
            labels = {flag: name for name, flag in CONDITIONS.items()}
            regimes = regimes.assign(condition=regimes["adaptive"].map(labels))
        self._publish(sweep_table=table, sweep_regimes=regimes, sweep_summary=summarise(table) if len(table) else None)
