"""The reservoir room's balance sweep: the table it produces, CSV export, regime map, stopping."""
import io

import pandas as pd
import pytest

from engines.reservoir.tasks import Split
from lab.reservoir import ReservoirRoom
from tests.lab import polling

TINY_SPLIT = Split(warmup=100, train=300, val=100, test=200)


def wait_for(predicate):
    polling.wait_for(predicate, timeout=60.0)


@pytest.fixture(scope="module")
def threads():
    """An in-process Dask scheduler: the sweep's code path without starting worker processes."""
    from distributed import Client
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        yield client


def test_sweep_fills_the_table_summary_and_regime_map(threads):
    room = ReservoirRoom(n=60, in_degree=12, sweep_balances=[0.0, 1.0, 2.5], sweep_seeds=2)
    room.start_sweep(split=TINY_SPLIT, n_adapt=300, scheduler=threads)
    wait_for(lambda: room.sweep.state in ("finished", "failed"))
    assert room.sweep.state == "finished", room.sweep.error
    assert room.sweep_summary is not None and room.sweep_regimes is not None   # in place when it says finished
    table = room.sweep_table
    assert len(table) == 3 * 2 * 2
    assert set(table["balance"]) == {0.0, 1.0, 2.5} and set(table["seed"]) == {0, 1}
    assert set(table["adaptive"]) == {False, True} and set(table["metric"]) == {"MC"}
    assert table["value"].notna().all() and (table["value"] >= 0).all()
    static = table[~table["adaptive"]].groupby("balance")["value"].mean()
    assert static[1.0] > static[0.0]          # a saturated network remembers nothing
    summary = room.sweep_summary
    assert len(summary) == 6 and (summary["count"] == 2).all()
    regimes = room.sweep_regimes.set_index(["balance", "condition"])["regime"]
    assert regimes[(0.0, "static")] == "saturated"
    assert regimes[(1.0, "static")] == "asynchronous"
    back = pd.read_csv(io.BytesIO(room.sweep_csv()))
    assert list(back.columns) == list(table.columns) and len(back) == len(table)


def test_stopping_a_sweep_keeps_the_rows_so_far(threads):
    room = ReservoirRoom(n=150, in_degree=20, sweep_balances=[1.0], sweep_seeds=6,
                         sweep_conditions=["static"])
    room.start_sweep(split=Split(warmup=100, train=1000, val=300, test=500), n_adapt=0, scheduler=threads)
    wait_for(lambda: room.sweep.steps_done >= 1 or len(room.sweep_table) >= 1)
    room.stop_sweep()
    wait_for(lambda: room.sweep.state != "running")
    assert room.sweep.state == "stopped"
    wait_for(lambda: room.sweep_summary is not None)   # the rows so far are summarised
    assert 1 <= len(room.sweep_table) < 6
    assert room.sweep_summary["count"].sum() == len(room.sweep_table)


def test_sweep_rejects_the_connectome_topology():
    from engines.errors import InvalidInputError
    room = ReservoirRoom(n=60, in_degree=12)
    room.param.update(topology="C. elegans")
    with pytest.raises(InvalidInputError, match="random"):
        room.start_sweep()
