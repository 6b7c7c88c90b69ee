"""The connectome room's model without a browser: the default pipeline, settings, bad input, actions."""
import io
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from engines.connectome.errors import (AllNaNTracesError, NoSharedNeuronsError, TooFewNeuronsError,
                                       TooFewWindowsError)
from engines.errors import InvalidInputError
from engines.worms import Collection, Recording, save_plain_npz
from engines.worms.simulate import MODULES
from lab.connectome import ConnectomeRoom

SMALL = dict(n_worms=2, duration_s=120.0, min_worm_fraction=1.0, rank=3, max_iter=30)


def wait(model, timeout=180.0):
    start = time.perf_counter()
    while model.task.is_alive:
        assert time.perf_counter() - start < timeout, f"still {model.task.state} after {timeout} s"
        time.sleep(0.05)
    return model.task.state


def wait_for_state(model, state, timeout=60.0):
    start = time.perf_counter()
    while model.task.state != state:
        assert time.perf_counter() - start < timeout, f"never {state}: {model.task.state}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def default_room():
    """The room as a user first meets it: press Build tensor with every default."""
    model = ConnectomeRoom()
    model.build()
    assert wait(model) == "finished", model.task.error
    return model


def test_defaults_build_factorise_and_find_communities(default_room):
    model = default_room
    n_windows, n_worms, n_pairs = model.tensor.shape
    assert (n_windows, n_worms) == (35, 4)                     # (360 - 20) / 10 + 1 windows, 4 worms
    assert n_pairs == len(model.tensor.neurons) * (len(model.tensor.neurons) - 1) // 2
    assert model.result.rank == model.rank and model.result.n_iter > 1
    assert sorted(model.communities) == list(range(model.rank))
    assert all(len(labels) == len(model.tensor.neurons) for labels in model.communities.values())
    assert model.task.steps_done == model.task.total_steps
    assert model.recordings_label.startswith("simulated")


def test_default_components_follow_the_planted_stimuli(default_room):
    summary = default_room.component_summary()
    best = summary.groupby("stimulus").stimulus_r.max()
    assert set(best.index) == {"salt", "oxygen"}, summary      # each stimulus has a component of its own
    assert (best > 0.5).all(), summary


def test_default_communities_recover_the_planted_modules(default_room):
    model = default_room
    module_of = {neuron: name for name, members in MODULES.items() for neuron in members}
    in_modules = [k for k, n in enumerate(model.tensor.neurons) if n in module_of]
    truth = [module_of[model.tensor.neurons[k]] for k in in_modules]
    scores = [normalized_mutual_info_score(truth, labels[in_modules]) for labels in model.communities.values()]
    assert max(scores) > 0.6, scores


def test_enrichment_scores_every_layer_with_valid_p_values(default_room):
    table = default_room.enrichment_table
    assert set(table.layer) == {"chemical", "gap junction", "signal propagation"}
    assert set(table.component) <= set(range(default_room.rank))
    assert table.p_value.between(1 / (default_room.n_shuffles + 1), 1).all()
    assert (table.q_value >= table.p_value - 1e-12).all()


def test_export_writes_factors_partitions_and_enrichment(default_room, tmp_path):
    paths = default_room.export(str(tmp_path))
    names = sorted(p.split("/")[-1] for p in paths)
    assert names == ["connectome_enrichment.csv", "connectome_factors.npz", "connectome_pair.csv",
                     "connectome_partitions.csv", "connectome_settings.json", "connectome_temporal.csv",
                     "connectome_worm.csv"]
    with np.load(tmp_path / "connectome_factors.npz") as npz:
        assert npz["temporal"].shape == (35, default_room.rank)
        np.testing.assert_allclose(npz["weights"], default_room.result.weights)
    partitions = pd.read_csv(tmp_path / "connectome_partitions.csv")
    assert list(partitions.neuron) == list(default_room.tensor.neurons)
    np.testing.assert_array_equal(partitions["component_0/leiden"], default_room.communities[0])
    archive = zipfile.ZipFile(io.BytesIO(default_room.export_zip()))
    assert sorted(archive.namelist()) == names


