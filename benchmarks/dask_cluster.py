"""A Dask scheduler and its workers on this machine's loopback, started as the README's classroom
recipe starts them (``dask scheduler``, ``dask worker``), for the deployment test and
``benchmarks.classroom --dask``.

    with dask_cluster(n_workers=2) as address:      # tcp://127.0.0.1:<port>
        ...                                        # serve the lab with NEURAL_LAB_DASK_SCHEDULER=address
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from benchmarks.browser import REPO, free_port, stop

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "NUMBA_NUM_THREADS")}


def _start(arguments: list[str], log_path: Path | None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), **ONE_THREAD)   # workers import the lab's engines
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", *arguments], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@contextmanager
def dask_cluster(n_workers: int = 2, log_dir: Path | None = None, timeout: float = 90.0):
    """Yield the scheduler's address once ``n_workers`` single-threaded workers have joined."""
    from distributed import Client
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = (Path(log_dir) / "dask-scheduler.log", Path(log_dir) / "dask-workers.log") if log_dir else (None, None)
    scheduler = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard"], logs[0])
    workers = _start(["distributed.cli.dask_worker", address, "--nworkers", str(n_workers), "--nthreads", "1",
                      "--host", "127.0.0.1", "--no-dashboard"], logs[1])
    try:
        with Client(address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(n_workers, timeout=timeout)
        yield address
    finally:
        stop(workers)
        stop(scheduler)


def scheduler_report(address: str, task_prefix: str) -> dict:
    """Which server processes the scheduler has served (clients named neural-lab-<pid>) and how many
    ``task_prefix`` tasks each worker ran."""
    from distributed import Client

    def clients(dask_scheduler):
        return sorted(key for key in dask_scheduler.clients if "neural-lab-" in key)

    def ran(dask_worker, prefix=task_prefix):
        return sum(1 for event in dask_worker.state.log
                   if len(event) > 2 and str(event[0]).startswith(prefix) and event[2] == "memory")

    with Client(address, set_as_default=False) as observer:
        return {"clients": observer.run_on_scheduler(clients), "per_worker": observer.run(ran)}
