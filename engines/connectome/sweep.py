"""Rank x restart sweeps of the factorisation, step-wise, in this process or through Dask.

``SweepRunner`` is the sweep: each ``step()`` finishes one (rank, restart) fit and returns it,
so a caller (the room's background task) can show progress and stop between fits; ``result()``
summarises the fits done so far. With a Dask ``client`` every job is submitted at the first
step (the tensor scattered once to every worker) and each step waits for the next one to
finish; without one the jobs run here, one per step. ``run_sweep`` is the blocking call: a thin
loop over the runner.

``dask_client`` is the one place where this engine makes a Dask client: connected to a
scheduler's address (a cluster shared by several servers), or a ``LocalCluster`` of processes
with one thread each, closed when the block ends.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from engines.connectome.rank_selection import fit_and_score, recommend_rank, summarise
from engines.connectome.validation import check_rank
from engines.errors import InvalidInputError

EXECUTORS = ("serial", "dask")


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


def check_sweep(shape: tuple[int, int, int], ranks: Sequence[int], n_restarts: int) -> None:
    """Ranks the tensor can support and at least one restart; raised before any work."""
    if not len(ranks) or n_restarts < 1:
        raise InvalidInputError("Give at least one rank and one restart.")
    for rank in ranks:
        check_rank(shape, int(rank))


@contextlib.contextmanager
def dask_client(scheduler_address: str | None = None, n_workers: int = 2) -> Iterator:
    """A ``distributed.Client`` for the block: to ``scheduler_address``, or to a fresh local cluster."""
    from distributed import Client, LocalCluster
    if scheduler_address:
        with Client(scheduler_address) as client:
            yield client
        return
    single_thread = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      env=single_thread, silence_logs=40) as cluster, Client(cluster) as client:
        yield client


class SweepRunner:
    """Every (rank, restart) of ``ranks`` x ``n_restarts``, one finished fit per ``step()``."""

    def __init__(self, values: np.ndarray, mask: np.ndarray | None, ranks: Sequence[int], n_restarts: int = 3,
                 seed: int = 0, tol: float = 1e-5, max_iter: int = 300, client=None):
        check_sweep(np.shape(values), ranks, n_restarts)
        self.jobs = [(int(r), k) for r in ranks for k in range(n_restarts)]
        self.fits: list[dict] = []
        self.cancelled = False
        self._values, self._mask, self._client = values, mask, client
        self._options = {"seed": seed, "tol": tol, "max_iter": max_iter}
        self._futures = None
        self._finished = None      # iterator over futures as they finish (dask)

    @property
    def done(self) -> bool:
        return self.cancelled or len(self.fits) == len(self.jobs)

    def step(self) -> dict:
        """Finish one more fit (the next to complete, with Dask) and return it."""
        if self.done:
            raise InvalidInputError("The sweep has no job left.")
        if self._client is None:
            rank, restart = self.jobs[len(self.fits)]
            fit = fit_and_score(self._values, self._mask, rank, restart, **self._options)
        else:
            fit = next(self._dask_results()).result()
        self.fits.append(fit)
        return fit

    def _dask_results(self):
        if self._finished is None:
            from distributed import as_completed
            data = self._client.scatter([self._values, self._mask], broadcast=True)
            self._futures = [self._client.submit(fit_and_score, data[0], data[1], rank, restart, pure=False,
                                                 **self._options) for rank, restart in self.jobs]
            self._finished = as_completed(self._futures, loop=self._client.loop)   # any thread's client
        return self._finished

    def cancel(self) -> None:
        """Give up the jobs not finished yet (queued Dask jobs are cancelled)."""
        if not self.done:
            self.cancelled = True
        if self._futures is not None:
            self._client.cancel(self._futures)

    def result(self) -> SweepResult:
        """Per-rank summary and recommendation of the fits finished so far."""
        if not self.fits:
            raise InvalidInputError("The sweep was stopped before any fit finished.")
        summary = summarise(self.fits)
        rank, reason = recommend_rank(summary)
        table = pd.DataFrame([{k: v for k, v in f.items() if k != "result"} for f in self.fits])
        table = table.sort_values(["rank", "restart"]).reset_index(drop=True)
        return SweepResult(table, summary, rank, reason,
                           {(f["rank"], f["restart"]): f["result"] for f in self.fits}, self.cancelled)


def run_sweep(values: np.ndarray, mask: np.ndarray | None, ranks: Sequence[int], n_restarts: int = 3,
              executor: str = "dask", scheduler_address: str | None = None, n_workers: int = 2,
              seed: int = 0, tol: float = 1e-5, max_iter: int = 300,
              progress: Callable[[float, str], None] | None = None,
              should_stop: Callable[[], bool] | None = None, client=None) -> SweepResult:
    """Fit every (rank, restart), summarise per rank and recommend a rank. With ``executor="dask"``
    the fits run through ``client`` (left open: the lab shares one per server), else through a
    client of ``dask_client(scheduler_address, n_workers)`` for this sweep. ``should_stop()`` is
    polled between finished fits: when it returns True the rest is cancelled and the fits done
    so far are summarised."""
    if executor not in EXECUTORS:
        raise InvalidInputError(f"Unknown executor '{executor}'; use 'dask' or 'serial'.")
    check_sweep(np.shape(values), ranks, n_restarts)
    if executor == "serial" or client is not None:
        clients = contextlib.nullcontext(client if executor == "dask" else None)
    else:
        clients = dask_client(scheduler_address, n_workers)
    with clients as client:
        runner = SweepRunner(values, mask, ranks, n_restarts, seed, tol, max_iter, client=client)
        while not runner.done:
            if should_stop is not None and should_stop():
                runner.cancel()
                break
            fit = runner.step()
            if progress is not None:
                progress(len(runner.fits) / len(runner.jobs), f"rank {fit['rank']}, restart {fit['restart']}")
        return runner.result()
