"""A balance sweep on a Dask cluster, advanced in small steps so a BackgroundTask can run it.

The first ``step()`` opens the cluster and submits the engine's ``score_seed`` for every seed
(all balances and conditions of a seed share one batched run) plus the regime map; each later
step waits briefly for jobs to finish and collects their rows. Stopping the task between steps
cancels what is still pending and shuts the cluster down (``close``).
"""
from __future__ import annotations

import contextlib
from dataclasses import replace

import numpy as np
import pandas as pd

from engines.reservoir.observables import classify_regime
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, RunawayActivityError
from engines.reservoir.sweep import COLUMNS, dask_client, make_task, score_seed
from engines.reservoir.tasks import Split

CONDITIONS = {"static": False, "adaptive": True}
REGIME_STEPS = 300       # steps classified for the regime map, after the adaptation phase
WAIT_SECONDS = 0.25      # how long one step waits for a job, so stopping is prompt


def regime_map(params: ReservoirParams, balances, conditions, adaptation: AdaptationParams,
               n_adapt: int) -> pd.DataFrame:
    """Regime of every (balance, condition) on one seed's network, driven by U[-1, 1] noise."""
    flags = [(float(g), c) for c in conditions for g in balances]
    res = BatchedReservoir(params, [g for g, _ in flags], [CONDITIONS[c] for _, c in flags], adaptation)
    rng = np.random.default_rng(params.seed)
    try:
        res.step(inputs=rng.uniform(-1, 1, (n_adapt, 1)), record_currents=False)
        res.set_adaptation(False)
        rates = res.run(rng.uniform(-1, 1, (REGIME_STEPS, 1)))
        labels = [classify_regime(rates[:, :, b], params.activation).value for b in range(len(flags))]
    except RunawayActivityError:
        labels = ["runaway"] * len(flags)
    return pd.DataFrame({"balance": [g for g, _ in flags], "condition": [c for _, c in flags],
                         "regime": labels})


class SweepJob:
    """Seeds x balances x conditions on one task, scored by Dask workers."""

    def __init__(self, params: ReservoirParams, balances, conditions, seeds, task: str,
                 adaptation: AdaptationParams, n_adapt: int = 2000, split: Split | None = None,
                 k_max: int = 100, n_workers: int = 2, scheduler=None):
        self.params, self.adaptation = params, adaptation
        self.balances, self.conditions = [float(g) for g in balances], list(conditions)
        self.seeds, self.task = list(seeds), task
        self.n_adapt, self.split, self.k_max = n_adapt, split or Split(), k_max
        self.n_workers, self.scheduler = n_workers, scheduler
        make_task(task, self.split, 0, k_max)   # a bad task name fails here, not in a worker
        self.rows: list[dict] = []
        self.regimes: pd.DataFrame | None = None
        self._stack = contextlib.ExitStack()
        self._pending: dict | None = None       # future -> "scores" | "regimes"
        self._cancelled = False

    @property
    def total_steps(self) -> int:
        """One step per seed, plus the regime map."""
        return len(self.seeds) + 1

    @property
    def table(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=COLUMNS)
        return table.sort_values(["task", "adaptive", "balance", "seed"], ignore_index=True)

    @property
    def complete(self) -> bool:
        """Every job submitted has come back."""
        return self._pending is not None and not self._pending and not self._cancelled

    def _submit(self) -> dict:
        client = self._stack.enter_context(dask_client(self.scheduler, self.n_workers))
        modes = [CONDITIONS[c] for c in self.conditions]
        jobs = {client.submit(score_seed, replace(self.params, seed=s), self.balances, modes, self.task,
                              self.adaptation, self.n_adapt, self.split, self.k_max, pure=False): "scores"
                for s in self.seeds}
        first = replace(self.params, seed=self.seeds[0])
        jobs[client.submit(regime_map, first, self.balances, self.conditions, self.adaptation,
                           self.n_adapt, pure=False)] = "regimes"
        return jobs

    def step(self) -> int | None:
        """Jobs finished since the last call (0 while waiting); None when everything is in."""
        from distributed import wait
        if self._pending is None:
            self._pending = self._submit()
        if not self._pending:
            self.close()
            return None
        try:
            done, _ = wait(list(self._pending), timeout=WAIT_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return 0
        for future in done:
            kind = self._pending.pop(future)
            if kind == "scores":
                self.rows.extend(future.result())
            else:
                self.regimes = future.result()
        return len(done)

    def close(self) -> None:
        """Cancel what is pending and shut the cluster down (the rows so far are kept)."""
        pending, self._pending = self._pending, {}
        if pending:
            self._cancelled = True
            with contextlib.suppress(Exception):
                next(iter(pending)).client.cancel(list(pending))
        self._stack.close()
