"""The worm room's model without a browser: the simulated default, preprocessing, neurons,
orders, anatomy, comparison, and bad input that must leave the room as it was."""

import numpy as np
import pandas as pd
import pytest

from engines.errors import InvalidInputError
from engines.worms import CANONICAL_NEURONS, anatomical_connectome
from lab.worms import WormRoom
from lab.worms import datasets

SIM = dict(sim_worms=2, sim_duration_s=120.0, sim_dt=0.6, sim_seed=3)


@pytest.fixture(scope="module")
def simulated_room():
    room = WormRoom(**SIM)
    assert room.wait_for_simulation(180)
    return room


@pytest.fixture
def room(simulated_room):
    """A fresh room on the cached simulation (the cache makes this instant)."""
    fresh = WormRoom(**SIM)
    assert fresh.source is not None
    return fresh


def plain_csv(path, traces: dict, dt=0.5, behaviour=None):
    n = len(next(iter(traces.values())))
    frame = pd.DataFrame({"time": np.arange(n) * dt, **traces})
    for key, values in (behaviour or {}).items():
        frame[f"behaviour:{key}"] = values
    frame.to_csv(path, index=False)
    return path


def test_default_is_simulated_and_says_so(simulated_room):
    room = simulated_room
    assert room.dataset == datasets.SIMULATED and "simulated" in room.dataset
    assert room.task.state == "finished"
    assert room.recording.simulated and "SIMULATED" in room.status
    assert all(name.startswith("simulated") for name in room.source.names())


def test_simulation_parameters_reach_the_engine(room):
    assert room.source.names() == ["simulated worm 01", "simulated worm 02"]
    raw = room.source[room.worm]
    assert raw.n_time == 200 and raw.dt == pytest.approx(0.6)
    assert set(room.selected) <= set(room.recording.labelled_columns())
    assert room.param.time_s.bounds == (0.0, pytest.approx(raw.time[-1]))


def test_zscore_and_none_normalisation(room):
    raw = room.source[room.worm]
    room.normalisation = "none"
    np.testing.assert_array_equal(room.recording.traces, raw.traces)
    room.normalisation = "z-score"
    x = room.recording.traces
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-3)


def test_smoothing_and_derivative_change_the_traces_as_expected(room):
    room.normalisation = "none"
    rough = np.abs(np.diff(room.recording.traces, axis=0)).mean()
    room.smoothing, room.smoothing_sigma_s = "gaussian", 2.0
    assert np.abs(np.diff(room.recording.traces, axis=0)).mean() < 0.5 * rough
    room.smoothing, room.derivative = "none", True
    raw = room.source[room.worm]
    np.testing.assert_allclose(room.recording.traces, np.gradient(raw.traces, raw.time, axis=0),
                               rtol=1e-4, atol=1e-5)


def test_bilateral_merge_carries_the_selection(room):
    rec = room.recording
    pair = next(n for n in rec.labelled_columns() if n.endswith("L") and n[:-1] + "R" in rec.labelled_columns())
    room.selected = [pair]
    room.merge_bilateral = True
    cls = pair[:-1]
    assert room.selected == [cls]
    assert cls in room.recording.labelled_columns() and pair not in room.recording.labelled_columns()
    room.merge_bilateral = False
    assert pair in room.selected


def test_add_neuron_by_name_or_class_and_unknown_names(room):
    names = sorted(room.recording.labelled_columns())
    target = names[-1]
    room.add_neuron(target.lower())
    assert room.selected[-1] == target and room.focus == target
    before = list(room.selected)
    with pytest.raises(InvalidInputError, match="no identified neuron matches 'XYZ1'"):
        room.add_neuron("XYZ1")
    assert room.selected == before
    room.query = target[:2].lower()
    assert target in room.matches and all(m in names for m in room.matches)


def test_row_orders(room, tmp_path):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 40, 400)
    slow, fast = np.sin(t / 3), np.sign(np.sin(t * 2))
    traces = {"AVAL": slow + 0.05 * rng.standard_normal(400), "URXL": fast + 0.05 * rng.standard_normal(400),
              "AVAR": slow + 0.05 * rng.standard_normal(400), "URXR": fast + 0.05 * rng.standard_normal(400),
              "roi_9": rng.standard_normal(400)}
    room.load_path(plain_csv(tmp_path / "four.csv", traces, dt=0.1))
    _, values, names = room.heatmap_rows()
    assert names == ["AVAL", "AVAR", "URXL", "URXR", "#4"] and values.shape == (5, 400)
    room.order = "clustering"
    _, _, names = room.heatmap_rows()
    pos = {n: i for i, n in enumerate(names)}
    assert abs(pos["AVAL"] - pos["AVAR"]) == 1 and abs(pos["URXL"] - pos["URXR"]) == 1
    room.order = "connectome"
    _, values, names = room.heatmap_rows()
    assert sorted(names) == sorted(["AVAL", "AVAR", "URXL", "URXR", "#4"]) and names[-1] == "#4"
    np.testing.assert_array_equal(values[names.index("URXL")], room.recording.trace("URXL"))


