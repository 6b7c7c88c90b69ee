"""The fast kernels (ELL single reservoir, fixed-weight single, vectorised batch) match the reference loop."""
import numpy as np
import pytest

from engines.reservoir.params import ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, Reservoir
from engines.reservoir.topology import celegans


def _inputs(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1))


@pytest.mark.parametrize("activation,gain,leak", [("sigmoid", 10.0, 1.0), ("tanh", 3.0, 0.7), ("linear", 0.5, 0.5)])
@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_fast_path_matches_reference(activation, gain, leak, adaptive, record, batch):
    params = ReservoirParams(n=80, in_degree=10, activation=activation, gain=gain, leak=leak)

    def make():
        if batch == 1:
            return Reservoir(params, adaptive=adaptive)
        return BatchedReservoir(params, balances=[0.5, 1.0, 2.0], adaptive=adaptive)
    fast, ref = make(), make()
    ref._reference = True
    for seed in range(2):                      # two calls: state carried over between them
        a = fast.step(inputs=_inputs(30, seed), record_currents=record)
        b = ref.step(inputs=_inputs(30, seed), record_currents=record)
        np.testing.assert_allclose(a.rates, b.rates, atol=1e-6)
        if record:
            np.testing.assert_allclose(a.exc_current, b.exc_current, atol=1e-6)
            np.testing.assert_allclose(a.inh_current, b.inh_current, atol=1e-6)
    np.testing.assert_allclose(fast.rates, ref.rates, atol=1e-9)
    np.testing.assert_allclose(fast.inh_offset, ref.inh_offset, atol=1e-9)


def test_fixed_weight_path_follows_design_and_restore():
    res, ref = Reservoir(ReservoirParams(n=100, in_degree=10)), Reservoir(ReservoirParams(n=100, in_degree=10))
    ref._reference = True
    for r in (res, ref):
        r.run(_inputs(20))
        r.design_inhibition(0.0)               # changes S: the cached effective matrix must follow
    np.testing.assert_allclose(res.run(_inputs(40, 1)), ref.run(_inputs(40, 1)), atol=1e-6)
    snap = res.snapshot()
    first = res.run(_inputs(10, 2))
    res.restore(snap)
    np.testing.assert_array_equal(res.run(_inputs(10, 2)), first)


def test_fast_path_with_gap_junctions_matches_reference():
    pytest.importorskip("cect")
    params = ReservoirParams(n=302, gap_scale=0.5)
    topo = celegans(params)
    for adaptive in (False, True):
        fast, ref = Reservoir(params, adaptive=adaptive, topology=topo), Reservoir(params, adaptive=adaptive, topology=topo)
        ref._reference = True
        np.testing.assert_allclose(fast.run(_inputs(30)), ref.run(_inputs(30)), atol=1e-6)
        np.testing.assert_allclose(fast.step(inputs=_inputs(5, 1)).inh_current,
                                   ref.step(inputs=_inputs(5, 1)).inh_current, atol=1e-6)
