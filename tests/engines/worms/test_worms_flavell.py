import h5py
import numpy as np
import pandas as pd
import pytest

from engines.errors import InvalidInputError
from engines.worms import NEURON_INDEX, load, load_flavell_h5
from tests.engines.worms.conftest import N_COLS, N_TIME, TIME_OFFSET, flavell_arrays


def test_flavell_reads_traces_time_and_one_based_labels(flavell_file):
    rec = load_flavell_h5(flavell_file)
    traces, time, _ = flavell_arrays()
    assert rec.traces.shape == (N_TIME, N_COLS)
    np.testing.assert_array_equal(rec.traces, traces.astype(np.float32))
    np.testing.assert_allclose(rec.time, time - time[0])
    assert rec.time[0] == 0.0
    # 1-based column 2 -> index 1; column 1 also says AVAL with lower confidence -> dropped
    assert rec.labels == [None, "AVAL", None, None, "AVAR"]
    assert any("AIM?" in w for w in rec.warnings)
    assert any("AVAL" in w and "kept column 1" in w for w in rec.warnings)
    np.testing.assert_array_equal(rec.trace("AVAL"), traces[:, 1].astype(np.float32))


def test_flavell_behaviour_and_reversal_events(flavell_file):
    rec = load_flavell_h5(flavell_file)
    assert set(rec.behaviour) == {"velocity", "reversal_vec"}  # 2-D body_angle skipped
    np.testing.assert_allclose(rec.behaviour["velocity"], np.linspace(-1, 1, N_TIME))
    ev = rec.events
    assert list(ev["label"]) == ["reversal", "reversal"]
    np.testing.assert_allclose(ev["start_s"], rec.time[[5, 20]])
    np.testing.assert_allclose(ev["end_s"], rec.time[[7, 23]])


def test_aligned_puts_labelled_columns_on_canonical_slots(flavell_file):
    rec = load_flavell_h5(flavell_file)
    aligned, mask = rec.aligned()
    assert aligned.shape == (N_TIME, 300) and mask.sum() == 2
    assert mask[NEURON_INDEX["AVAL"]] and mask[NEURON_INDEX["AVAR"]]
    np.testing.assert_array_equal(aligned[:, NEURON_INDEX["AVAR"]], rec.traces[:, 4])
    assert np.isnan(aligned[:, NEURON_INDEX["AVBL"]]).all()


def test_load_dispatches_h5_to_flavell(flavell_file):
    coll = load(flavell_file)
    assert coll.names() == ["w1"] and coll["w1"].provenance["source"] == "Flavell-lab HDF5"


def test_missing_time_field_is_named(tmp_path):
    path = tmp_path / "bad-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = np.zeros((10, 3))
    with pytest.raises(InvalidInputError, match=r"bad-data.h5.*timing/timestamp_confocal"):
        load_flavell_h5(path)


def test_mismatched_lengths_are_an_error(tmp_path):
    path = tmp_path / "short-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = np.zeros((10, 3))
        f["timing/timestamp_confocal"] = np.arange(9.0)
    with pytest.raises(InvalidInputError, match="9 time stamps"):
        load_flavell_h5(path)


def test_behaviour_of_wrong_length_is_skipped_with_warning(tmp_path):
    path = tmp_path / "beh-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = np.zeros((10, 3))
        f["timing/timestamp_confocal"] = np.arange(10.0)
        f["behavior/velocity"] = np.zeros(7)
        f["behavior/pumping"] = np.ones(10)
    rec = load_flavell_h5(path)
    assert set(rec.behaviour) == {"pumping"}
    assert any("behavior/velocity" in w for w in rec.warnings)


def test_label_table_with_out_of_range_column(tmp_path, flavell_file):
    pd.DataFrame({"trace_column_1based": [0], "label": ["AVAL"]}).to_csv(
        tmp_path / "w1-labels.csv", index=False)
    with pytest.raises(InvalidInputError, match="trace_column_1based"):
        load_flavell_h5(flavell_file)


def test_non_hdf5_file_is_rejected(tmp_path):
    path = tmp_path / "x-data.h5"
    path.write_text("not hdf5")
    with pytest.raises(InvalidInputError, match="x-data.h5.*not an HDF5 file"):
        load(path)


def test_nan_run_gives_a_warning(tmp_path):
    traces = np.ones((30, 2))
    traces[3:15, 1] = np.nan
    path = tmp_path / "gap-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = traces
        f["timing/timestamp_confocal"] = np.arange(30.0)
    rec = load_flavell_h5(path)
    assert any("run of 12 missing samples" in w for w in rec.warnings)


REAL = ["2022-07-26-31", "2022-08-02-31"]


@pytest.mark.parametrize("uid", REAL)
def test_real_flavell_recordings(shared_data, uid):
    folder = shared_data / "flavell2023"
    rec = load_flavell_h5(folder / f"{uid}-data.h5")
    labels = pd.read_csv(folder / f"{uid}-labels.csv")
    with h5py.File(folder / f"{uid}-data.h5", "r") as f:
        raw = f["gcamp/trace_array"][()]
        stamps = f["timing/timestamp_confocal"][()]
        velocity = f["behavior/velocity"][()]
    assert rec.traces.shape == raw.shape and rec.traces.shape[0] == 800
    np.testing.assert_array_equal(rec.traces, raw.astype(np.float32))
    np.testing.assert_allclose(rec.time, stamps - stamps[0])
    assert 0.55 < rec.dt < 0.65
    np.testing.assert_array_equal(rec.behaviour["velocity"], velocity)
    # every certain label lands on column (1-based - 1)
    certain = labels[~labels["label"].str.contains(r"\?")]
    for col1, name in zip(certain["trace_column_1based"], certain["label"]):
        if name in rec.labelled_columns():
            np.testing.assert_array_equal(rec.trace(name), raw[:, col1 - 1].astype(np.float32))
    assert sum(l is not None for l in rec.labels) >= 95
    assert len(rec.events) == 34 or rec.name != "2022-07-26-31"
