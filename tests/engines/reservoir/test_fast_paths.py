"""The fast kernels (single reservoir, fixed-weight single, float32 batch) match the reference loop
(float64 single-reservoir paths to 1e-6, the float32 batch path to float32 tolerance over short horizons)."""
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
def test_single_reservoir_path_matches_reference(activation, gain, leak, adaptive, record):
    params = ReservoirParams(n=80, in_degree=10, activation=activation, gain=gain, leak=leak)
    fast, ref = Reservoir(params, adaptive=adaptive), Reservoir(params, adaptive=adaptive)
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
    params = ReservoirParams(n=302, gap_scale=0.5)
    topo = celegans(params)
    for adaptive in (False, True):
        fast, ref = Reservoir(params, adaptive=adaptive, topology=topo), Reservoir(params, adaptive=adaptive, topology=topo)
        ref._reference = True
        np.testing.assert_allclose(fast.run(_inputs(30)), ref.run(_inputs(30)), atol=1e-6)
        np.testing.assert_allclose(fast.step(inputs=_inputs(5, 1)).inh_current,
                                   ref.step(inputs=_inputs(5, 1)).inh_current, atol=1e-6)


@pytest.mark.parametrize("activation,gain,leak", [("sigmoid", 10.0, 1.0), ("tanh", 3.0, 0.7), ("linear", 0.5, 0.5)])
@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("record", [False, True])
def test_float32_batch_path_matches_reference(activation, gain, leak, adaptive, record):
    """Large batches take the float32 path (simd row sums, float32 activation): float32 tolerance."""
    params = ReservoirParams(n=120, in_degree=20, activation=activation, gain=gain, leak=leak)
    balances = np.linspace(0.5, 2.0, 3)
    fast, ref = (BatchedReservoir(params, balances=balances, adaptive=adaptive) for _ in range(2))
    ref._reference = True
    for seed in range(2):   # short horizons: chaotic (tanh) and adaptive runs amplify rounding ~2x / 4 steps
        a = fast.step(inputs=_inputs(15, seed), record_currents=record)
        b = ref.step(inputs=_inputs(15, seed), record_currents=record)
        np.testing.assert_allclose(a.rates, b.rates, atol=2e-4)
        if record:
            np.testing.assert_allclose(a.exc_current, b.exc_current, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(a.inh_current, b.inh_current, rtol=1e-5, atol=1e-4)
    assert fast.rates.dtype == np.float64 and fast.inh_offset.dtype == np.float64
    np.testing.assert_allclose(fast.rates, ref.rates, atol=2e-4)
    np.testing.assert_allclose(fast.inh_offset, ref.inh_offset, atol=1e-5)


def test_float32_batch_path_runaway_keeps_last_good_state():
    from engines.reservoir import simulator
    from engines.reservoir.simulator import RunawayActivityError
    params = ReservoirParams(n=60, in_degree=10, activation="linear", gain=3.0)
    fast, ref = (BatchedReservoir(params, balances=np.full(2, 0.1)) for _ in range(2))
    ref._reference = True
    errors = []
    for r in (fast, ref):
        with pytest.raises(RunawayActivityError) as info:
            r.step(inputs=np.ones((200, 1)))
        errors.append(info.value)
    assert len(errors[0].trace.rates) == len(errors[1].trace.rates) == fast.step_count == ref.step_count
    assert np.all(np.isfinite(fast.rates)) and np.abs(fast.rates).max() < simulator.RUNAWAY_LIMIT
    np.testing.assert_allclose(fast.rates, ref.rates, rtol=1e-4)


def test_float32_batch_path_with_gap_junctions_matches_reference():
    from engines.reservoir import simulator
    params = ReservoirParams(n=302, gap_scale=0.5)
    topo = celegans(params)
    fast, ref = (BatchedReservoir(params, balances=np.linspace(0.5, 1.5, 3), adaptive=True, topology=topo)
                 for _ in range(2))
    ref._reference = True
    a, b = fast.step(inputs=_inputs(10)), ref.step(inputs=_inputs(10))
    np.testing.assert_allclose(a.rates, b.rates, atol=2e-4)
    np.testing.assert_allclose(a.inh_current, b.inh_current, rtol=1e-5, atol=1e-4)


def test_float32_path_is_taken_by_batches_only(monkeypatch):
    from engines.reservoir import simulator
    calls = []
    original = simulator.kernel.batch32_run
    monkeypatch.setattr(simulator.kernel, "batch32_run", lambda *args: calls.append(1) or original(*args))
    params = ReservoirParams(n=40, in_degree=5)
    Reservoir(params).run(_inputs(3))
    assert not calls
    batch = BatchedReservoir(params, balances=np.ones(2))
    rates = batch.run(_inputs(3))
    assert len(calls) == 1 and rates.dtype == np.float32 and batch.rates.dtype == np.float64
