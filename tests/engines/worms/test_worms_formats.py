"""Each loader against a small file the test writes in that format."""
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.io

from engines.errors import InvalidInputError
from engines.worms import (load, load_harmonised_parquet, load_harmonised_pickle, load_kato_mat,
                           load_plain_csv, load_plain_npz, save_plain_npz)
from engines.worms.loaders import list_worms
from engines.worms.neurons import CANONICAL_NEURONS, NEURON_INDEX


# ---- plain CSV / NPZ -------------------------------------------------------------------
def test_plain_csv_columns_behaviour_and_events(tmp_path):
    time = 5 + 0.5 * np.arange(6)
    table = pd.DataFrame({"time": time, "AVAL": np.arange(6.0), "roi_7": np.ones(6),
                          "behaviour:velocity": np.linspace(0, 1, 6)})
    table.to_csv(tmp_path / "w.csv", index=False)
    pd.DataFrame({"kind": ["stimulus"], "start_s": [1.0], "end_s": [2.0], "label": ["salt"]}).to_csv(
        tmp_path / "w-events.csv", index=False)
    rec = load_plain_csv(tmp_path / "w.csv")
    np.testing.assert_allclose(rec.time, 0.5 * np.arange(6))
    assert rec.labels == ["AVAL", None]
    assert any("roi_7" in w for w in rec.warnings)
    np.testing.assert_array_equal(rec.trace("AVAL"), np.arange(6.0))
    np.testing.assert_allclose(rec.behaviour["velocity"], np.linspace(0, 1, 6))
    assert rec.events.iloc[0]["label"] == "salt" and rec.events.iloc[0]["end_s"] == 2.0


def test_plain_csv_without_time_column(tmp_path):
    pd.DataFrame({"AVAL": [1.0, 2.0]}).to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(InvalidInputError, match=r"w.csv.*'time'"):
        load(tmp_path / "w.csv")


