import threading

import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.reservoir.params import ReservoirParams
from engines.reservoir.sweep import COLUMNS, dask_client, run_sweep, score_seed, summarise
from engines.reservoir.params import AdaptationParams
from engines.reservoir.tasks import Split

TINY = dict(params=ReservoirParams(n=60, in_degree=6), balances=[0.5, 1.5], seeds=[0, 1], n_adapt=200,
            split=Split(30, 300, 100, 200), k_max=10)


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=1) as c:
        yield c


def test_tiny_sweep_through_dask_returns_the_tidy_table(client):
    seen = []
    table = run_sweep(**TINY, tasks=("mc", "narma10"), scheduler=client, progress=lambda d, t: seen.append((d, t)))
    assert list(table.columns) == COLUMNS and len(table) == 2 * 2 * 2 * 2
    assert set(table["balance"]) == {0.5, 1.5} and set(table["adaptive"]) == {False, True}
    assert set(table["task"]) == {"memory capacity", "NARMA-10"}
    assert table["value"].notna().all() and not table.attrs["cancelled"]
    assert seen[-1] == (4, 4)
    # the workers computed what a local call computes
    local = score_seed(TINY["params"], [0.5, 1.5], [False, True], "mc", AdaptationParams(), 200, TINY["split"], 10)
    mine = table[(table.task == "memory capacity") & (table.seed == 0)].sort_values(["adaptive", "balance"])
    np.testing.assert_allclose(mine["value"], [r["value"] for r in local])
    summary = summarise(table)
    assert (summary["count"] == 2).all()


def test_cancelled_sweep_returns_what_finished(client):
    cancel = threading.Event()
    cancel.set()
    table = run_sweep(**TINY, tasks=("mc",), scheduler=client, cancel=cancel)
    assert table.attrs["cancelled"] and len(table) < 8


def test_unknown_task_is_rejected_before_any_work():
    with pytest.raises(InvalidInputError, match="unknown task"):
        run_sweep(**TINY, tasks=("xor",), scheduler=object())


def test_the_runner_steps_until_every_job_is_back_and_maps_the_regimes(client):
    from engines.reservoir.sweep import SweepRunner
    runner = SweepRunner(**{k: v for k, v in TINY.items()}, tasks=("mc",), scheduler=client, regimes=True)
    assert runner.total == 3 and runner.finished == 0 and not runner.done   # nothing submitted yet
    steps = 0
    while not runner.done:
        runner.step(wait=0.1)
        steps += 1
        assert steps < 2000
    assert runner.finished == 3 and not runner.cancelled
    assert len(runner.table()) == 2 * 2 * 2 and not runner.table().attrs["cancelled"]
    regimes = runner.regimes.set_index(["balance", "adaptive"])["regime"]
    assert len(regimes) == 4 and set(regimes) <= {"silent", "saturated", "period-2 oscillation", "asynchronous"}
    assert runner.step() == 0                                   # done: nothing more to collect


def test_a_cancelled_runner_keeps_its_rows_and_stops(client):
    from engines.reservoir.sweep import SweepRunner
    runner = SweepRunner(**TINY, tasks=("mc",), scheduler=client)
    runner.step(wait=0.0)
    runner.cancel()
    assert runner.done and runner.cancelled and runner.step() == 0
    assert runner.table().attrs["cancelled"] and len(runner.table()) <= 8


def test_regime_map_labels_every_balance_and_mode():
    from engines.reservoir.sweep import regime_map
    regimes = regime_map(ReservoirParams(n=60, in_degree=12), [0.0, 1.0], [False], AdaptationParams(), 100)
    assert list(regimes.columns) == ["balance", "adaptive", "regime"]
    assert regimes.set_index("balance")["regime"].to_dict() == {0.0: "saturated", 1.0: "asynchronous"}
