import numpy as np
import pytest

from engines.worms import NEURON_INDEX, WormSimulator, simulate_collection


@pytest.fixture(scope="module")
def simulated():
    return simulate_collection(n_worms=4, duration_s=240.0, dt=0.6, seed=3)


def test_simulation_is_labelled_and_shaped(simulated):
    coll, truth = simulated
    assert len(coll) == 4 and "simulated" in coll.name
    for rec in coll:
        assert rec.simulated and rec.provenance["simulated"] is True
        assert rec.name.startswith("simulated")
        assert rec.traces.shape == (400, len(truth.recorded[rec.name]))
        assert 100 <= rec.n_neurons <= 150
        assert rec.labels == truth.recorded[rec.name]
        assert np.all(np.isfinite(rec.traces)) and np.all(rec.traces > 0)  # raw fluorescence


def test_deterministic_under_seed():
    a, _ = simulate_collection(n_worms=2, duration_s=60.0, seed=7)
    b, _ = simulate_collection(n_worms=2, duration_s=60.0, seed=7)
    c, _ = simulate_collection(n_worms=2, duration_s=60.0, seed=8)
    np.testing.assert_array_equal(a[0].traces, b[0].traces)
    assert a[0].labels != c[0].labels or not np.array_equal(a[0].traces, c[0].traces)


def _mean_corr(coll, group_a, group_b):
    values = []
    for rec in coll:
        aligned, mask = rec.aligned()
        ia = [NEURON_INDEX[n] for n in group_a if mask[NEURON_INDEX[n]]]
        ib = [NEURON_INDEX[n] for n in group_b if mask[NEURON_INDEX[n]]]
        for i in ia:
            for j in ib:
                if i != j:
                    values.append(np.corrcoef(aligned[:, i], aligned[:, j])[0, 1])
    return float(np.mean(values))


def test_modules_coactivate_more_within_than_across(simulated):
    coll, truth = simulated
    names = list(truth.modules)
    for m in names:
        within = _mean_corr(coll, truth.modules[m], truth.modules[m])
        across = max(_mean_corr(coll, truth.modules[m], truth.modules[o]) for o in names if o != m)
        assert within > 0.5 and within > across + 0.4, (m, within, across)


def test_reverse_module_tracks_reversal_epochs(simulated):
    coll, truth = simulated
    rec = coll[0]
    epochs = truth.state_epochs[truth.state_epochs["worm"] == rec.name]
    reversing = np.zeros(rec.n_time, dtype=bool)
    for _, ep in epochs[epochs["state"] == "reverse"].iterrows():
        reversing |= (rec.time >= ep["start_s"]) & (rec.time <= ep["end_s"])
    np.testing.assert_array_equal(reversing, rec.behaviour["reversal_vec"] > 0)
    ava = next(n for n in ("AVAL", "AVAR", "AVEL", "AVER", "RIML", "RIMR") if n in rec.labelled_columns())
    trace = rec.trace(ava)
    assert trace[reversing].mean() > trace[~reversing].mean()


def test_stimulus_epochs_drive_their_sensors(simulated):
    coll, truth = simulated
    salt = truth.stimulus_epochs[truth.stimulus_epochs["label"] == "salt"]
    assert len(salt) >= 3 and set(truth.stimulus_epochs["label"]) == {"salt", "oxygen"}
    for rec in coll:
        stim = rec.events[rec.events["kind"] == "stimulus"]
        assert len(stim) == len(truth.stimulus_epochs)


def test_stepwise_runner_matches_one_shot_and_restores():
    one_shot = WormSimulator(n_worms=2, duration_s=30.0, dt=0.5, seed=5)
    one_shot.advance(60)
    sim = WormSimulator(n_worms=2, duration_s=30.0, dt=0.5, seed=5)
    sim.advance(20)
    snap = sim.snapshot()
    sim.advance(15)
    np.testing.assert_array_equal(sim.calcium_trace[:, :35], one_shot.calcium_trace[:, :35])
    sim.restore(snap)
    assert sim.samples_done == 20
    assert sim.advance(1000) == 40  # clipped at the end of the schedule
    assert sim.samples_done == sim.n_time == 60
    np.testing.assert_array_equal(sim.calcium_trace, one_shot.calcium_trace)
    partial = WormSimulator(n_worms=2, duration_s=30.0, dt=0.5, seed=5)
    partial.advance(25)
    assert partial.collection()[0].n_time == 25
