"""The one sources module for recordings: server paths only inside the operator's data folder,
uploads of several files within the lab's upload limit, a Flavell file with its labels table."""
import os
import pickle

import h5py
import numpy as np
import pandas as pd
import pytest

from engines.errors import InvalidInputError
from engines.worms import LazyCollection, Recording, save_plain_npz
from engines.worms.loaders import FORMATS
from engines.worms.loaders.safe_pickle import UnsafePickleError
from lab import recordings
from lab.settings import SettingsError, current
from lab.uploads import check_size, websocket_cap_bytes
from tests.engines.worms.conftest import flavell_arrays

LABELS = ["AVAL", "AVAR", "AVBL"]


def recording(name, labels, n_time=50):
    traces = np.random.default_rng(0).standard_normal((n_time, len(labels)))
    return Recording(name=name, time=np.arange(n_time) * 0.5, traces=traces, labels=labels)


def flavell_pair(folder, uid="w1"):
    traces, time, reversal = flavell_arrays()
    with h5py.File(folder / f"{uid}-data.h5", "w") as f:
        f["gcamp/trace_array"] = traces
        f["timing/timestamp_confocal"] = time
        f["behavior/reversal_vec"] = reversal
    pd.DataFrame({"trace_column_1based": [2, 5], "label": ["AVAL", "AVAR"]}).to_csv(
        folder / f"{uid}-labels.csv", index=False)
    return folder / f"{uid}-data.h5", folder / f"{uid}-labels.csv"


# ---- server paths -----------------------------------------------------------------------------
def test_server_paths_are_off_unless_a_data_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURAL_LAB_DATA", raising=False)
    save_plain_npz(recording("w", LABELS), tmp_path / "w.npz")
    with pytest.raises(InvalidInputError, match=r"switched off.*NEURAL_LAB_DATA.*Upload your files instead"):
        recordings.open_path(tmp_path / "w.npz")
    assert recordings.data_folder_recordings() == {}


def test_paths_are_relative_to_the_data_folder_and_absolute_ones_inside_it_work(data_folder):
    save_plain_npz(recording("w", LABELS), data_folder / "w.npz")
    assert recordings.open_path("w.npz").names() == ["w"]
    assert recordings.open_path(str(data_folder / "w.npz")).names() == ["w"]
    assert recordings.server_path("./sub/../w.npz") == (data_folder / "w.npz").resolve()


@pytest.mark.parametrize("escape", ["../outside.npz", "{outside}", "link.npz", "linked-folder/w.npz"])
def test_paths_resolving_outside_the_data_folder_are_refused(tmp_path, monkeypatch, escape):
    inside, outside = tmp_path / "data", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    save_plain_npz(recording("secret", LABELS), outside / "w.npz")
    save_plain_npz(recording("secret", LABELS), tmp_path / "outside.npz")
    (inside / "link.npz").symlink_to(outside / "w.npz")
    (inside / "linked-folder").symlink_to(outside)
    monkeypatch.setenv("NEURAL_LAB_DATA", str(inside))
    with pytest.raises(InvalidInputError, match=r"lies outside the lab's data folder; only files and folders inside"):
        recordings.open_path(escape.format(outside=tmp_path / "outside.npz"))


def test_a_companion_file_linking_outside_is_refused(tmp_path, monkeypatch):
    inside = tmp_path / "data"
    inside.mkdir()
    flavell_pair(inside)
    (inside / "w1-labels.csv").unlink()
    (inside / "w1-labels.csv").symlink_to(tmp_path / "secret.csv")
    (tmp_path / "secret.csv").write_text("password\n")
    monkeypatch.setenv("NEURAL_LAB_DATA", str(inside))
    with pytest.raises(InvalidInputError, match="'w1-labels.csv' beside 'w1-data.h5' links outside"):
        recordings.open_path("w1-data.h5")
    with pytest.raises(InvalidInputError, match="links outside the lab's data folder"):
        recordings.open_path(".")


def test_a_missing_path_says_where_it_looked(data_folder):
    with pytest.raises(InvalidInputError, match="no file or folder 'nope.h5' in the data folder"):
        recordings.open_path("nope.h5")