def test_component_views_are_ordered_by_community(default_room):
    matrix, names, labels = default_room.component_matrix(0)
    assert matrix.shape == (len(names),) * 2 and np.allclose(matrix, matrix.T)
    assert sorted(names) == sorted(default_room.tensor.neurons)
    changes = np.count_nonzero(np.diff(labels))                 # each community is one block
    assert changes == len(np.unique(labels)) - 1
    nodes, edges = default_room.community_graph(0)
    assert len(nodes) == len(names) and len(edges) > 0
    assert default_room.neuron_positions().notna().all().all()


def test_settings_reach_the_engine():
    model = ConnectomeRoom(**SMALL, affinity="kernel", window_s=30.0, step_s=15.0, factorise_after_build=False)
    model.build()
    assert wait(model) == "finished", model.task.error
    assert model.tensor.affinity == "kernel"
    assert model.tensor.shape[:2] == (7, 2)                     # (120 - 30) / 15 + 1 windows
    assert (model.tensor.window_s, model.tensor.step_s) == (30.0, 15.0)
    assert model.result is None and model.communities == {}


def test_sbm_communities_and_rank_sweep():
    model = ConnectomeRoom(**SMALL, community_method="sbm", max_blocks=3, sweep_from=1, sweep_to=3, n_restarts=2)
    model.build()
    assert wait(model) == "finished", model.task.error
    assert all(len(np.unique(labels)) <= 3 for labels in model.communities.values())
    model.sweep()
    assert wait(model) == "finished", model.task.error
    assert list(model.sweep_summary["rank"]) == [1, 2, 3]
    assert len(model.sweep_fits) == 6
    assert model.recommended_rank in (1, 2, 3) and f"rank {model.recommended_rank}" in model.recommendation
    model.use_recommended_rank()                                # sets the rank and refits at it
    assert model.rank == model.recommended_rank
    assert wait(model) == "finished", model.task.error
    assert model.result.rank == model.recommended_rank


@pytest.mark.parametrize("settings, error", [
    (dict(window_s=100.0, step_s=100.0, rank=5), TooFewWindowsError),      # 2 windows for rank 5
    (dict(window_s=20.0, step_s=30.0), InvalidInputError),                  # step longer than window
    (dict(affinity="mutual_information", window_s=6.0, step_s=3.0), TooFewWindowsError),  # 10 samples
    (dict(window_s=200.0, step_s=10.0), TooFewWindowsError),                # longer than the recording
    (dict(affinity="kernel", kernel_lag_s=10.0, window_s=20.0, step_s=10.0), TooFewWindowsError),  # lag > window/2
])
def test_bad_settings_are_refused_before_any_work(settings, error):
    model = ConnectomeRoom(**{**SMALL, **settings})
    with pytest.raises(error):
        model.build()
    assert model.task.state == "idle" and model.tensor is None


def recording(name, labels, traces=None, n_time=300, dt=0.5, seed=0):
    rng = np.random.default_rng(seed)
    traces = rng.standard_normal((n_time, len(labels))) if traces is None else traces
    return Recording(name=name, time=np.arange(n_time) * dt, traces=traces, labels=labels)


def test_recordings_without_shared_neurons_are_refused():
    model = ConnectomeRoom(rank=2)
    model.load_collection(Collection("disjoint", [recording("a", ["AVAL", "AVAR", "AVBL"]),
                                                  recording("b", ["ASEL", "ASER", "AWCL"], seed=1)]))
    with pytest.raises(NoSharedNeuronsError, match="share no neuron"):
        model.build()
    assert model.task.state == "idle"


def test_all_nan_recordings_are_refused():
    model = ConnectomeRoom(rank=2)
    nan = np.full((300, 3), np.nan)
    model.load_collection(Collection("nan", [recording("a", ["AVAL", "AVAR", "AVBL"]),
                                             recording("b", ["AVAL", "AVAR", "AVBL"], traces=nan)]))
    with pytest.raises(AllNaNTracesError, match="every trace is NaN"):
        model.build()


def test_too_few_shared_neurons_for_the_rank_are_refused():
    model = ConnectomeRoom(rank=5, window_s=10.0, step_s=5.0)
    model.load_collection(Collection("two", [recording("a", ["AVAL", "AVAR", "AVBL"]),
                                             recording("b", ["AVAL", "AVAR", "ASEL"], seed=1)]))
    with pytest.raises(TooFewNeuronsError, match="fewer than the rank 5"):
        model.build()                                           # AVAL, AVAR: one pair


