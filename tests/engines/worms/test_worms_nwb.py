from datetime import datetime, timezone

import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.worms import load, load_nwb


def _write_nwb(path, with_labels=True):
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel, RoiResponseSeries
    nwb = NWBFile(session_description="test worm", identifier="w1",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    device = nwb.create_device(name="scope")
    channel = OpticalChannel(name="green", description="GCaMP", emission_lambda=520.0)
    plane = nwb.create_imaging_plane(name="plane", optical_channel=channel, description="head",
                                     device=device, excitation_lambda=488.0, indicator="GCaMP6s",
                                     location="head", imaging_rate=2.0)
    seg = ImageSegmentation()
    ps = seg.create_plane_segmentation(name="neurons", description="ROIs", imaging_plane=plane)
    if with_labels:
        ps.add_column(name="ID_labels", description="NeuroPAL identity")
    for k, label in enumerate(["AVAL", "", "RIMR"]):
        row = {"voxel_mask": [(k, k, 0, 1.0)]}
        if with_labels:
            row["ID_labels"] = label
        ps.add_roi(**row)
    ophys = nwb.create_processing_module(name="ophys", description="calcium")
    ophys.add(seg)
    region = ps.create_roi_table_region(region=[0, 1, 2], description="all")
    data = np.arange(30, dtype=float).reshape(10, 3)
    series = RoiResponseSeries(name="calcium", data=data, rois=region, unit="a.u.",
                               timestamps=100 + 0.5 * np.arange(10))
    ophys.add(Fluorescence(roi_response_series=series))
    behaviour = nwb.create_processing_module(name="behavior", description="behaviour")
    behaviour.add(TimeSeries(name="velocity", data=np.linspace(0, 1, 10), unit="mm/s",
                             timestamps=100 + 0.5 * np.arange(10)))
    nwb.add_trial(start_time=101.0, stop_time=102.0)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_nwb_traces_labels_behaviour_events(tmp_path):
    path = tmp_path / "worm.nwb"
    _write_nwb(path)
    rec = load(path)[0]
    assert rec.labels == ["AVAL", None, "RIMR"]
    np.testing.assert_array_equal(rec.traces, np.arange(30.0).reshape(10, 3))
    np.testing.assert_allclose(rec.time, 0.5 * np.arange(10))
    np.testing.assert_allclose(rec.behaviour["velocity"], np.linspace(0, 1, 10))
    trial = rec.events[rec.events["kind"] == "trials"].iloc[0]
    assert (trial["start_s"], trial["end_s"]) == (1.0, 2.0)


def test_nwb_without_label_column_warns(tmp_path):
    path = tmp_path / "nolabels.nwb"
    _write_nwb(path, with_labels=False)
    rec = load_nwb(path)[0]
    assert rec.labels == [None, None, None]
    assert any("no label column" in w for w in rec.warnings)


def test_corrupt_nwb(tmp_path):
    path = tmp_path / "broken.nwb"
    path.write_bytes(b"\x89HDF garbage")
    with pytest.raises(InvalidInputError, match="broken.nwb"):
        load(path)