def test_folders_of_flavell_files_in_the_data_folder_are_offered(data_folder):
    (data_folder / "lab-a").mkdir()
    flavell_pair(data_folder / "lab-a", "w1")
    flavell_pair(data_folder / "lab-a", "w2")
    offered = recordings.data_folder_recordings()
    assert offered == {"lab-a: 2 Flavell-lab recordings (data folder)": data_folder / "lab-a"}
    dataset = recordings.open_path(offered.popitem()[1])
    assert isinstance(dataset, LazyCollection) and dataset.names() == ["w1", "w2"]
    assert dataset["w1"].labels.count("AVAL") == 1  # the labels table beside it was read


def test_pickles_opened_from_a_path_never_run(data_folder):
    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {data_folder / 'ran'}",)
    (data_folder / "evil.pkl").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UnsafePickleError, match="posix.system"):
        recordings.open_path("evil.pkl")
    assert not (data_folder / "ran").exists()


# ---- uploads ----------------------------------------------------------------------------------
def test_an_upload_of_several_files_with_a_flavell_labels_table(tmp_path):
    h5, labels = flavell_pair(tmp_path)
    save_plain_npz(recording("second worm", LABELS), tmp_path / "second.npz")
    files = [(p.name, p.read_bytes()) for p in (h5, labels, tmp_path / "second.npz")]
    collection = recordings.open_uploads(files)
    assert collection.names() == ["w1", "second"]
    assert collection["w1"].labels.count("AVAL") == 1 and collection["w1"].labels.count("AVAR") == 1
    assert collection["w1"].provenance["file"] == "upload: w1-data.h5"


def test_an_upload_of_only_a_labels_table_says_what_is_missing(tmp_path):
    _, labels = flavell_pair(tmp_path)
    with pytest.raises(InvalidInputError, match="Only label or events tables were uploaded"):
        recordings.open_uploads([(labels.name, labels.read_bytes())])


def test_upload_names_cannot_leave_the_temporary_folder(tmp_path):
    save_plain_npz(recording("w", LABELS), tmp_path / "w.npz")
    collection = recordings.open_uploads([("../../w.npz", (tmp_path / "w.npz").read_bytes())])
    assert collection.names() == ["w"]
    with pytest.raises(InvalidInputError, match="no usable file name"):
        recordings.open_uploads([("..", b"x")])


def test_uploads_over_the_limit_are_refused_with_the_limit_named(monkeypatch):
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", "1")
    big = b"0" * (2**20 + 1)
    with pytest.raises(InvalidInputError, match=r"a.csv, b.csv is 1.0 MB; uploads to this lab are limited to 1 MB"):
        recordings.open_uploads([("a.csv", big[: 2**19 + 1]), ("b.csv", big[: 2**19])])
    check_size([("a.csv", big[: 2**20])])  # exactly at the limit is fine


def test_the_accept_filter_is_the_loaders_formats():
    assert recordings.ACCEPT.split(",") == list(FORMATS)


# ---- settings ---------------------------------------------------------------------------------
def test_settings_defaults_and_parse_errors(monkeypatch):
    for name in ("NEURAL_LAB_DATA", "NEURAL_LAB_UPLOAD_MB", "NEURAL_LAB_SLOTS", "NEURAL_LAB_WORKER_MEMORY_MB"):
        monkeypatch.delenv(name, raising=False)
    settings = current()
    assert settings.data_folder is None and settings.upload_limit_mb == 50
    assert settings.slots == max((os.cpu_count() or 1) - 1, 1)
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", "lots")
    with pytest.raises(SettingsError, match="NEURAL_LAB_UPLOAD_MB='lots' is not a number"):
        current()
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", "500")
    with pytest.raises(SettingsError, match="must be at least 0.001 and at most 70"):
        current()
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", "10")
    monkeypatch.setenv("NEURAL_LAB_DATA", "/no/such/folder")
    with pytest.raises(SettingsError, match="is not a folder on this machine"):
        current()
    monkeypatch.setenv("NEURAL_LAB_DATA", "")
    monkeypatch.setenv("NEURAL_LAB_WORKER_MEMORY_MB", "none")
    assert current().worker_memory_bytes is None and current().upload_limit_bytes == 10 * 2**20


def test_the_websocket_cap_carries_twice_the_limit_within_tornados_buffer():
    assert websocket_cap_bytes(5 * 2**20) == 20 * 2**20           # never below Bokeh's default
    assert websocket_cap_bytes(30 * 2**20) == 81 * 2**20          # 2 x 4/3 x 30 MB + 1 MB
    assert websocket_cap_bytes(70 * 2**20) == 99 * 2**20          # Tornado buffers 100 MB
