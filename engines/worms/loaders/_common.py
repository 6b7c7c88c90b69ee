"""Helpers shared by the loaders: label mapping, NaN-run checks, intervals from 0/1 series."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.worms.model import EVENT_COLUMNS, empty_events
from engines.worms.neurons import normalise_name

# A gap longer than this many consecutive samples is worth telling the user about.
NAN_RUN_WARN = 5


def invalid(path, field: str, problem: str) -> InvalidInputError:
    """The error every loader raises: it names the file and the field."""
    return InvalidInputError(f"{Path(path).name}: field {field!r}: {problem}")


def map_labels(raw_labels, where: str, confidence=None) -> tuple[list, list[str]]:
    """Canonical names for raw labels, with warnings for unknown names and duplicates.

    A name given to several columns is kept on the one with the highest ``confidence``
    (ties: the first column) and the others become unlabelled.
    """
    warnings, labels = [], []
    for raw in raw_labels:
        name, warning = normalise_name(raw)
        labels.append(name)
        if warning:
            warnings.append(f"{where}: {warning}")
    conf = np.zeros(len(labels)) if confidence is None else np.asarray(confidence, dtype=float)
    by_name: dict[str, list[int]] = {}
    for col, name in enumerate(labels):
        if name is not None:
            by_name.setdefault(name, []).append(col)
    for name, cols in by_name.items():
        if len(cols) > 1:
            keep = max(cols, key=lambda c: (conf[c], -c))
            for c in cols:
                if c != keep:
                    labels[c] = None
            warnings.append(f"{where}: neuron {name} labels columns {cols}; kept column {keep}")
    return labels, warnings


def nan_run_warnings(traces: np.ndarray, labels, where: str) -> list[str]:
    """One warning per column holding a run of more than NAN_RUN_WARN missing samples."""
    out = []
    nan = np.isnan(traces)
    for col in np.flatnonzero(nan.any(axis=0)):
        longest = _longest_run(nan[:, col])
        if longest > NAN_RUN_WARN:
            who = labels[col] or f"column {col}"
            out.append(f"{where}: {who} has a run of {longest} missing samples (NaN)")
    return out


def _longest_run(flags: np.ndarray) -> int:
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


def intervals_from_flags(flags, time: np.ndarray, kind: str, label: str) -> pd.DataFrame:
    """Events for each run of nonzero samples: [time of first, time of last] of the run."""
    flags = np.asarray(flags) > 0
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if not starts.size:
        return empty_events()
    return pd.DataFrame({"kind": kind, "start_s": time[starts], "end_s": time[ends],
                         "label": label}, columns=list(EVENT_COLUMNS))


def time_from_zero(time, path, field: str) -> np.ndarray:
    """Seconds from the first sample; strictly increasing or an error naming the field."""
    time = np.asarray(time, dtype=np.float64).ravel()
    if time.size == 0:
        raise invalid(path, field, "the time axis is empty")
    if not np.all(np.isfinite(time)):
        raise invalid(path, field, "the time axis contains NaN or infinite values")
    if time.size > 1 and np.any(np.diff(time) <= 0):
        raise invalid(path, field, "time stamps are not strictly increasing")
    return time - time[0]


def check_length(array, n_time: int, path, field: str, axis: int = 0) -> None:
    if np.shape(array)[axis] != n_time:
        raise invalid(path, field, f"has {np.shape(array)[axis]} samples but the recording has "
                                   f"{n_time} time points")