def test_bad_preprocessing_is_rejected_and_the_previous_setting_kept(room, tmp_path):
    room.load_path(plain_csv(tmp_path / "signed.csv", {"AVAL": np.linspace(-1, 1, 50),
                                                       "AVAR": np.linspace(1, -1, 50)}))
    kept = room.recording
    with pytest.raises(InvalidInputError, match="dF/F needs positive raw fluorescence"):
        room.normalisation = "dF/F"
    assert room.normalisation == "z-score" and room.recording is kept


def test_bad_files_leave_the_room_as_it_was(room, tmp_path):
    dataset, worm = room.dataset, room.worm
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(InvalidInputError, match="broken.h5"):
        room.load_path(bad)
    with pytest.raises(InvalidInputError, match="no such file"):
        room.load_path(tmp_path / "missing.npz")
    with pytest.raises(InvalidInputError, match="unknown format"):
        room.load_upload([("notes.txt", b"hello")])
    assert (room.dataset, room.worm) == (dataset, worm)
    assert room.recording is not None


def test_upload_opens_a_new_dataset_and_shows_warnings(room, tmp_path):
    path = plain_csv(tmp_path / "mine.csv", {"AVAL": np.arange(30.0) + 1, "FOO1": np.ones(30)},
                     behaviour={"velocity": np.linspace(-0.1, 0.1, 30)})
    room.load_upload([("mine.csv", path.read_bytes())])
    assert room.dataset == "upload: mine.csv" and room.worm == "mine"
    assert room.recording.labels == ["AVAL", None]
    assert any("FOO1" in w for w in room.warnings)
    assert list(room.behaviour()) == ["velocity"]
    assert room.recording.provenance["file"] == "upload: mine.csv"
    assert not room.is_simulated


def test_partners_follow_the_anatomical_connectome(room):
    recorded = room.recording.labelled_columns()
    neuron = next(n for n in ("AVAL", "AVAR", "AVBL", "AVBR") if n in recorded)
    room.focus = neuron
    table = room.partners()
    engine = anatomical_connectome().partners(neuron)
    assert set(table["partner"]) == set(engine["partner"])
    assert (table["recorded"] == table["partner"].isin(recorded)).all()
    room.partner_kind = "gap junction"
    gaps = room.partners()
    assert set(gaps["kind"]) <= {"gap junction"} and len(gaps) == (engine["kind"] == "gap junction").sum()
    room.max_partners = 2
    assert len(room.partner_traces()) <= 2
    assert set(room.partner_traces()) <= set(gaps.loc[gaps["recorded"], "partner"])


def test_positions_coloured_by_activity_at_the_cursor(room):
    rec = room.recording
    room.time_s = float(rec.time[37])
    table = room.positions()
    labelled = rec.labelled_columns()
    assert set(table.index[table["recorded"]]) == set(labelled) & set(table.index)
    name = next(iter(labelled))
    assert table.loc[name, "activity"] == pytest.approx(float(rec.traces[37, labelled[name]]))
    assert table.loc[~table["recorded"], "activity"].isna().all()


def test_comparison_uses_only_shared_neurons(room):
    room.compare_worms = room.source.names()
    shared, per_worm = room.comparison()
    a, b = (room.source[w] for w in room.compare_worms)
    assert shared == [n for n in CANONICAL_NEURONS if n in set(a.labelled_columns()) & set(b.labelled_columns())]
    for time, values in per_worm.values():
        assert values.shape == (len(shared), time.size)


def test_stopping_a_new_simulation_keeps_the_current_data(room):
    before = room.source
    room.sim_seed = 99
    room.simulate()
    room.task.stop()
    assert room.task.state == "stopped"
    assert room.source is before and room.recording is not None


def test_shared_real_recordings_are_offered_when_present(shared_data, room):
    assert datasets.SHARED_LABEL in room.param.dataset.objects
    room.dataset = datasets.SHARED_LABEL
    rec = room.recording
    assert not rec.simulated and "SIMULATED" not in room.status
    _, values, names = room.heatmap_rows()
    assert values.shape == (rec.n_neurons, rec.n_time)
    assert "velocity" in room.behaviour()
    assert (room.events()["label"] == "reversal").any()
