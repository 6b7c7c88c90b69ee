"""Sweeps of balance x adaptation x seeds x task through Dask, returned as a tidy DataFrame.

One Dask job scores one (seed, task): every balance and adaptation mode of that seed runs as
one BatchedReservoir sharing the seed's topology. Optionally one more job maps the dynamical
regime of every (balance, mode) on the first seed's network.

    runner = SweepRunner(params, balances, adaptive_modes, seeds, tasks, regimes=True)
    while not runner.done:          # the step-wise runner: a room's task calls step()
        runner.step(wait=0.25)      # waits at most this long; collects the jobs that finished
    runner.table(), runner.regimes
    runner.close()                  # cancels what is pending, lets its cluster go

``run_sweep(...)`` is the blocking call: a loop over a SweepRunner. The cluster comes from
``dask_client``, the one place a sweep gets one: the given Client (a server's shared one, see
lab/cluster.py), one connected to a scheduler address, or a LocalCluster of its own (processes,
one thread each) started for the sweep and shut down after it (scripts).
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import replace
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from engines.reservoir.observables import classify_regime
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, RunawayActivityError
from engines.reservoir.tasks import TASKS, Split, make_task

__all__ = ["COLUMNS", "REGIME_COLUMNS", "SweepRunner", "TASKS", "dask_client", "make_task", "regime_map",
           "run_sweep", "score_seed", "summarise"]

COLUMNS = ["seed", "balance", "adaptive", "task", "metric", "value"]
REGIME_COLUMNS = ["balance", "adaptive", "regime"]
REGIME_STEPS = 300       # steps classified for the regime map, after the adaptation phase
SINGLE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}


def _adaptation_inputs(task, n_steps: int) -> np.ndarray:
    """Inputs from the task's own distribution (other seeds) to adapt on before scoring."""
    chunks, seed = [], task.seed + 10_000
    while sum(len(c) for c in chunks) < n_steps:
        chunks.append(replace(task, seed=seed).inputs())
        seed += 1
    return np.concatenate(chunks)[:n_steps]


def _flags(balances, adaptive_modes) -> list[tuple[float, bool]]:
    """Every (balance, adaptive) of one batched run, modes outermost."""
    return [(float(g), bool(a)) for a in adaptive_modes for g in balances]


def score_seed(params: ReservoirParams, balances, adaptive_modes, task_name: str,
               adaptation: AdaptationParams, n_adapt: int, split: Split, k_max: int) -> list[dict]:
    """All balances x adaptation modes of one seed on one task (runs inside a Dask worker)."""
    from threadpoolctl import threadpool_limits
    flags = _flags(balances, adaptive_modes)
    task = make_task(task_name, split, params.seed, k_max)
    res = BatchedReservoir(params, [g for g, _ in flags], [a for _, a in flags], adaptation)
    rows = []
    with threadpool_limits(1):
        try:
            if n_adapt and any(a for _, a in flags):
                res.step(inputs=_adaptation_inputs(task, n_adapt), record_currents=False)
            res.set_adaptation(False)
            u = task.inputs()
            states = res.run(u).astype(np.float64)
        except RunawayActivityError:
            return [dict(seed=params.seed, balance=g, adaptive=a, task=task.name, metric="runaway", value=np.nan)
                    for g, a in flags]
        for b, (g, a) in enumerate(flags):
            score = task.score(states[:, :, b], u)
            rows.append(dict(seed=params.seed, balance=g, adaptive=a, task=score.task,
                             metric=score.metric, value=score.value))
    return rows


def regime_map(params: ReservoirParams, balances, adaptive_modes, adaptation: AdaptationParams,
               n_adapt: int) -> pd.DataFrame:
    """Regime of every (balance, adaptive) on one seed's network, driven by U[-1, 1] noise: the
    local rule adapts for ``n_adapt`` steps first, then REGIME_STEPS steps are classified."""
    flags = _flags(balances, adaptive_modes)
    res = BatchedReservoir(params, [g for g, _ in flags], [a for _, a in flags], adaptation)
    rng = np.random.default_rng(params.seed)
    try:
        res.step(inputs=rng.uniform(-1, 1, (n_adapt, 1)), record_currents=False)
        res.set_adaptation(False)
        rates = res.run(rng.uniform(-1, 1, (REGIME_STEPS, 1)))
        labels = [classify_regime(rates[:, :, b], params.activation).value for b in range(len(flags))]
    except RunawayActivityError:
        labels = ["runaway"] * len(flags)
    return pd.DataFrame({"balance": [g for g, _ in flags], "adaptive": [a for _, a in flags], "regime": labels},
                        columns=REGIME_COLUMNS)


def _local_cluster(n_workers: int):
    """Workers of one thread; no diagnostics dashboard (the scheduler's small HTTP server takes a
    free port: a fixed one collides with other servers on the machine)."""
    from distributed import LocalCluster
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        scheduler_kwargs={"dashboard": False}, env=SINGLE_THREAD, silence_logs=logging.ERROR)


@contextlib.contextmanager
def dask_client(scheduler=None, n_workers: int = 2):
    """The one place sweeps get a Dask Client: the given Client, one connected to a scheduler
    address, or a LocalCluster of their own, closed afterwards (scripts). Local workers are
    processes of one thread each (BLAS and numba on one thread). A server passes its own shared
    client (lab/cluster.py)."""
    from distributed import Client
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler
    elif isinstance(scheduler, str):
        with Client(scheduler) as client:
            yield client
    else:
        with _local_cluster(n_workers) as cluster, Client(cluster) as client:
            yield client


