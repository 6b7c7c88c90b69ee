"""The reservoir room's model without a browser: parameters, the live run, analyses, bad input."""
import time

import numpy as np
import param
import pytest

from engines.errors import InvalidInputError
from lab.reservoir import ReservoirRoom
from lab.reservoir.model import CHUNK_STEPS
from lab.reservoir.settings import LIVE, with_role
from tests.lab import polling

SMALL = dict(n=100, in_degree=20)


def wait_for(predicate):
    polling.wait_for(predicate, timeout=20.0)


@pytest.fixture
def room():
    model = ReservoirRoom(**SMALL)
    yield model
    model.close()


def test_opening_the_room_builds_nothing():
    model = ReservoirRoom()
    assert not model._handover.built and model._handover._worker is None
    assert model.snapshot is None and model.spectrum is None and model.steps == 0
    model.balance = 2.0                                    # settings change without building either
    model.n = 300
    assert not model._handover.built
    assert model.reservoir.n == 300 and model.reservoir.params.balance == 2.0   # built on first use
    model.close()


def test_settings_are_declared_once_with_their_role():
    assert set(LIVE) == {"balance", "gain", "adaptation"}
    structure = with_role(ReservoirRoom, "structure")
    assert {"n", "topology", "seed", "targets"} <= set(structure) and not set(structure) & set(LIVE)
    assert set(ReservoirRoom.url_parameters) == set(structure) | set(LIVE) | {"task"}


def other_value(parameter):
    """A valid value other than the default, for any live setting."""
    if isinstance(parameter, param.Selector):
        return next(value for value in reversed(parameter.objects) if value != parameter.default)
    return parameter.default + (parameter.bounds[1] - parameter.default) / 2


def test_every_declared_live_setting_reaches_the_running_engine(room):
    """Declaring a live setting (its parameter and engine method) is all it takes: it reaches the
    reservoir stepped in the worker process, with the effect of the engine method."""
    room.run()
    wait_for(lambda: room.steps > 500)
    new = {name: other_value(room.param[name]) for name in LIVE}
    for name, value in new.items():
        setattr(room, name, value)
    held = room.steps
    wait_for(lambda: room.steps > held + 500)               # frames after the change
    room.pause()
    engine = room.reservoir                                # the worker's own, handed back
    expected = ReservoirRoom(**SMALL).reservoir            # the same network at the defaults ...
    for name, value in new.items():
        LIVE[name](expected, value)                        # ... told through the engine methods
    assert engine.params == expected.params and list(engine.balances) == list(expected.balances)
    assert engine.adaptation_mode == expected.adaptation_mode and np.array_equal(engine.adapt_on, expected.adapt_on)
    np.testing.assert_allclose(engine.inh_scale, expected.inh_scale)


def test_parameters_reach_the_engine():
    model = ReservoirRoom(n=80, in_degree=12, frac_excitatory=0.7, gain=5.0, balance=1.5, input_scale=1.0, seed=3)
    res = model.reservoir
    assert (res.params.n, res.params.in_degree, res.params.gain, res.params.seed) == (80, 12, 5.0, 3)
    assert res.topology.n == 80
    assert res.topology.excitatory.mean() == pytest.approx(0.7, abs=0.02)
    assert np.count_nonzero(res.topology.exc.toarray() + res.topology.inh.toarray(), axis=1).tolist() == [12] * 80
    assert np.allclose(res.inh_scale, 1.5)
    assert np.abs(res.topology.w_in).max() <= 0.5  # U[-s/2, s/2] with s = 1


def test_structure_change_rebuilds_and_balance_change_keeps_activity(room):
    room.step()
    rates, steps = room.reservoir.rates.copy(), room.reservoir.step_count
    room.balance = 2.0
    assert room.reservoir.step_count == steps and np.array_equal(room.reservoir.rates, rates)
    assert np.allclose(room.reservoir.inh_scale, 2.0)
    room.n = 120
    assert room.reservoir.n == 120 and room.reservoir.step_count == 0
    assert room.snapshot.rates.shape == (0, 120)


def test_step_run_pause_and_reset(room):
    assert room.step() == CHUNK_STEPS
    assert room.snapshot.step == CHUNK_STEPS and room.snapshot.rates.shape == (CHUNK_STEPS, 100)
    room.run()
    wait_for(lambda: room.steps > 1000)
    room.pause()
    assert room.live.state == "paused"
    time.sleep(0.2)
    held = room.reservoir.step_count
    time.sleep(0.3)
    assert room.reservoir.step_count == held
    room.run()   # resumes
    wait_for(lambda: room.reservoir.step_count > held + 500)
    room.reset()
    assert room.live.state == "stopped"
    assert room.reservoir.step_count == 0 and room.snapshot.step == 0


def test_the_window_keeps_the_last_steps(room):
    room.window = 60
    for _ in range(4):
        room.step()
    snap = room.snapshot
    assert snap.rates.shape == (60, 100)
    assert snap.times[-1] == 4 * CHUNK_STEPS and np.all(np.diff(snap.times) == 1)
    assert snap.exc_population.shape == snap.inh_neuron.shape == snap.target_error.shape == (60,)
    assert np.all(snap.inh_population > 0)   # inhibitory current is a positive magnitude


