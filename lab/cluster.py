"""Where the rooms' finite heavy jobs run on Dask: one client per server process.

    from lab.cluster import client
    futures = client().submit(...)      # call it from the job's thread (a BackgroundTask step)

- With NEURAL_LAB_DASK_SCHEDULER naming a scheduler (lab.settings), every room's sweeps and rank
  searches run on that cluster's workers, and several ``panel serve`` processes (``--num-procs``,
  or servers behind a proxy) share its queue: the scheduler hands their tasks to its workers.
- Without one, this server process starts one LocalCluster at first use (a single-threaded
  worker process per scheduler slot, NEURAL_LAB_SLOTS) and every session shares it, instead of
  each job starting and tearing down a cluster of its own.

The client is this process's default Dask client (``distributed.wait`` and ``as_completed``, which
the sweeps use, look for it there); no room computes dask collections in the server, so nothing
else moves to the cluster. It is made lazily, in the thread that first needs it: after
``--num-procs`` has forked, and never on the server's event loop. The README's "Serving a
class" section has the recipe for a lecturer.
"""
from __future__ import annotations

import logging
import os
import threading

from engines.errors import EngineError
from lab.settings import DASK_SCHEDULER, current

log = logging.getLogger("lab.cluster")

CONNECT_TIMEOUT_S = 10
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "NUMBA_NUM_THREADS")}

_lock = threading.Lock()
_client = None
_local_cluster = None


class ClusterUnavailable(EngineError):
    """The operator's Dask scheduler does not answer."""


def client():
    """This server process's Dask client (made at the first call, then shared by every session)."""
    global _client, _local_cluster
    from distributed import Client, LocalCluster
    with _lock:
        if _client is not None and _client.status in ("running", "connecting", "newly-created"):
            return _client
        address = current().dask_scheduler
        name = f"neural-lab-{os.getpid()}"   # the scheduler lists each server process by this
        if address is None:
            if _local_cluster is None:
                _local_cluster = LocalCluster(n_workers=current().slots, threads_per_worker=1, processes=True,
                                              dashboard_address=None, env=ONE_THREAD, silence_logs=logging.ERROR)
            _client = Client(_local_cluster, name=name)
            return _client
        try:
            _client = Client(address, name=name, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ClusterUnavailable(f"The lab's Dask scheduler {address} ({DASK_SCHEDULER}) does not answer "
                                     f"({error}); ask the operator to start it.") from None
        log.info("connected to the Dask scheduler %s as %s", address, _client.id)
        return _client


def configured() -> bool:
    """Whether the operator named a Dask scheduler (rooms then run their sweeps there by default)."""
    return current().dask_scheduler is not None
