"""Small files in each supported layout, written by the tests themselves."""
import h5py
import numpy as np
import pandas as pd
import pytest

N_TIME, N_COLS = 40, 5
TIME_OFFSET = 1000.0


def flavell_arrays(seed=0):
    rng = np.random.default_rng(seed)
    traces = rng.standard_normal((N_TIME, N_COLS))
    time = TIME_OFFSET + np.cumsum(rng.uniform(0.55, 0.65, N_TIME))
    reversal = np.zeros(N_TIME, dtype=np.int64)
    reversal[5:8] = 1
    reversal[20:24] = 1
    return traces, time, reversal


@pytest.fixture
def flavell_file(tmp_path):
    """A Flavell-layout HDF5 recording with a 1-based label table."""
    traces, time, reversal = flavell_arrays()
    path = tmp_path / "w1-data.h5"
    with h5py.File(path, "w") as f:
        f["gcamp/trace_array"] = traces
        f["timing/timestamp_confocal"] = time
        f["behavior/velocity"] = np.linspace(-1, 1, N_TIME)
        f["behavior/reversal_vec"] = reversal
        f["behavior/body_angle"] = np.zeros((N_TIME, 3))
    # columns 1-based: AVAL is trace column 2 -> index 1; AVAR column 5 -> index 4
    pd.DataFrame({"trace_column_1based": [2, 5, 3, 1],
                  "label": ["AVAL", "AVAR", "AIM?", "AVAL"],
                  "confidence": [5.0, 4.0, 3.0, 2.0]}).to_csv(tmp_path / "w1-labels.csv", index=False)
    return path
