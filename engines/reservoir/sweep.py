"""Sweeps of balance x adaptation x seeds x task through Dask, returned as a tidy DataFrame.

One Dask task scores one (seed, task): every balance and adaptation mode of that seed runs as
one BatchedReservoir sharing the seed's topology. A LocalCluster (processes, one thread each)
is started unless a scheduler address or a Client is given.
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import replace
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, RunawayActivityError
from engines.reservoir.tasks import MackeyGlass, MemoryCapacity, Narma10, Split

TASKS = {"mc": MemoryCapacity, "narma10": Narma10, "mackey_glass": MackeyGlass}
COLUMNS = ["seed", "balance", "adaptive", "task", "metric", "value"]


def make_task(name: str, split: Split, seed: int, k_max: int = 100):
    if name not in TASKS:
        raise InvalidInputError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    task = TASKS[name](split=split, seed=seed)
    return replace(task, k_max=k_max) if name == "mc" else task


def _adaptation_inputs(task, n_steps: int) -> np.ndarray:
    """Inputs from the task's own distribution (other seeds) to adapt on before scoring."""
    chunks, seed = [], task.seed + 10_000
    while sum(len(c) for c in chunks) < n_steps:
        chunks.append(replace(task, seed=seed).inputs())
        seed += 1
    return np.concatenate(chunks)[:n_steps]


def score_seed(params: ReservoirParams, balances, adaptive_modes, task_name: str,
               adaptation: AdaptationParams, n_adapt: int, split: Split, k_max: int) -> list[dict]:
    """All balances x adaptation modes of one seed on one task (runs inside a Dask worker)."""
    from threadpoolctl import threadpool_limits
    flags = [(float(g), bool(a)) for a in adaptive_modes for g in balances]
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


@contextlib.contextmanager
def dask_client(scheduler=None, n_workers: int = 2):
    """A Client: the given one, one connected to a scheduler address, or a fresh LocalCluster."""
    from distributed import Client, LocalCluster
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler
        return
    if isinstance(scheduler, str):
        with Client(scheduler) as client:
            yield client
        return
    single_thread = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=single_thread, silence_logs=40) as cluster, Client(cluster) as client:
        yield client


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
    from distributed import wait
    params = params or ReservoirParams()
    adaptation = adaptation or AdaptationParams()
    split = split or Split()
    balances, modes = [float(g) for g in balances], [bool(a) for a in adaptive_modes]
    tasks, seeds = list(tasks), [int(s) for s in seeds]
    for name in tasks:
        make_task(name, split, 0, k_max)   # validate names before starting workers
    rows, cancelled = [], False
    with dask_client(scheduler, n_workers) as client:
        futures = [client.submit(score_seed, replace(params, seed=s), balances, modes, t, adaptation,
                                 n_adapt, split, k_max, pure=False) for s in seeds for t in tasks]
        pending, total = set(futures), len(futures)
        while pending:
            if cancel is not None and cancel.is_set():
                client.cancel(list(pending))
                cancelled = True
                break
            try:
                done, pending = wait(pending, timeout=0.25, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
                rows.extend(future.result())
            if progress:
                progress(total - len(pending), total)
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(["task", "adaptive", "balance", "seed"], ignore_index=True)
    table.attrs["cancelled"] = cancelled
    return table


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds for every (task, adaptive, balance)."""
    return (table.groupby(["task", "metric", "adaptive", "balance"])["value"]
            .agg(["mean", "std", "count"]).reset_index())