class SweepRunner:
    """Every (seed, balance, adaptive, task) scored by Dask jobs, collected step by step.

    Nothing starts in the constructor (it only checks the task names); the first ``step()``
    opens the cluster and submits the jobs. ``finished`` / ``total`` count jobs; ``rows`` hold
    the scores so far; ``regimes`` the regime map once its job is back (when asked for).
    """

    def __init__(self, params: ReservoirParams | None = None, balances: Iterable[float] = (0.5, 1.0, 1.5, 2.0),
                 adaptive_modes: Iterable[bool] = (False, True), seeds: Iterable[int] = range(5),
                 tasks: Iterable[str] = ("mc",), adaptation: AdaptationParams | None = None,
                 n_adapt: int = 2000, split: Split | None = None, k_max: int = 100, scheduler=None,
                 n_workers: int = 2, regimes: bool = False):
        self.params = params or ReservoirParams()
        self.adaptation = adaptation or AdaptationParams()
        self.split = split or Split()
        self.balances, self.modes = [float(g) for g in balances], [bool(a) for a in adaptive_modes]
        self.tasks, self.seeds = list(tasks), [int(s) for s in seeds]
        self.n_adapt, self.k_max = n_adapt, k_max
        self.scheduler, self.n_workers, self.want_regimes = scheduler, n_workers, regimes
        for name in self.tasks:
            make_task(name, self.split, 0, k_max)   # bad names fail here, before any worker starts
        self.rows: list[dict] = []
        self.regimes: pd.DataFrame | None = None
        self.finished = 0
        self.cancelled = False
        self._client = contextlib.ExitStack()
        self._pending: dict | None = None   # future -> "scores" | "regimes"; None until started

    @property
    def total(self) -> int:
        """Jobs: one per (seed, task), plus the regime map."""
        return len(self.seeds) * len(self.tasks) + int(self.want_regimes)

    @property
    def done(self) -> bool:
        """Every job is back, or the sweep was cancelled."""
        return self.cancelled or (self._pending is not None and not self._pending)

    def _submit(self) -> dict:
        client = self._client.enter_context(dask_client(self.scheduler, self.n_workers))
        jobs = {client.submit(score_seed, replace(self.params, seed=s), self.balances, self.modes, t,
                              self.adaptation, self.n_adapt, self.split, self.k_max, pure=False): "scores"
                for s in self.seeds for t in self.tasks}
        if self.want_regimes:
            first = replace(self.params, seed=self.seeds[0])
            jobs[client.submit(regime_map, first, self.balances, self.modes, self.adaptation, self.n_adapt,
                               pure=False)] = "regimes"
        return jobs

    def step(self, wait: float = 0.25) -> int:
        """Wait up to ``wait`` seconds for jobs; returns how many came back (0 while waiting).
        The cluster is shut down as soon as the last job is in."""
        from distributed import wait as wait_for
        if self.done:
            return 0
        if self._pending is None:
            self._pending = self._submit()
        try:
            finished, _ = wait_for(list(self._pending), timeout=wait, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return 0
        for future in finished:
            if self._pending.pop(future) == "scores":
                self.rows.extend(future.result())
            else:
                self.regimes = future.result()
        self.finished += len(finished)
        if not self._pending:
            self.close()
        return len(finished)

    def table(self) -> pd.DataFrame:
        """The rows so far, sorted; ``attrs["cancelled"]`` says whether the sweep was cut short."""
        table = pd.DataFrame(self.rows, columns=COLUMNS).sort_values(["task", "adaptive", "balance", "seed"],
                                                                     ignore_index=True)
        table.attrs["cancelled"] = self.cancelled
        return table

    def cancel(self) -> None:
        """Stop: pending jobs are cancelled and the cluster shut down (the rows so far are kept)."""
        if not self.done:
            self.cancelled = True
        self.close()

    def close(self) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            self.cancelled = True
            with contextlib.suppress(Exception):
                next(iter(pending)).client.cancel(list(pending))
        self._client.close()

    def __enter__(self) -> "SweepRunner":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def run_sweep(params: ReservoirParams | None = None, balances: Iterable[float] = (0.5, 1.0, 1.5, 2.0),
              adaptive_modes: Iterable[bool] = (False, True), seeds: Iterable[int] = range(5),
              tasks: Iterable[str] = ("mc",), adaptation: AdaptationParams | None = None,
              n_adapt: int = 2000, split: Split | None = None, k_max: int = 100, scheduler=None,
              n_workers: int = 2, progress: Callable[[int, int], None] | None = None,
              cancel: threading.Event | None = None) -> pd.DataFrame:
    """Score every (seed, balance, adaptive, task); rows come back as a tidy DataFrame.

    ``progress(done, total)`` is called as (seed, task) jobs finish. Setting ``cancel`` stops
    the sweep: pending jobs are cancelled and the rows finished so far are returned with
    ``df.attrs["cancelled"] = True``.
    """
    with SweepRunner(params, balances, adaptive_modes, seeds, tasks, adaptation, n_adapt, split, k_max,
                     scheduler, n_workers) as runner:
        while not runner.done:
            if cancel is not None and cancel.is_set():
                runner.cancel()
                break
            if runner.step() and progress:
                progress(runner.finished, runner.total)
        return runner.table()


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds for every (task, adaptive, balance)."""
    return (table.groupby(["task", "metric", "adaptive", "balance"])["value"]
            .agg(["mean", "std", "count"]).reset_index())
