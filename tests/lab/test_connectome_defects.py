"""The connectome room's defects from the journeys issue, at the model: sources follow the data
folder, a recording without identified neurons says so, a failed build leaves no stale results,
"Use recommended rank" refits, and the export records the settings that produced it."""
import io
import json
import zipfile

import pytest

from engines.connectome.errors import UnidentifiedNeuronsError
from engines.errors import InvalidInputError
from lab.connectome import ConnectomeRoom
from lab.connectome.plan import PATHS_OFF, data_folder_choices
from tests.lab.connectome_files import NEURONS, write_flavell
from tests.lab.polling import wait_for

SMALL = dict(n_worms=2, duration_s=120.0, min_worm_fraction=1.0, rank=3, max_iter=30)
FLAVELL = dict(rank=2, window_s=30.0, step_s=15.0, max_iter=30, n_shuffles=50)


def finished(model, timeout=180.0):
    wait_for(lambda: not model.task.is_alive, timeout)
    return model.task.state


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    (folder / "flavell").mkdir(parents=True)
    monkeypatch.setenv("NEURAL_LAB_DATA", str(folder))
    return folder


def test_without_a_data_folder_the_room_offers_simulated_and_upload_only(monkeypatch):
    monkeypatch.delenv("NEURAL_LAB_DATA", raising=False)
    model = ConnectomeRoom()
    assert model.param.source.objects == ["simulated", "upload"]
    assert model.path == "" and data_folder_choices() == []
    assert "NEURAL_LAB_DATA" in PATHS_OFF                    # the room says how to switch paths on


def test_with_a_data_folder_its_recordings_are_offered(data_folder):
    write_flavell(data_folder / "flavell")
    model = ConnectomeRoom()
    assert model.param.source.objects == ["simulated", "data folder", "upload"]
    assert data_folder_choices() == ["flavell"]


def test_an_upload_without_labels_says_no_neuron_is_identified_and_how_to_fix_it(tmp_path):
    model = ConnectomeRoom(**FLAVELL)
    files = [(path.name, path.read_bytes()) for path in write_flavell(tmp_path, labels=False)]
    with pytest.raises(UnidentifiedNeuronsError, match=r"No neuron of 2023-01-01-01 is identified") as error:
        model.load_upload(files)
    assert "2023-01-01-01-labels.csv" in str(error.value) and "NaN" not in str(error.value)
    assert model.uploaded is None
    files = [(path.name, path.read_bytes()) for path in write_flavell(tmp_path, labels=True)]
    model.load_upload(files)                                  # with its labels it is read
    model.build()
    assert finished(model) == "finished", model.task.error
    assert set(model.tensor.neurons) == set(NEURONS) and model.result.rank == 2


def test_a_failed_build_leaves_no_stale_summary_or_stage(data_folder):
    model = ConnectomeRoom(**SMALL)
    model.build()
    assert finished(model) == "finished", model.task.error
    write_flavell(data_folder / "flavell", labels=False)
    model.param.update(source="data folder", path="flavell", **FLAVELL)
    model.build()                                             # the file is read in the task
    assert finished(model) == "failed"
    assert model.tensor is None and model.result is None and model.recordings_label == ""
    assert model.stage.startswith("failed: No neuron of 2023-01-01-01 is identified"), model.stage
    assert "labels.csv" in model.stage and "reading" not in model.stage


def test_a_folder_with_some_unlabelled_recordings_uses_the_labelled_ones_and_says_so(data_folder):
    write_flavell(data_folder / "flavell", uid="labelled", seed=1)
    write_flavell(data_folder / "flavell", uid="unlabelled", labels=False, seed=2)
    model = ConnectomeRoom(source="data folder", path="flavell", **FLAVELL)
    model.build()
    assert finished(model) == "finished", model.task.error
    assert model.tensor.worm_names == ("labelled",)
    assert "unlabelled-labels.csv" in model.produced_by["recordings"]["left_out"]


def test_use_recommended_rank_refits_and_the_export_records_every_setting():
    model = ConnectomeRoom(**SMALL, sweep_from=1, sweep_to=3, n_restarts=2, factorise_after_build=False)
    with pytest.raises(InvalidInputError, match="Run the rank sweep first"):
        model.use_recommended_rank()
    model.build()
    assert finished(model) == "finished", model.task.error
    model.factorise()
    assert finished(model) == "finished", model.task.error
    model.sweep()
    assert finished(model) == "finished", model.task.error
    model.rank = 4 if model.recommended_rank != 4 else 5     # a rank other than the recommended one
    model.use_recommended_rank()
    assert finished(model) == "finished", model.task.error
    assert model.result.rank == model.rank == model.recommended_rank
    archive = zipfile.ZipFile(io.BytesIO(model.export_zip()))
    document = json.loads(archive.read("connectome_settings.json"))
    settings = document["settings"]
    recorded = {name for stage in settings.values() for name in stage}
    assert set(model.url_parameters) <= recorded              # every parameter of the room
    assert settings["factorisation"]["rank"] == model.recommended_rank
    assert document["results"]["rank"] == model.recommended_rank
    assert settings["rank sweep"]["sweep_to"] == 3 and document["results"]["recommended_rank"] == model.recommended_rank
    assert {"python", "numpy", "tensorly", "leidenalg"} <= set(document["versions"])
    with archive.open("connectome_temporal.csv") as temporal:
        assert temporal.readline().decode().count("component_") == model.recommended_rank


def test_results_follow_the_settings_of_the_press_not_later_changes():
    model = ConnectomeRoom(**{**SMALL, "max_iter": 400, "tol": 0.0})
    model.build()
    model.rank, model.window_s = 2, 30.0                      # changed while it runs
    assert finished(model) == "finished", model.task.error
    assert model.result.rank == 3 and model.tensor.window_s == 20.0
    assert model.produced_by["factorisation"]["rank"] == 3


def test_with_a_dask_scheduler_named_the_sweep_runs_there_by_default_even_after_a_link_is_applied(monkeypatch):
    from views.shell import apply_url_values, url_values
    monkeypatch.setenv("NEURAL_LAB_DASK_SCHEDULER", "tcp://127.0.0.1:1")   # only read, never connected to here
    model = ConnectomeRoom()
    apply_url_values(model, {})                               # the shell opens the room from a link without it
    assert model.executor == "dask" and "executor" not in url_values(model)
    monkeypatch.delenv("NEURAL_LAB_DASK_SCHEDULER")
    assert ConnectomeRoom().executor == "serial"
