"""Flavell-lab HDF5 recordings (Dag et al. 2023 / Atanas et al. 2023) with NeuroPAL label tables.

File layout read here:
  gcamp/trace_array (T x N)            traces (``trace_key`` picks another, e.g.
                                        gcamp/trace_array_original)
  timing/timestamp_confocal (T,)       seconds (shifted to start at 0)
  behavior/<name> (T,)                 1-D behaviour series (velocity, head_angle, pumping, ...);
                                        2-D ones (body_angle) are skipped
  behavior/reversal_vec (T,)           0/1, turned into 'reversal' events
Labels: ``<uid>-labels.csv`` beside ``<uid>-data.h5`` with columns trace_column_1based (the
1-based column of trace_array, Julia indexing), label and optionally confidence.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from engines.worms.loaders._common import (intervals_from_flags, invalid, map_labels,
                                           nan_run_warnings, time_from_zero)
from engines.worms.model import Collection, Recording, empty_events

TRACE_KEY = "gcamp/trace_array"
TIME_KEY = "timing/timestamp_confocal"


def labels_path_for(path: Path) -> Path:
    """``x-data.h5`` -> ``x-labels.csv`` (the layout of the shared recordings)."""
    stem = path.name[:-len("-data.h5")] if path.name.endswith("-data.h5") else path.stem
    return path.with_name(f"{stem}-labels.csv")


def read_label_table(csv_path: Path, n_columns: int) -> tuple[list, list[str]]:
    """Labels per trace column (0-based) from a NeuroPAL table with 1-based columns."""
    try:
        table = pd.read_csv(csv_path)
    except Exception as exc:  # pandas raises several parser errors; the user needs one message
        raise invalid(csv_path, "(table)", f"cannot be read as CSV: {exc}") from None
    for column in ("trace_column_1based", "label"):
        if column not in table.columns:
            raise invalid(csv_path, column, "is missing from the label table")
    cols = pd.to_numeric(table["trace_column_1based"], errors="coerce")
    if cols.isna().any() or (cols < 1).any() or (cols > n_columns).any():
        raise invalid(csv_path, "trace_column_1based",
                      f"must be whole numbers from 1 to {n_columns} (1-based trace columns)")
    raw = [None] * n_columns
    confidence = np.zeros(n_columns)
    conf_col = table["confidence"] if "confidence" in table.columns else pd.Series(0.0, index=table.index)
    for col1, label, conf in zip(cols.astype(int), table["label"], conf_col.fillna(0)):
        raw[col1 - 1] = label
        confidence[col1 - 1] = float(conf)
    return map_labels(raw, csv_path.name, confidence)


def _read_behaviour(h5: h5py.File, n_time: int, path: Path) -> tuple[dict, list[str]]:
    behaviour, warnings = {}, []
    group = h5.get("behavior")
    if group is None:
        return behaviour, [f"{path.name}: no 'behavior' group; behaviour tracks are empty"]
    for key, item in group.items():
        if not isinstance(item, h5py.Dataset) or item.ndim != 1 or key == "reversal_events":
            continue
        if item.shape[0] != n_time:
            warnings.append(f"{path.name}: field 'behavior/{key}' has {item.shape[0]} samples, "
                            f"the traces {n_time}; it was skipped")
            continue
        behaviour[key] = item[()].astype(np.float64)
        if np.isnan(behaviour[key]).all():
            warnings.append(f"{path.name}: field 'behavior/{key}' is all NaN (not measured)")
    return behaviour, warnings


def load_flavell_h5(path, labels_csv=None, trace_key: str = TRACE_KEY) -> Recording:
    """One recording from a Flavell-lab HDF5 file (and its label table when present)."""
    path = Path(path)
    try:
        h5 = h5py.File(path, "r")
    except OSError:
        raise invalid(path, "(file)", "is not an HDF5 file") from None
    with h5:
        if trace_key not in h5:
            raise invalid(path, trace_key, "is missing (not a Flavell-lab recording?)")
        if TIME_KEY not in h5:
            raise invalid(path, TIME_KEY, "is missing")
        traces = h5[trace_key][()]
        if traces.ndim != 2:
            raise invalid(path, trace_key, f"must be 2-D (time x neuron), got shape {traces.shape}")
        time = time_from_zero(h5[TIME_KEY][()], path, TIME_KEY)
        if time.size != traces.shape[0]:
            raise invalid(path, TIME_KEY, f"has {time.size} time stamps but {trace_key} has "
                                          f"{traces.shape[0]} rows")
        behaviour, warnings = _read_behaviour(h5, time.size, path)
    labels_csv = Path(labels_csv) if labels_csv else labels_path_for(path)
    if labels_csv.exists():
        labels, label_warnings = read_label_table(labels_csv, traces.shape[1])
    else:
        labels, label_warnings = [None] * traces.shape[1], [
            f"{path.name}: no label table {labels_csv.name}; all neurons unlabelled"]
    events = (intervals_from_flags(behaviour["reversal_vec"], time, "behaviour", "reversal")
              if "reversal_vec" in behaviour else empty_events())
    name = path.name[:-len("-data.h5")] if path.name.endswith("-data.h5") else path.stem
    warnings += label_warnings + nan_run_warnings(traces, labels, path.name)
    return Recording(name=name, time=time, traces=traces, labels=labels, behaviour=behaviour,
                     events=events, warnings=warnings,
                     provenance={"source": "Flavell-lab HDF5", "file": str(path),
                                 "dataset": "flavell", "simulated": False,
                                 "notes": f"traces from {trace_key}; labels from {labels_csv.name}"
                                          if labels_csv.exists() else f"traces from {trace_key}"})


def flavell_files(folder) -> list[Path]:
    """The recordings of a folder of Flavell-lab files: every ``*-data.h5`` (or ``*.h5``), in name order."""
    folder = Path(folder)
    return sorted(folder.glob("*-data.h5")) or sorted(folder.glob("*.h5"))


def load_flavell_folder(folder, trace_key: str = TRACE_KEY) -> Collection:
    """Every recording of ``flavell_files(folder)``."""
    folder = Path(folder)
    return Collection(name=folder.name, recordings=[load_flavell_h5(f, trace_key=trace_key)
                                                    for f in flavell_files(folder)])
