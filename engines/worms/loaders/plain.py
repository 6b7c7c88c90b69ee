"""The plain layouts: one CSV or one NPZ file per recording.

CSV (``<name>.csv``, one row per time point):
  time                 seconds (any origin; shifted to start at 0)
  <neuron>             one column per trace; a canonical name (AVAL) labels it, any other
                       header (``roi_17``) keeps the trace unlabelled with a warning
  behaviour:<name>     a behaviour series, e.g. ``behaviour:velocity``
  events (optional)    ``<name>-events.csv`` beside it, columns kind, start_s, end_s, label

NPZ (``<name>.npz``, written with numpy.savez):
  time (T,)            seconds
  traces (T, N)        float
  labels (N,)          strings, '' for an unlabelled trace (optional: all unlabelled)
  behaviour_<name>     (T,) per behaviour series
  events_kind, events_start_s, events_end_s, events_label   (K,) each (optional)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engines.worms.loaders._common import (check_length, invalid, map_labels,
                                           nan_run_warnings, time_from_zero)
from engines.files import atomic_path
from engines.worms.model import EVENT_COLUMNS, Recording, empty_events

BEHAVIOUR_PREFIX = "behaviour:"


def _recording(path: Path, time, traces, raw_labels, behaviour, events, source) -> Recording:
    labels, warnings = map_labels(raw_labels, path.name)
    warnings += nan_run_warnings(traces, labels, path.name)
    return Recording(name=path.stem, time=time, traces=traces, labels=labels,
                     behaviour=behaviour, events=events, warnings=warnings,
                     provenance={"source": source, "file": str(path), "dataset": path.parent.name})


def _events_csv(path: Path) -> pd.DataFrame:
    events_path = path.with_name(f"{path.stem}-events.csv")
    if not events_path.exists():
        return empty_events()
    events = pd.read_csv(events_path)
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise invalid(events_path, missing[0], "is missing from the events table")
    return events[list(EVENT_COLUMNS)].astype({"start_s": float, "end_s": float})


def load_plain_csv(path) -> Recording:
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except Exception as exc:
        raise invalid(path, "(table)", f"cannot be read as CSV: {exc}") from None
    if "time" not in table.columns:
        raise invalid(path, "time", "column is missing (the first column must be time in seconds)")
    time = time_from_zero(pd.to_numeric(table["time"], errors="coerce"), path, "time")
    behaviour_cols = [c for c in table.columns if c.startswith(BEHAVIOUR_PREFIX)]
    trace_cols = [c for c in table.columns if c != "time" and c not in behaviour_cols]
    if not trace_cols:
        raise invalid(path, "(traces)", "has no trace columns besides time")
    traces = table[trace_cols].apply(pd.to_numeric, errors="coerce").to_numpy(np.float32)
    behaviour = {c[len(BEHAVIOUR_PREFIX):]: table[c].to_numpy(np.float64) for c in behaviour_cols}
    return _recording(path, time, traces, trace_cols, behaviour, _events_csv(path), "plain CSV")


def load_plain_npz(path) -> Recording:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except Exception:
        raise invalid(path, "(file)", "is not a NumPy .npz archive") from None
    with data:
        for key in ("time", "traces"):
            if key not in data.files:
                raise invalid(path, key, "is missing from the archive")
        traces = np.asarray(data["traces"], dtype=np.float32)
        if traces.ndim != 2:
            raise invalid(path, "traces", f"must be 2-D (time x neuron), got shape {traces.shape}")
        time = time_from_zero(data["time"], path, "time")
        check_length(traces, time.size, path, "traces")
        raw = [str(x) for x in data["labels"]] if "labels" in data.files else [None] * traces.shape[1]
        if len(raw) != traces.shape[1]:
            raise invalid(path, "labels", f"has {len(raw)} names for {traces.shape[1]} traces")
        behaviour = {}
        for key in data.files:
            if key.startswith("behaviour_"):
                check_length(data[key], time.size, path, key)
                behaviour[key[len("behaviour_"):]] = np.asarray(data[key], dtype=np.float64)
        events = empty_events()
        if "events_kind" in data.files:
            events = pd.DataFrame({c: data[f"events_{c}"] for c in EVENT_COLUMNS})
    return _recording(path, time, traces, raw, behaviour, events, "plain NPZ")


def save_plain_npz(recording: Recording, path) -> None:
    """Write a recording in the NPZ layout above (atomically: temp file + rename)."""
    path = Path(path)
    arrays = {"time": recording.time, "traces": recording.traces,
              "labels": np.array([n or "" for n in recording.labels], dtype=str)}
    arrays.update({f"behaviour_{k}": v for k, v in recording.behaviour.items()})
    for column in EVENT_COLUMNS:
        arrays[f"events_{column}"] = recording.events[column].to_numpy(
            dtype=float if column.endswith("_s") else str)
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
