"""Recordings in the Flavell lab's published layout, written by the connectome tests themselves:
``<uid>-data.h5`` (gcamp/trace_array, timing/timestamp_confocal, behavior/reversal_vec) and,
when asked, its NeuroPAL label table ``<uid>-labels.csv`` (1-based trace columns).

The traces have two planted groups of neurons that co-fluctuate in turns, so the connectome
pipeline finds components in them; nothing in them is NaN.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

NEURONS = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR", "AIBL", "AIBR",
           "ASEL", "ASER", "AWCL", "AWCR", "AIYL", "AIYR", "RIAL", "RIAR"]
DT_S = 0.6


def flavell_traces(n_time: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(time, neuron) traces and their time stamps: the first half of the neurons follow one
    slow driver during the first half of the recording, the second half another one later."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time) * DT_S
    drivers = np.cumsum(rng.standard_normal((n_time, 2)), axis=0) * 0.3
    first = (t < t[-1] / 2)[:, None]
    traces = 0.5 * rng.standard_normal((n_time, len(NEURONS)))
    half = len(NEURONS) // 2
    traces[:, :half] += np.where(first, drivers[:, :1], 0.0)
    traces[:, half:] += np.where(first, 0.0, drivers[:, 1:])
    return traces, 1e6 + t + rng.uniform(-0.01, 0.01, n_time)


def write_flavell(folder: Path, uid: str = "2023-01-01-01", labels: bool = True, n_time: int = 400,
                  seed: int = 0) -> list[Path]:
    """The recording (and its label table if ``labels``); returns the files written."""
    traces, stamps = flavell_traces(n_time, seed)
    data = Path(folder) / f"{uid}-data.h5"
    with h5py.File(data, "w") as f:
        f["gcamp/trace_array"] = traces
        f["timing/timestamp_confocal"] = stamps
        f["behavior/reversal_vec"] = (np.sin(np.arange(n_time) / 15.0) > 0.8).astype(np.int64)
    if not labels:
        return [data]
    table = Path(folder) / f"{uid}-labels.csv"
    pd.DataFrame({"trace_column_1based": np.arange(1, len(NEURONS) + 1), "label": NEURONS,
                  "confidence": 4.0}).to_csv(table, index=False)
    return [data, table]
