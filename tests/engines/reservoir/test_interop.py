import numpy as np
import pytest
import reservoirpy as rpy

from engines.reservoir.interop import ReservoirpyDriver, to_reservoirpy
from engines.reservoir.params import ReservoirParams
from engines.reservoir.simulator import Reservoir
from engines.reservoir.tasks import MemoryCapacity, Split, evaluate


@pytest.fixture(scope="module")
def adapted_reservoir():
    res = Reservoir(ReservoirParams(n=150, in_degree=15, gap_scale=0.0), adaptive=True)
    res.step(inputs=np.random.default_rng(1).uniform(-1, 1, (1000, 1)))
    res.set_adaptation(False)
    return res


def test_exported_reservoir_runs_the_same_trajectory(adapted_reservoir):
    u = np.random.default_rng(2).uniform(-1, 1, (200, 1))
    node = to_reservoirpy(adapted_reservoir)
    ours = Reservoir(adapted_reservoir.params, topology=adapted_reservoir.topology)
    ours.inh_scale, ours.inh_offset = adapted_reservoir.inh_scale.copy(), adapted_reservoir.inh_offset.copy()
    np.testing.assert_allclose(node.run(u), ours.run(u), atol=1e-6)


def test_memory_capacity_agrees_with_reservoirpy(adapted_reservoir):
    task = MemoryCapacity(k_max=40, split=Split(100, 1500, 300, 1000))
    ours = evaluate(adapted_reservoir, task).value
    theirs_same_code = evaluate(ReservoirpyDriver(to_reservoirpy(adapted_reservoir)), task).value
    # the adapted network is chaotic, so float rounding decorrelates long runs: agree within noise
    assert abs(theirs_same_code - ours) < max(1.0, 0.15 * ours)
    # reservoirpy's own observable (its Ridge, its i.i.d. U[-0.8, 0.8] series): same MC within noise
    from reservoirpy.nodes import Ridge
    from reservoirpy.observables import memory_capacity
    model = to_reservoirpy(adapted_reservoir) >> Ridge(ridge=1e-6)
    theirs = memory_capacity(model, k_max=40, series=np.random.default_rng(3).uniform(-0.8, 0.8, (4000, 1)),
                             test_size=1000)
    assert ours > 2.0
    assert abs(theirs - ours) < max(1.5, 0.2 * ours)
