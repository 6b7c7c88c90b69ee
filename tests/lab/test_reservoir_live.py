"""The reservoir room's live run: the window's ring, the run, its stepper and worker process."""
import os
import pickle
import time

import numpy as np
import pytest

from engines.reservoir.params import ReservoirParams
from engines.reservoir.simulator import BatchedReservoir, Reservoir, Trace
from lab.reservoir.live import LiveRun, LiveWindow
from lab.reservoir.stepper import LiveStepper
from lab.worker import Worker

SMALL = ReservoirParams(n=60, in_degree=10)


def trace(first_step, steps, n=3):
    """Rates that encode their step (t + neuron / 10) and currents that follow them."""
    t = first_step + 1 + np.arange(steps)[:, None]
    rates = (t + np.arange(n) / 10).astype(np.float32)
    return Trace(rates, rates + 1, rates + 2, np.zeros((steps, 1)), np.zeros(n), first_step)


def test_window_keeps_the_last_steps_in_order_across_the_ring():
    window = LiveWindow(3, 5)
    assert len(window) == 0 and window.snapshot(0, np.zeros(3), 0).rates.shape == (0, 3)
    step = 0
    for steps in (3, 4, 1, 12, 2):
        window.append(trace(step, steps))
        step += steps
        snap = window.snapshot(step, np.zeros(3), neuron=1)
        shown = min(step, 5)
        assert list(snap.times) == list(range(step - shown + 1, step + 1))
        assert np.allclose(snap.rates[:, 0], snap.times) and np.allclose(snap.exc_neuron, snap.times + 1.1)
        assert np.allclose(snap.inh_population, snap.times + 2.1)
        assert np.allclose(snap.target_error, snap.times + 0.1)      # targets are 0
        assert np.allclose(snap.mean_rates, snap.times.mean() + np.arange(3) / 10)


def test_a_run_records_only_the_window_and_its_input_does_not_depend_on_chunks():
    one = LiveRun(Reservoir(SMALL), window=50, input_seed=7)
    two = LiveRun(Reservoir(SMALL), window=50, input_seed=7)
    one.advance(1000)
    for steps in (30, 270, 700):
        two.advance(steps)
    for run in (one, two):
        snap = run.snapshot(neuron=0)
        assert run.reservoir.step_count == snap.step == 1000
        assert list(snap.times) == list(range(951, 1001))
        assert snap.exc_population.shape == snap.rates[:, 0].shape and np.all(snap.inh_population > 0)
    assert one.inputs.bit_generator.state == two.inputs.bit_generator.state


def test_a_run_survives_the_trip_to_another_process():
    run = LiveRun(Reservoir(SMALL), window=20, input_seed=1)
    run.advance(100)
    back = pickle.loads(pickle.dumps(run))
    assert back.reservoir.step_count == 100 and np.array_equal(back.reservoir.rates, run.reservoir.rates)
    assert np.array_equal(back.snapshot(0).rates, run.snapshot(0).rates)
    assert back.advance(10) == 10


def wait_for_message(stepper, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = stepper.next_message(0.1)
        if message is not None and predicate(message):
            return message
    raise AssertionError("no such message in time")


def test_the_stepper_steps_a_run_applies_changes_and_hands_the_run_back():
    stepper = LiveStepper()
    stepper.run(LiveRun(Reservoir(SMALL), window=40, input_seed=3), dict(frame_rate=20.0), generation=1)
    kind, generation, (snapshot, state) = wait_for_message(stepper, lambda m: m[2][0].step > 2000)
    assert (kind, generation) == ("frame", 1) and snapshot.rates.shape == (40, 60) and state.step >= snapshot.step
    stepper.update(dict(live=[(BatchedReservoir.set_balance, 2.5)], neuron=5, window=25), generation=2)
    _, _, (snapshot, state) = wait_for_message(stepper, lambda m: m[1] == 2)
    assert np.allclose(state.inh_scale, 2.5) and snapshot.neuron == 5 and len(snapshot.times) <= 25
    run = stepper.pause(generation=3)
    held = run.reservoir.step_count
    assert np.allclose(run.reservoir.inh_scale, 2.5) and held >= state.step
    time.sleep(0.2)
    stepper.next_message(0.1)                      # a frame made before the pause, if any
    assert stepper.next_message(0.3) is None and run.reservoir.step_count == held   # paused


def test_runaway_activity_ends_the_run_with_a_message():
    runaway = ReservoirParams(n=60, in_degree=10, activation="linear", gain=40.0, balance=0.0)
    stepper = LiveStepper()
    stepper.run(LiveRun(Reservoir(runaway), window=20, input_seed=0), {}, generation=1)
    kind, _, (message, run, snapshot) = wait_for_message(stepper, lambda m: m[0] == "failed")
    assert "runaway" in message and snapshot.regime == "runaway" and run.reservoir.step_count > 0


def test_the_run_steps_in_a_worker_process():
    worker = Worker(LiveStepper, name="reservoir-simulation-test")
    try:
        assert worker.pid != os.getpid()
        stepper = worker.remote
        stepper.run(LiveRun(Reservoir(SMALL), window=30, input_seed=2), {}, 1)
        deadline = time.monotonic() + 30
        while (message := stepper.next_message(0.1)) is None or message[2][0].step < 1000:
            assert time.monotonic() < deadline
        assert stepper.pause(2).reservoir.step_count >= message[2][0].step
    finally:
        worker.close()
    assert not worker.alive
