"""The worm room's model without a browser: the simulated default, preprocessing, neurons,
orders, anatomy, comparison, and bad input that must leave the room as it was."""

import numpy as np
import pandas as pd
import pytest

from engines.errors import InvalidInputError
from engines.worms import CANONICAL_NEURONS, anatomical_connectome
from engines.worms.simulation_params import SHAPING, SimulationParams
from engines.worms.statistics import reversal_runs
from lab.worms import WormRoom
from lab.worms.simulated import SIMULATED

SIM = dict(sim_worms=2, sim_duration_s=120.0, sim_dt=0.6, sim_seed=3)


@pytest.fixture(scope="module")
def simulated_room():
    room = WormRoom(**SIM)
    room.start()
    assert room.wait_for_simulation(180)
    return room


@pytest.fixture
def room(simulated_room):
    """A fresh room on the cached simulation (the cache makes this instant)."""
    fresh = WormRoom(**SIM)
    fresh.start()
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
    assert room.dataset == SIMULATED and "simulated" in room.dataset
    assert room.task.state == "finished"
    assert room.recording.simulated and "SIMULATED" in room.status
    assert all(name.startswith("simulated") for name in room.source.names())


def test_simulation_parameters_reach_the_engine(room):
    assert room.source.names() == ["simulated worm 01", "simulated worm 02"]
    raw = room.source[room.worm]
    assert raw.n_time == 200 and raw.dt == pytest.approx(0.6)
    assert set(room.selected) <= set(room.recording.labelled_columns())
    assert room.param.time_s.bounds == (0.0, pytest.approx(raw.time[-1]))


def test_shaping_parameters_are_offered_and_reach_the_engine(room):
    """Issue 20: the parameters that shape the statistics, with units, change the simulation."""
    settings = room.sim_settings
    assert set(settings.values()) == set(SHAPING)
    assert settings.param["forward_run_s"].label == "Forward run (s)"
    assert all(settings.param[name].doc for name in SHAPING)
    assert settings.params() == SimulationParams()                 # defaults: the engine's
    before = room.source[room.worm].behaviour["reversal_vec"]
    settings.forward_run_s = 3.0                                    # reverse far more often
    room.simulate()
    assert room.wait_for_simulation(180)
    after = room.source[room.worm].behaviour["reversal_vec"]
    assert reversal_runs(after).shape[0] > reversal_runs(before).shape[0]
    assert WormRoom(**SIM).sim_settings.forward_run_s == 11.0       # not shared between rooms


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


def test_row_orders(room, data_folder):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 40, 400)
    slow, fast = np.sin(t / 3), np.sign(np.sin(t * 2))
    traces = {"AVAL": slow + 0.05 * rng.standard_normal(400), "URXL": fast + 0.05 * rng.standard_normal(400),
              "AVAR": slow + 0.05 * rng.standard_normal(400), "URXR": fast + 0.05 * rng.standard_normal(400),
              "roi_9": rng.standard_normal(400)}
    room.load_path(plain_csv(data_folder / "four.csv", traces, dt=0.1))
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


def test_bad_preprocessing_is_rejected_and_the_previous_setting_kept(room, data_folder):
    room.load_path(plain_csv(data_folder / "signed.csv", {"AVAL": np.linspace(-1, 1, 50),
                                                       "AVAR": np.linspace(1, -1, 50)}))
    kept = room.recording
    with pytest.raises(InvalidInputError, match="dF/F needs positive raw fluorescence"):
        room.normalisation = "dF/F"
    assert room.normalisation == "z-score" and room.recording is kept


def test_bad_files_leave_the_room_as_it_was(room, data_folder):
    dataset, worm = room.dataset, room.worm
    bad = data_folder / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(InvalidInputError, match="broken.h5"):
        room.load_path("broken.h5")
    with pytest.raises(InvalidInputError, match="no file or folder 'missing.npz' in the data folder"):
        room.load_path("missing.npz")
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


def test_shared_real_recordings_are_offered_from_the_data_folder(shared_data_folder, simulated_room):
    room = WormRoom(**SIM)
    room.start()
    label = "flavell2023: 2 Flavell-lab recordings (data folder)"
    assert label in room.param.dataset.objects
    room.dataset = label
    rec = room.recording
    assert not rec.simulated and "SIMULATED" not in room.status
    _, values, names = room.heatmap_rows()
    assert values.shape == (rec.n_neurons, rec.n_time)
    assert "velocity" in room.behaviour()
    assert (room.events()["label"] == "reversal").any()


def test_nothing_is_read_or_simulated_until_start(data_folder):
    room = WormRoom(sim_worms=1, sim_duration_s=60.0, sim_seed=4321)
    assert room.task.state == "idle" and room.source is None and room.recording is None
    assert room.param.dataset.objects == [SIMULATED]


def test_a_link_may_name_the_worm_before_the_data_is_there(simulated_room):
    room = WormRoom(**SIM, worm="simulated worm 02", selected=["NOT_THERE"])
    room.start()
    assert room.worm == "simulated worm 02" and room.recording.name == "simulated worm 02"
    assert room.selected and "NOT_THERE" not in room.selected


def test_url_values_round_trip_through_the_shell(room):
    from views.shell import apply_url_values, url_values
    names = sorted(room.recording.labelled_columns())
    room.selected = names[:2]
    room.time_s, room.colour_by, room.path_from = 42.0, "correlation", names[0]
    values = url_values(room)
    assert values["selected"] == ",".join(names[:2]) and values["time_s"] == "42.0"
    fresh = WormRoom(**SIM)
    fresh.start()
    assert apply_url_values(fresh, values) == []
    assert fresh.selected == names[:2] and fresh.time_s == 42.0 and fresh.colour_by == "correlation"
    assert fresh.path_from == names[0]


