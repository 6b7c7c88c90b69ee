"""The harmonised multi-lab dataset (Simeon et al. 2024, hub id qsimeon/celegans_neural_data).

Parquet: one row per worm x neuron with columns source_dataset, worm, neuron,
is_labeled_neuron, calcium_data (float list), time_in_seconds (float list), and optionally
original_calcium_data / original_time_in_seconds (the recording before resampling), slot,
raw_data_file, smooth_method, interpolate_method, normalization_method, max_timesteps.

Pickle (the preprocessing code's per-dataset file): a dict worm -> dict with calcium_data
(T x slots), time_in_seconds (T or T x 1), slot_to_neuron (slot -> name), a labelled mask
(labeled_neurons_mask / labeled_neuron_mask), source_dataset, worm, dt. A file holding one
worm's dict is read too. Pickles can run code when opened, so they are read through an
allow-list unpickler (safe_pickle.py) that refuses every name those files do not need.

``max_bytes`` bounds what a read may take in memory, checked before the read (footprint.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from engines.worms.loaders import footprint, safe_pickle
from engines.worms.loaders._common import invalid, map_labels, nan_run_warnings, time_from_zero
from engines.worms.model import Collection, Recording

REQUIRED_COLUMNS = ("source_dataset", "worm", "neuron", "is_labeled_neuron",
                    "calcium_data", "time_in_seconds")
VARIANTS = {"resampled": ("calcium_data", "time_in_seconds"),
            "original": ("original_calcium_data", "original_time_in_seconds")}


def list_worms(path, max_bytes: int | None = None) -> pd.DataFrame:
    """(source_dataset, worm, n_neurons) without reading any trace."""
    path = Path(path)
    footprint.check(path, footprint.parquet_bytes(path, ["source_dataset", "worm"]), max_bytes,
                    "listing its worms")
    keys = _read_table(path, ["source_dataset", "worm"])
    return keys.groupby(["source_dataset", "worm"], sort=True).size().rename("n_neurons").reset_index()


def _read_table(path: Path, columns, filters=None) -> pd.DataFrame:
    try:
        schema = pq.read_schema(path)
    except Exception:
        raise invalid(path, "(file)", "is not a parquet file") from None
    for column in columns:
        if column not in schema.names:
            raise invalid(path, column, "column is missing (not the harmonised dataset's layout)")
    return pq.read_table(path, columns=list(columns), filters=filters).to_pandas()


def load_harmonised_parquet(path, worms=None, variant: str = "resampled",
                            max_bytes: int | None = None) -> Collection:
    """Recordings from the parquet file; ``worms`` limits them to some (dataset, worm) pairs
    (or worm names), read with a row filter so the rest of the file stays on disk (and only
    one row group is held at a time: that is what ``max_bytes`` bounds then)."""
    path = Path(path)
    trace_col, time_col = VARIANTS[variant]
    columns = list(REQUIRED_COLUMNS[:4]) + [trace_col, time_col]
    footprint.check(path, footprint.parquet_bytes(path, columns, largest_row_group=worms is not None),
                    max_bytes)
    filters = None
    if worms is not None:
        names = sorted({w[1] if isinstance(w, tuple) else w for w in worms})
        filters = [("worm", "in", names)]
    table = _read_table(path, columns, filters)
    recordings = []
    for (dataset, worm), rows in table.groupby(["source_dataset", "worm"], sort=True):
        if worms is not None and not any(w == (dataset, worm) or w == worm for w in worms):
            continue
        recordings.append(_rows_to_recording(path, dataset, worm, rows, trace_col, time_col))
    return Collection(name=path.stem, recordings=recordings)


def _rows_to_recording(path, dataset, worm, rows, trace_col, time_col) -> Recording:
    where = f"{path.name} ({dataset}/{worm})"
    lengths = {len(x) for x in rows[trace_col]}
    if len(lengths) != 1:
        raise invalid(path, trace_col, f"{dataset}/{worm} has traces of different lengths {sorted(lengths)}")
    traces = np.stack([np.asarray(x, dtype=np.float32) for x in rows[trace_col]], axis=1)
    time = time_from_zero(rows[time_col].iloc[0], path, time_col)
    if time.size != traces.shape[0]:
        raise invalid(path, time_col, f"{dataset}/{worm} has {time.size} time stamps for "
                                      f"{traces.shape[0]} samples")
    raw = [n if lab else None for n, lab in zip(rows["neuron"], rows["is_labeled_neuron"])]
    labels, warnings = map_labels(raw, where)
    warnings += nan_run_warnings(traces, labels, where)
    return Recording(name=f"{dataset}/{worm}", time=time, traces=traces, labels=labels,
                     warnings=warnings,
                     provenance={"source": "harmonised parquet", "file": str(path),
                                 "dataset": dataset, "notes": f"columns {trace_col}, {time_col}"})


_MASK_KEYS = ("labeled_neurons_mask", "labeled_neuron_mask", "labeled_mask")


def load_harmonised_pickle(path, trace_key: str = "calcium_data",
                           max_bytes: int | None = None) -> Collection:
    """Recordings from the preprocessing code's pickle (a dict of worms, or one worm)."""
    path = Path(path)
    footprint.check(path, path.stat().st_size, max_bytes)
    with open(path, "rb") as f:
        data = safe_pickle.load(f, path.name)
    if not isinstance(data, dict):
        raise invalid(path, "(top level)", f"must be a dict, got {type(data).__name__}")
    worms = {data.get("worm", path.stem): data} if "calcium_data" in data else data
    # a pickle may refer to one array from many worms: count each reference, as the loader copies each
    traces_bytes = sum(getattr(w.get(trace_key), "nbytes", 0) for w in worms.values() if isinstance(w, dict))
    footprint.check(path, traces_bytes, max_bytes, "its worms' traces")
    recordings = [_worm_dict_to_recording(path, key, w, trace_key) for key, w in worms.items()]
    return Collection(name=path.stem, recordings=recordings)


def _worm_dict_to_recording(path, key, worm: dict, trace_key: str) -> Recording:
    if not isinstance(worm, dict):
        raise invalid(path, str(key), "is not a worm's dict")
    for field in (trace_key, "time_in_seconds", "slot_to_neuron"):
        if field not in worm:
            raise invalid(path, f"{key}/{field}", "is missing")
    data = np.asarray(worm[trace_key], dtype=np.float32)
    time = time_from_zero(np.asarray(worm["time_in_seconds"]).ravel(), path, f"{key}/time_in_seconds")
    if data.ndim != 2 or data.shape[0] != time.size:
        raise invalid(path, f"{key}/{trace_key}", f"shape {data.shape} does not match "
                                                   f"{time.size} time stamps")
    mask_key = next((k for k in _MASK_KEYS if k in worm), None)
    mask = (np.asarray(worm[mask_key], dtype=bool).ravel() if mask_key
            else np.any(data != 0, axis=0))  # unrecorded slots are zero-filled in this schema
    slots = np.flatnonzero(mask)
    slot_to_neuron = {int(s): n for s, n in dict(worm["slot_to_neuron"]).items()}
    where = f"{path.name} ({key})"
    labels, warnings = map_labels([slot_to_neuron.get(int(s)) for s in slots], where)
    traces = data[:, slots]
    warnings += nan_run_warnings(traces, labels, where)
    dataset = str(worm.get("source_dataset", path.stem))
    return Recording(name=f"{dataset}/{worm.get('worm', key)}", time=time, traces=traces,
                     labels=labels, warnings=warnings,
                     provenance={"source": "harmonised pickle", "file": str(path),
                                 "dataset": dataset, "notes": f"traces from {trace_key}"})