def test_plain_csv_with_unsorted_time(tmp_path):
    pd.DataFrame({"time": [0.0, 2.0, 1.0], "AVAL": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(InvalidInputError, match="not strictly increasing"):
        load(tmp_path / "w.csv")


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "a.npz", time=np.arange(8) * 0.25, traces=rng.standard_normal((8, 3)),
             labels=np.array(["AVAL", "", "RIML"]), behaviour_pumping=np.ones(8),
             events_kind=np.array(["behaviour"]), events_start_s=np.array([0.5]),
             events_end_s=np.array([1.0]), events_label=np.array(["reversal"]))
    rec = load_plain_npz(tmp_path / "a.npz")
    assert rec.labels == ["AVAL", None, "RIML"] and rec.behaviour["pumping"].sum() == 8
    save_plain_npz(rec, tmp_path / "b.npz")
    again = load(tmp_path / "b.npz")[0]
    np.testing.assert_array_equal(again.traces, rec.traces)
    assert again.labels == rec.labels
    pd.testing.assert_frame_equal(again.events, rec.events, check_dtype=False)


def test_npz_mismatched_lengths_name_the_field(tmp_path):
    np.savez(tmp_path / "a.npz", time=np.arange(8.0), traces=np.zeros((8, 2)),
             behaviour_velocity=np.zeros(5))
    with pytest.raises(InvalidInputError, match=r"a.npz.*behaviour_velocity.*5 samples"):
        load(tmp_path / "a.npz")


def test_unknown_extension(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InvalidInputError, match="unknown format .txt"):
        load(tmp_path / "x.txt")


# ---- harmonised parquet / pickle -------------------------------------------------------
def _harmonised_rows():
    rows = []
    for worm, n_time, neurons in (("worm0", 6, ["AVAL", "AVAR", "12"]), ("worm1", 4, ["AVAL", "RIML"])):
        for k, neuron in enumerate(neurons):
            rows.append({"source_dataset": "Kato2015", "raw_data_file": "WT_Stim.mat",
                         "worm": worm, "neuron": neuron, "slot": k,
                         "is_labeled_neuron": neuron.isalpha(),
                         "calcium_data": (np.arange(n_time) + 10 * k).astype(np.float32).tolist(),
                         "time_in_seconds": (np.arange(n_time) * 0.333 + 2).tolist(),
                         "original_calcium_data": np.zeros(n_time + 1).tolist(),
                         "original_time_in_seconds": np.arange(n_time + 1.0).tolist()})
    return pd.DataFrame(rows)


def test_harmonised_parquet_groups_rows_into_worms(tmp_path):
    path = tmp_path / "data.parquet"
    _harmonised_rows().to_parquet(path)
    coll = load(path)
    assert coll.names() == ["Kato2015/worm0", "Kato2015/worm1"]
    w0 = coll["Kato2015/worm0"]
    assert w0.labels == ["AVAL", "AVAR", None] and w0.traces.shape == (6, 3)
    np.testing.assert_array_equal(w0.traces[:, 2], np.arange(6) + 20)
    np.testing.assert_allclose(w0.time, np.arange(6) * 0.333)
    assert coll.shared_neurons() == ["AVAL"]
    original = load_harmonised_parquet(path, worms=[("Kato2015", "worm1")], variant="original")
    assert len(original) == 1 and original[0].traces.shape == (5, 2)
    assert list(list_worms(path)["n_neurons"]) == [3, 2]


def test_parquet_missing_column_is_named(tmp_path):
    path = tmp_path / "data.parquet"
    _harmonised_rows().drop(columns=["time_in_seconds"]).to_parquet(path)
    with pytest.raises(InvalidInputError, match=r"data.parquet.*time_in_seconds"):
        load(path)


def test_harmonised_pickle_schema(tmp_path):
    slots = len(CANONICAL_NEURONS)
    data = np.zeros((7, slots), dtype=np.float32)
    data[:, NEURON_INDEX["AVAL"]] = np.arange(7)
    data[:, NEURON_INDEX["RMEL"]] = 1.0
    mask = np.zeros(slots, dtype=bool)
    mask[[NEURON_INDEX["AVAL"], NEURON_INDEX["RMEL"]]] = True
    worm = {"calcium_data": data, "smooth_calcium_data": data, "residual_calcium": data * 0,
            "time_in_seconds": (np.arange(7) * 0.5).reshape(-1, 1), "dt": 0.5, "max_timesteps": 7,
            "labeled_neurons_mask": mask, "slot_to_neuron": dict(enumerate(CANONICAL_NEURONS)),
            "neuron_to_slot": NEURON_INDEX, "source_dataset": "Flavell2023", "worm": "worm3"}
    with open(tmp_path / "Flavell2023.pickle", "wb") as f:
        pickle.dump({"worm3": worm}, f)
    coll = load_harmonised_pickle(tmp_path / "Flavell2023.pickle")
    rec = coll["Flavell2023/worm3"]
    assert rec.labels == ["AVAL", "RMEL"]
    np.testing.assert_array_equal(rec.trace("AVAL"), np.arange(7))
    np.testing.assert_allclose(rec.time, np.arange(7) * 0.5)


def test_pickle_missing_field(tmp_path):
    with open(tmp_path / "x.pkl", "wb") as f:
        pickle.dump({"worm0": {"calcium_data": np.zeros((3, 2))}}, f)
    with pytest.raises(InvalidInputError, match=r"x.pkl.*worm0/time_in_seconds"):
        load(tmp_path / "x.pkl")


# ---- Kato MATLAB ------------------------------------------------------------------------
def test_kato_single_worm_v5(tmp_path):
    traces = np.arange(12.0).reshape(6, 2)
    ids = np.empty(2, dtype=object)
    ids[0], ids[1] = np.array(["AVAL", "AVAR"], dtype=object), np.array([], dtype=object)
    scipy.io.savemat(tmp_path / "wbdataset.mat", {"traces": traces, "timeVectorSeconds": np.arange(6) * 0.35,
                                                  "IDs": ids})
    rec = load_kato_mat(tmp_path / "wbdataset.mat")[0]
    assert rec.labels == ["AVAL", None]  # first of the candidate IDs
    np.testing.assert_array_equal(rec.traces, traces)
    np.testing.assert_allclose(rec.time, np.arange(6) * 0.35)


def test_kato_struct_with_several_worms(tmp_path):
    traces = np.empty(2, dtype=object)
    traces[0], traces[1] = np.ones((5, 2)), np.zeros((4, 1))
    times = np.empty(2, dtype=object)
    times[0], times[1] = np.arange(5.0), np.arange(4.0)
    ids = np.empty(2, dtype=object)
    ids[0], ids[1] = np.array(["RIML", "SMDVL"], dtype=object), np.array(["AVBL"], dtype=object)
    scipy.io.savemat(tmp_path / "WT_Stim.mat", {"WT_Stim": {"traces": traces,
                                                             "timeVectorSeconds": times, "IDs": ids}})
    coll = load(tmp_path / "WT_Stim.mat")
    assert coll.names() == ["WT_Stim/worm0", "WT_Stim/worm1"]
    assert coll[0].labels == ["RIML", "SMDVL"] and coll[1].labels == ["AVBL"]
    assert coll[1].traces.shape == (4, 1)


def test_kato_v73_hdf5(tmp_path):
    import h5py
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        f["traces"] = np.arange(10.0).reshape(2, 5)  # MATLAB writes column-major: 5 x 2 there
        f["traces"].attrs["MATLAB_class"] = np.bytes_("double")
        f["timeVectorSeconds"] = np.arange(5.0).reshape(1, 5) * 0.5
        f["timeVectorSeconds"].attrs["MATLAB_class"] = np.bytes_("double")
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file".ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    rec = load(path)[0]
    assert rec.traces.shape == (5, 2) and rec.labels == [None, None]
    np.testing.assert_allclose(rec.time, np.arange(5) * 0.5)


def test_kato_without_traces_field(tmp_path):
    scipy.io.savemat(tmp_path / "other.mat", {"x": np.ones(3)})
    with pytest.raises(InvalidInputError, match=r"other.mat.*'traces'"):
        load(tmp_path / "other.mat")