def test_picking_a_neuron_selects_it_everywhere(room):
    rec = room.recording
    recorded = sorted(rec.labelled_columns())
    target = next(n for n in recorded if n not in room.selected)
    room.pick(target)
    assert room.selected[-1] == target and room.focus == target
    missing = next(n for n in rec.neuron_axis if n not in rec.labelled_columns())
    before = list(room.selected)
    room.pick(missing)  # not recorded: focused (its partners are listed), no trace to add
    assert room.focus == missing and room.selected == before
    with pytest.raises(InvalidInputError, match="not a neuron"):
        room.pick("XYZ")


def test_a_pick_at_a_neurons_3d_position_picks_it(room):
    table = room.positions()
    xyz = table[["x", "y", "z"]].to_numpy(dtype=float)
    gaps = np.linalg.norm(xyz[:, None] - xyz[None], axis=2) + np.eye(len(xyz)) * 99
    isolated = table.index[np.argsort(-gaps.min(axis=1))]   # clear of its neighbours
    name = next(n for n in isolated if table.loc[n, "recorded"] and n not in room.selected)
    point = table.loc[name, ["x", "y", "z"]].to_numpy(dtype=float) + np.array([0.0, 0.0, 0.02])
    assert room.pick_at(point, max_distance=0.05) == name
    assert room.focus == name and name in room.selected
    assert room.pick_at(point + 5.0, max_distance=0.05) is None and room.focus == name


def test_replay_frames_follow_the_cursor(room):
    frames, layout = room.replay()
    assert list(layout.index) == list(frames.nodes) == list(room.recording.neuron_axis)
    room.time_s = 37.3
    k = room.cursor_index()
    name = room.selected[0]
    trace = room.recording.trace(name)
    expected = (trace[k] - trace.min()) / (trace.max() - trace.min())
    assert frames.nodes_at(k)[frames.nodes.index(name)] == pytest.approx(expected, abs=1e-5)
    assert frames.recorded.sum() == len(room.recording.labelled_columns())


def test_neurons_coloured_by_correlation_with_a_reference(room):
    room.reference = "velocity"
    r = room.correlations()
    rec = room.recording
    name = room.selected[0]
    expected = np.corrcoef(rec.trace(name), rec.behaviour["velocity"])[0, 1]
    assert r[name] == pytest.approx(expected, abs=1e-6)
    room.colour_by, room.reference = "correlation", name
    values, label = room.neuron_values()
    assert values[name] == pytest.approx(1.0) and label == f"r with {name}"
    room.reference = "nonsense"
    with pytest.raises(InvalidInputError, match="nonsense"):
        room.correlations()
    room.colour_by = "activity"
    values, label = room.neuron_values()
    assert values[name] == pytest.approx(room.activity_at()[name]) and "z-score" in label


def test_paths_between_two_neurons(room):
    room.path_from, room.path_to, room.path_max_hops = "ashl", "AVAL", 3
    found = room.find_paths()
    assert found.hops == 1 and found.paths[0][0] == ("ASHL", "AVAL")
    room.path_to = "NOPE"
    assert "NOPE" in room.find_paths().message and not room.find_paths().paths
    room.merge_bilateral = True
    room.path_from, room.path_to = "ASH", "AVA"
    assert room.find_paths().paths[0][0] == ("ASH", "AVA")


def write_flavell(folder, uid="2024-01-01-01", labels=True, n_time=60, n_cols=6):
    import h5py
    rng = np.random.default_rng(0)
    path = folder / f"{uid}-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = rng.standard_normal((n_time, n_cols))
        f["timing/timestamp_confocal"] = 1000 + np.cumsum(rng.uniform(0.55, 0.65, n_time))
        f["behavior/velocity"] = np.linspace(-0.02, 0.05, n_time)
        f["behavior/reversal_vec"] = (np.arange(n_time) % 20 < 3).astype(np.int64)
    if labels:
        pd.DataFrame({"trace_column_1based": [1, 2, 4], "label": ["AVAL", "AVAR", "RIML"],
                      "confidence": [5.0, 5.0, 4.0]}).to_csv(folder / f"{uid}-labels.csv", index=False)
    return path


def test_a_recording_without_identified_neurons_says_what_to_add(room, tmp_path):
    path = write_flavell(tmp_path, labels=False)
    room.load_upload([(path.name, path.read_bytes())])
    assert room.recording.labelled_columns() == {}
    assert "No identified neurons" in room.notice and "2024-01-01-01-labels.csv" in room.notice
    assert room.selected == [] and room.focus == ""
    assert room.unplaced() == [f"#{c}" for c in range(6)]
    assert not room.positions()["recorded"].any()
    labelled = write_flavell(tmp_path, labels=True)
    room.load_upload([(labelled.name, labelled.read_bytes()),
                      ("2024-01-01-01-labels.csv", (tmp_path / "2024-01-01-01-labels.csv").read_bytes())])
    assert room.notice == "" and set(room.recording.labelled_columns()) == {"AVAL", "AVAR", "RIML"}
    assert room.selected and room.unplaced() == ["#2", "#4", "#5"]


def test_a_linked_dataset_survives_the_widgets_falling_back_before_it_loads(data_folder, simulated_room):
    (data_folder / "lab1").mkdir()
    write_flavell(data_folder / "lab1", uid="w1")
    room = WormRoom(**SIM)
    room.dataset = "lab1: 1 Flavell-lab recordings (data folder)"   # from the link
    room.worm = "w1"
    room.dataset, room.worm = SIMULATED, None                       # the page's widgets fall back
    room.start()
    assert room.dataset.startswith("lab1") and room.worm == "w1" and room.recording.name == "w1"