def test_balance_moves_the_regime(room):
    room.balance = 0.0
    for _ in range(8):
        room.step()
    assert room.regime == "saturated"
    room.balance = 1.0
    for _ in range(8):
        room.step()
    assert room.regime == "asynchronous"


def test_local_rule_switched_on_mid_run_pulls_rates_to_targets(room):
    room.balance = 0.3
    for _ in range(8):
        room.step()
    before = room.snapshot.target_error[-50:].mean()
    assert room.regime == "saturated"
    room.adaptation = "local rule"
    for _ in range(80):
        room.step()
    after = room.snapshot.target_error[-50:].mean()
    assert after < 0.5 * before
    assert room.regime != "saturated"


def test_one_step_design_sets_inhibition_per_neuron(room):
    room.adaptation = "one-step"
    scale = room.reservoir.inh_scale[:, 0]
    assert scale.std() > 0.01 and np.all(scale >= 0)
    room.adaptation = "off"
    assert np.allclose(room.reservoir.inh_scale, room.balance)


def test_spectrum_shows_the_outlier_at_one_minus_g(room):
    for g in (0.5, 2.0):
        room.balance = g
        spectrum = room.compute_spectrum()
        assert spectrum.weights.shape == spectrum.jacobian.shape == (100,)
        assert spectrum.outlier.real == pytest.approx(1 - g, abs=0.15)


def test_memory_capacity_readout_leaves_the_live_state_alone(room):
    for _ in range(3):
        room.step()
    rates, steps = room.reservoir.rates.copy(), room.reservoir.step_count
    result = room.train()
    assert result.metric == "MC" and result.value > 3.0
    assert result.memory_curve.shape == (100,) and result.memory_curve[0] > 0.5
    assert room.reservoir.step_count == steps and np.array_equal(room.reservoir.rates, rates)


def test_narma_readout_gives_prediction_and_target(room):
    room.task = "NARMA-10"
    result = room.train()
    assert result.metric == "NRMSE" and 0 < result.value < 1.0
    assert result.prediction.shape == result.target.shape and len(result.target) > 100


def test_bad_parameters_are_rejected_and_the_network_kept(room):
    with pytest.raises(ValueError):
        room.n = 5          # outside the widget bounds
    previous = room.reservoir
    with pytest.raises(InvalidInputError, match="in-degree"):
        room.in_degree = 150
    assert room.reservoir is previous and room.in_degree == 20   # the value is put back
    with pytest.raises(InvalidInputError, match="lowest target"):
        room.target_low = 0.9
    assert room.target_low == 0.05 and room.reservoir is previous
    room.sweep_balances = [0.5, 9.0]
    with pytest.raises(InvalidInputError, match="sweep balances"):
        room.start_sweep()
    room.sweep_balances = [1.0]
    room.sweep_conditions = []
    with pytest.raises(InvalidInputError, match="static, adaptive"):
        room.start_sweep()
    assert room.sweep.state == "idle"


def test_close_stops_the_run(room):
    room.run()
    wait_for(lambda: room.live.state == "running")
    room.close()
    wait_for(lambda: room.live.state == "stopped")


def test_connectome_topology_runs_with_its_own_size(room):
    room.topology = "C. elegans"
    res = room.reservoir
    assert res.n == 302 and res.topology.names is not None
    assert 0.7 < res.topology.excitatory.mean() < 1.0     # GABAergic neurons are a minority
    for _ in range(4):
        room.step()
    assert room.snapshot.rates.shape == (100, 302) and room.regime


def test_pause_brings_the_run_back_and_step_continues_it(room):
    room.run()
    wait_for(lambda: room.steps > 2000)
    room.pause()
    held = room.reservoir.step_count
    assert room.snapshot.step == held                    # the run's exact state, shown
    assert room.step() == CHUNK_STEPS and room.reservoir.step_count == held + CHUNK_STEPS
    assert room.snapshot.times[-1] == held + CHUNK_STEPS
    room.run()
    wait_for(lambda: room.reservoir.step_count > held + 1000)
    assert room.step() == 0                              # stepping by hand waits for a pause


def test_changes_while_running_reach_the_running_network(room):
    room.run()
    wait_for(lambda: room.regime == "asynchronous")
    room.balance = 0.0
    wait_for(lambda: room.regime == "saturated")
    assert room.running and np.allclose(room.reservoir.inh_scale, 0.0)
    room.window = 40
    wait_for(lambda: room.snapshot.rates.shape == (40, 100))
    room.neuron = 7
    wait_for(lambda: room.snapshot.neuron == 7)
    room.n = 80                                          # a new network, run on
    wait_for(lambda: room.snapshot.rates.shape[1] == 80 and room.snapshot.step > 500)
    assert room.running


def test_a_dead_simulation_process_fails_the_run_and_the_next_run_starts_afresh(room):
    import os
    import signal
    room.run()
    wait_for(lambda: room.steps > 1000)
    os.kill(room._handover._worker.pid, signal.SIGKILL)     # the worker process dies
    wait_for(lambda: room.live.state == "failed")
    assert "stopped unexpectedly" in room.live.error
    held = room.reservoir.step_count                        # the run as of the latest frame
    assert room.step() == CHUNK_STEPS and room.reservoir.step_count == held + CHUNK_STEPS
    room.run()
    wait_for(lambda: room.reservoir.step_count > held + 1000)