def test_upload_round_trip_and_a_bad_upload_keeps_the_previous_one(tmp_path):
    labels = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR"]
    save_plain_npz(recording("uploaded worm", labels), tmp_path / "worm.npz")
    model = ConnectomeRoom(rank=2, window_s=10.0, step_s=5.0, max_iter=20)
    model.load_upload([("worm.npz", (tmp_path / "worm.npz").read_bytes())])
    assert model.source == "upload" and model.uploaded.label == "worm.npz"
    with pytest.raises(InvalidInputError):
        model.load_upload([("broken.npz", b"not a numpy archive")])
    assert model.uploaded.label == "worm.npz"
    model.build()
    assert wait(model) == "finished", model.task.error
    assert model.tensor.shape == (29, 1, 15) and model.tensor.worm_names == ("worm",)   # named after the file


def test_server_paths_are_read_inside_the_data_folder_only(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURAL_LAB_DATA", raising=False)
    labels = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR"]
    save_plain_npz(recording("on disk", labels), tmp_path / "worm.npz")
    model = ConnectomeRoom(rank=2, window_s=10.0, step_s=5.0, max_iter=20, source="data folder",
                           path=str(tmp_path / "worm.npz"))
    with pytest.raises(InvalidInputError, match="Recordings on the server are off.*NEURAL_LAB_DATA"):
        model.build()
    monkeypatch.setenv("NEURAL_LAB_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    with pytest.raises(InvalidInputError, match="outside the lab's data folder"):
        model.build()
    model.path = "../worm.npz"
    with pytest.raises(InvalidInputError, match="outside the lab's data folder"):
        model.build()
    (tmp_path / "worm.npz").rename(tmp_path / "data" / "worm.npz")
    model.path = "worm.npz"
    model.build()
    assert wait(model) == "finished", model.task.error
    assert model.recordings_label == "worm.npz" and model.tensor.worm_names == ("worm",)


def test_a_refused_setting_keeps_the_previous_results():
    model = ConnectomeRoom(**SMALL, factorise_after_build=False)
    model.build()
    assert wait(model) == "finished", model.task.error
    tensor = model.tensor
    model.rank = 30
    with pytest.raises(TooFewWindowsError):
        model.factorise()
    assert model.tensor is tensor and model.task.state == "finished"


def test_pause_resume_stop_and_reset():
    model = ConnectomeRoom(**{**SMALL, "max_iter": 2000, "tol": 0.0})
    model.build()
    wait_for_state(model, "running")
    model.pause()
    wait_for_state(model, "paused")
    time.sleep(0.5)                  # the step in flight when Pause came lands, and its count is shown
    paused_at = model.task.steps_done
    time.sleep(0.5)
    assert model.task.steps_done == paused_at                  # nothing advances while paused
    model.resume()
    wait_for_state(model, "running")
    model.stop()
    assert wait(model) == "stopped"
    model.reset()
    assert model.tensor is None and model.result is None and model.communities == {}
    with pytest.raises(InvalidInputError, match="Build the tensor first"):
        model.factorise()


def test_a_selected_neuron_lists_its_community_ties_and_synapses(default_room):
    model = default_room
    assert model.selected_in(0) is None                         # nothing picked yet
    neuron = model.tensor.neurons[3]
    model.selected_neuron = neuron
    selected = model.selected_in(0)
    i = model.tensor.neurons.index(neuron)
    assert selected["neuron"] == neuron and selected["community"] == model.communities[0][i]
    ties = selected["ties"]
    matrix, names, _ = model.component_matrix(0)
    row = pd.Series(matrix[names.index(neuron)], index=names).drop(neuron).sort_values(ascending=False)
    assert list(ties.partner) == list(row.index[:len(ties)]) and np.allclose(ties.weight, row.iloc[:len(ties)])
    assert (selected["synapses"].weight > 0).all()
    model.selected_neuron = "not a neuron"
    assert model.selected_in(0) is None
    model.selected_neuron = ""
