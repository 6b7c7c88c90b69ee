"""One Dask client per server process: the operator's scheduler when named (a clear message when it
does not answer), otherwise one local cluster shared by every session's sweeps and left open."""
import os
import socket

import numpy as np
import pytest

import lab.cluster as cluster
from engines.connectome.sweep import run_sweep


@pytest.fixture
def fresh_cluster_module(monkeypatch):
    """lab.cluster without a client yet; whatever the test starts is closed afterwards."""
    monkeypatch.setattr(cluster, "_client", None)
    monkeypatch.setattr(cluster, "_local_cluster", None)
    yield
    if cluster._client is not None:
        cluster._client.close()
    if cluster._local_cluster is not None:
        cluster._local_cluster.close()


def test_an_unreachable_scheduler_is_a_clear_message(monkeypatch, fresh_cluster_module):
    with socket.socket() as sock:   # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NEURAL_LAB_DASK_SCHEDULER", f"tcp://127.0.0.1:{port}")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    assert cluster.configured()
    with pytest.raises(cluster.ClusterUnavailable, match=rf"scheduler tcp://127.0.0.1:{port} "
                                                        r"\(NEURAL_LAB_DASK_SCHEDULER\) does not answer"):
        cluster.client()


@pytest.mark.timeout(180)
def test_without_a_scheduler_one_local_cluster_serves_every_sweep_and_stays_open(monkeypatch, fresh_cluster_module):
    monkeypatch.delenv("NEURAL_LAB_DASK_SCHEDULER", raising=False)
    monkeypatch.setenv("NEURAL_LAB_SLOTS", "1")
    assert not cluster.configured()
    client = cluster.client()
    assert cluster.client() is client and f"neural-lab-{os.getpid()}" in client.id
    assert len(client.scheduler_info()["workers"]) == 1            # one worker per slot
    values = np.random.default_rng(0).uniform(0, 1, (8, 3, 20))
    for _session in range(2):
        sweep = run_sweep(values, None, ranks=[1, 2], n_restarts=1, client=client)
        assert sorted(sweep.fits["rank"]) == [1, 2]
    assert client.status == "running" and cluster.client() is client   # the engine left it open
