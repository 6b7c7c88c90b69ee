import numpy as np
import pytest

from engines.errors import DivergenceError, InvalidInputError
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import (BatchedReservoir, InvalidSeriesError, Reservoir,
                                         RunawayActivityError)
from engines.reservoir.topology import from_signed

SMALL = ReservoirParams(n=120, in_degree=12)


def _inputs(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1))


def test_nan_input_raises_typed_error_and_leaves_state_untouched():
    res = Reservoir(SMALL)
    res.step(inputs=_inputs(5))
    before = res.snapshot()
    u = _inputs(10)
    u[7, 0] = np.nan
    with pytest.raises(InvalidSeriesError, match="NaN") as info:
        res.step(inputs=u)
    assert isinstance(info.value, InvalidInputError)
    assert res.step_count == before.step and np.array_equal(res.rates, before.rates)


def test_wrong_input_shape_is_rejected():
    with pytest.raises(InvalidSeriesError):
        Reservoir(SMALL).step(inputs=np.zeros((10, 3)))


def test_runaway_activity_is_detected_not_clipped():
    rng = np.random.default_rng(0)
    n = 30
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    topo = from_signed(1.5 * q, rng.uniform(-1, 1, (n, 1)))   # linear, spectral radius 1.5
    res = Reservoir(ReservoirParams(n=n, in_degree=1, activation="linear", gain=1.0), topology=topo)
    with pytest.raises(RunawayActivityError) as info:
        res.step(inputs=_inputs(200))
    assert isinstance(info.value, DivergenceError)
    good = info.value.trace.rates
    assert 0 < len(good) < 200 and res.step_count == len(good)
    assert np.isfinite(res.rates).all() and np.abs(res.rates).max() < 1e6
    assert np.abs(good[-1]).max() > 1e4   # it really grew, nobody clipped it


def test_batch_columns_match_single_reservoirs():
    u = _inputs(300)
    batch = BatchedReservoir(SMALL, balances=[0.5, 1.0, 2.0]).run(u)
    for b, g in enumerate([0.5, 1.0, 2.0]):
        single = Reservoir(SMALL.with_(balance=g)).run(u)
        np.testing.assert_allclose(batch[:, :, b], single, atol=1e-4)   # batches step in float32


def test_trace_observables_and_snapshot_restore_are_deterministic():
    res = Reservoir(SMALL, adaptive=True)
    res.step(inputs=_inputs(50))
    snap = res.snapshot()
    first = res.step(inputs=_inputs(40, seed=1))
    assert first.rates.shape == (40, 120) and first.exc_current.shape == (40, 120)
    assert first.population_mean.shape == (40,) and first.target_error.shape == (40,)
    assert (first.exc_current >= 0).all() and (first.inh_current >= 0).all()
    res.restore(snap)
    again = res.step(inputs=_inputs(40, seed=1))
    np.testing.assert_array_equal(first.rates, again.rates)
    assert again.first_step == 50


def test_excitatory_current_matches_weights():
    res = Reservoir(SMALL)
    res.step(inputs=_inputs(20))
    previous = res.rates[:, 0].copy()
    trace = res.step(inputs=_inputs(1, seed=3))
    np.testing.assert_allclose(trace.exc_current[0], res.topology.exc @ previous, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trace.inh_current[0], res.topology.inh @ previous, rtol=1e-5, atol=1e-6)


def test_local_rule_brings_time_averaged_rates_to_targets():
    adaptation = AdaptationParams(targets="uniform", target_low=0.1, target_high=0.4)
    res = BatchedReservoir(ReservoirParams(n=300, in_degree=30), balances=[0.5, 1.0, 2.0],
                           adaptive=True, adaptation=adaptation)
    trace = res.step(inputs=_inputs(3000), record_currents=False)
    start = np.abs(trace.rates[:50].mean(axis=0) - res.targets).mean(axis=0)
    end = np.abs(trace.rates[-1000:].mean(axis=0) - res.targets).mean(axis=0)
    assert (end < 0.03).all() and (end < start / 3).all()


def test_adaptation_switches_off_mid_run():
    res = Reservoir(SMALL, adaptive=True)
    res.step(inputs=_inputs(100))
    assert np.abs(res.inh_offset).sum() > 0
    res.set_adaptation(False)
    frozen = res.inh_offset.copy()
    res.step(inputs=_inputs(100, seed=2))
    np.testing.assert_array_equal(res.inh_offset, frozen)
    res.set_adaptation(True)
    res.step(inputs=_inputs(10, seed=3))
    assert not np.array_equal(res.inh_offset, frozen)


def test_adaptation_keeps_inhibitory_weights_non_negative():
    # targets far above what excitation can reach push offsets down to the Dale floor
    adaptation = AdaptationParams(targets="homogeneous", target_rate=0.99)
    res = Reservoir(SMALL.with_(balance=3.0), adaptive=True, adaptation=adaptation)
    res.step(inputs=_inputs(2000))
    w = res.effective_weights().toarray()
    inhibitory = ~res.topology.excitatory
    assert (w[:, inhibitory] <= 1e-12).all()


def test_one_step_design_moves_rates_towards_targets():
    res = BatchedReservoir(ReservoirParams(n=300, in_degree=30, balance=0.5), balances=[0.5, 0.5])
    res.design_inhibition(which=[1])
    rates = res.run(_inputs(2000))[-1000:].mean(axis=0)
    err = np.abs(rates - res.targets).mean(axis=0)
    assert err[1] < 0.5 * err[0]


def test_jacobian_matches_finite_differences():
    res = Reservoir(ReservoirParams(n=40, in_degree=8))
    res.step(inputs=_inputs(20))
    jac, snap, x0 = res.jacobian(), res.snapshot(), res.rates[:, 0].copy()

    def advance(x):
        res.restore(snap)
        res.rates[:, 0] = x
        res.step(inputs=snap.last_input[None])
        return res.rates[:, 0].copy()
    eps = 1e-6
    fd = np.stack([(advance(x0 + eps * e) - advance(x0 - eps * e)) / (2 * eps) for e in np.eye(40)], axis=1)
    np.testing.assert_allclose(jac, fd, atol=1e-5)


def test_invalid_balances_rejected():
    with pytest.raises(InvalidInputError):
        BatchedReservoir(SMALL, balances=[1.0, np.nan])


def test_celegans_reservoir_with_gap_junctions_runs_and_adapts():
    from engines.reservoir.topology import celegans
    params = ReservoirParams(n=302, gap_scale=0.5)
    res = Reservoir(params, adaptive=True, topology=celegans(params))
    trace = res.step(inputs=_inputs(500))
    assert trace.rates.shape == (500, 302) and np.isfinite(trace.rates).all()
    w = res.effective_weights().toarray()
    lap = res.topology.gap_laplacian().toarray()
    np.testing.assert_allclose(lap, lap.T)
    assert np.abs(w - w.T).max() > 0     # chemical synapses stay directed
