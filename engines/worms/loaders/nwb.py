"""NWB files (e.g. Nejatbakhsh 2020 / Sprague 2024 NeuroPAL recordings on DANDI), read with pynwb.

Read here:
  traces     the first RoiResponseSeries (or the one named ``series``), data T x N
  time       its timestamps, or starting_time + k / rate
  labels     a column of the segmentation table the ROIs point to, the first of
             ID_labels, label, labels, neuron_name, neuron (missing column: unlabelled)
  behaviour  1-D TimeSeries with T samples elsewhere in the file (other lengths are skipped
             with a warning)
  events     intervals tables (stimuli, epochs): start_time, stop_time and a label column
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engines.worms.loaders._common import invalid, map_labels, nan_run_warnings, time_from_zero
from engines.worms.model import EVENT_COLUMNS, Collection, Recording, empty_events

LABEL_COLUMNS = ("ID_labels", "label", "labels", "neuron_name", "neuron")


def load_nwb(path, series: str | None = None) -> Collection:
    from pynwb import NWBHDF5IO
    from pynwb.ophys import RoiResponseSeries
    path = Path(path)
    try:
        io = NWBHDF5IO(str(path), mode="r")
        nwbfile = io.read()
    except Exception as exc:
        raise invalid(path, "(file)", f"cannot be read as NWB: {exc}") from None
    with io:
        candidates = [o for o in nwbfile.objects.values() if isinstance(o, RoiResponseSeries)]
        if series is not None:
            candidates = [o for o in candidates if o.name == series]
        if not candidates:
            raise invalid(path, series or "RoiResponseSeries", "no calcium series in the file")
        roi_series = candidates[0]
        traces = np.asarray(roi_series.data[()], dtype=np.float32)
        if traces.ndim == 1:
            traces = traces[:, None]
        time = _series_time(roi_series, traces.shape[0], path)
        raw, warnings = _roi_labels(roi_series, traces.shape[1])
        behaviour, skipped = _behaviour(nwbfile, roi_series, time.size, path)
        events = _events(nwbfile, time_offset=_first_time(roi_series))
    labels, label_warnings = map_labels(raw, path.name)
    warnings = [f"{path.name}: {w}" for w in warnings] + skipped + label_warnings
    warnings += nan_run_warnings(traces, labels, path.name)
    rec = Recording(name=path.stem, time=time, traces=traces, labels=labels, behaviour=behaviour,
                    events=events, warnings=warnings,
                    provenance={"source": "NWB", "file": str(path), "dataset": path.parent.name,
                                "notes": f"traces from RoiResponseSeries {roi_series.name!r}"})
    return Collection(name=path.stem, recordings=[rec])


def _first_time(ts) -> float:
    if ts.timestamps is not None:
        return float(np.asarray(ts.timestamps[:1])[0])
    return float(ts.starting_time or 0.0)


def _series_time(ts, n: int, path) -> np.ndarray:
    if ts.timestamps is not None:
        time = np.asarray(ts.timestamps[()], dtype=np.float64)
    else:
        time = (ts.starting_time or 0.0) + np.arange(n) / float(ts.rate)
    time = time_from_zero(time, path, f"{ts.name}/timestamps")
    if time.size != n:
        raise invalid(path, f"{ts.name}/timestamps", f"has {time.size} stamps for {n} samples")
    return time


def _roi_labels(ts, n: int) -> tuple[list, list[str]]:
    table = ts.rois.table
    column = next((c for c in LABEL_COLUMNS if c in table.colnames), None)
    if column is None:
        return [None] * n, [f"segmentation table {table.name!r} has no label column; "
                            "traces are unlabelled"]
    rows = np.asarray(ts.rois.data[()]).ravel()
    values = table[column].data[()]
    return [values[int(r)] for r in rows], []


def _behaviour(nwbfile, roi_series, n: int, path) -> tuple[dict, list[str]]:
    from pynwb.base import TimeSeries
    behaviour, warnings = {}, []
    for obj in nwbfile.objects.values():
        if type(obj) is not TimeSeries or obj is roi_series:
            continue
        data = np.asarray(obj.data[()])
        if data.ndim != 1:
            continue
        if data.shape[0] != n:
            warnings.append(f"{path.name}: field {obj.name!r} has {data.shape[0]} samples, "
                            f"the traces {n}; it was skipped")
            continue
        behaviour[obj.name] = data.astype(np.float64)
    return behaviour, warnings


def _events(nwbfile, time_offset: float) -> pd.DataFrame:
    frames = []
    for name, table in (nwbfile.intervals or {}).items():
        df = table.to_dataframe()
        label_col = next((c for c in ("label", "stimulus", "tags") if c in df.columns), None)
        labels = df[label_col].astype(str) if label_col else name
        frames.append(pd.DataFrame({"kind": name, "start_s": df["start_time"] - time_offset,
                                    "end_s": df["stop_time"] - time_offset, "label": labels},
                                   columns=list(EVENT_COLUMNS)))
    return pd.concat(frames, ignore_index=True) if frames else empty_events()
