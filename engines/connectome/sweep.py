"""Rank x restart sweeps of the factorisation, run through dask.distributed or in-process.

A ``LocalCluster`` of processes with one thread each is started by default and closed at the
end; pass ``scheduler_address`` to use an existing cluster instead, or ``executor="serial"``
to run in this process (tests, notebooks). The tensor is scattered once to every worker.
``should_stop()`` is polled between finished jobs; when it returns True the remaining jobs are
cancelled and the jobs finished so far are summarised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from engines.connectome.rank_selection import fit_and_score, recommend_rank, summarise
from engines.connectome.validation import check_rank
from engines.errors import InvalidInputError


@dataclass
class SweepResult:
    fits: pd.DataFrame          # one row per (rank, restart): error, n_iter, core consistency
    summary: pd.DataFrame       # one row per rank (see rank_selection.summarise)
    recommended_rank: int
    reason: str
    results: dict               # (rank, restart) -> NTFResult
    cancelled: bool = False

    def best(self, rank: int):
        """The lowest-error restart of ``rank``."""
        row = self.summary.set_index("rank").loc[rank]
        return self.results[(rank, int(row.best_restart))]


def _jobs(ranks: Sequence[int], n_restarts: int) -> list[tuple[int, int]]:
    return [(int(r), k) for r in ranks for k in range(n_restarts)]


def _run_serial(values, mask, jobs, kwargs, progress, should_stop) -> tuple[list[dict], bool]:
    fits = []
    for k, (rank, restart) in enumerate(jobs):
        if should_stop is not None and should_stop():
            return fits, True
        fits.append(fit_and_score(values, mask, rank, restart, **kwargs))
        if progress is not None:
            progress((k + 1) / len(jobs), f"rank {rank}, restart {restart}")
    return fits, False


def _run_dask(values, mask, jobs, kwargs, progress, should_stop, scheduler_address, n_workers):
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None if scheduler_address else LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(scheduler_address or cluster)
    try:
        data = client.scatter([values, mask], broadcast=True)
        futures = [client.submit(fit_and_score, data[0], data[1], rank, restart, pure=False, **kwargs)
                   for rank, restart in jobs]
        fits, cancelled = [], False
        for done, future in enumerate(as_completed(futures), start=1):
            fits.append(future.result())
            if progress is not None:
                progress(done / len(jobs), f"rank {fits[-1]['rank']}, restart {fits[-1]['restart']}")
            if should_stop is not None and should_stop():
                client.cancel(futures)
                cancelled = True
                break
        return fits, cancelled
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(values: np.ndarray, mask: np.ndarray | None, ranks: Sequence[int], n_restarts: int = 3,
              executor: str = "dask", scheduler_address: str | None = None, n_workers: int = 2,
              seed: int = 0, tol: float = 1e-5, max_iter: int = 300,
              progress: Callable[[float, str], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> SweepResult:
    """Fit every (rank, restart), summarise per rank and recommend a rank."""
    if not ranks or n_restarts < 1:
        raise InvalidInputError("Give at least one rank and one restart.")
    for rank in ranks:
        check_rank(np.shape(values), int(rank))
    jobs = _jobs(ranks, n_restarts)
    kwargs = {"seed": seed, "tol": tol, "max_iter": max_iter}
    if executor == "serial":
        fits, cancelled = _run_serial(values, mask, jobs, kwargs, progress, should_stop)
    elif executor == "dask":
        fits, cancelled = _run_dask(values, mask, jobs, kwargs, progress, should_stop,
                                    scheduler_address, n_workers)
    else:
        raise InvalidInputError(f"Unknown executor '{executor}'; use 'dask' or 'serial'.")
    if not fits:
        raise InvalidInputError("The sweep was stopped before any fit finished.")
    summary = summarise(fits)
    rank, reason = recommend_rank(summary)
    table = pd.DataFrame([{k: v for k, v in f.items() if k != "result"} for f in fits])
    table = table.sort_values(["rank", "restart"]).reset_index(drop=True)
    return SweepResult(table, summary, rank, reason,
                       {(f["rank"], f["restart"]): f["result"] for f in fits}, cancelled)
