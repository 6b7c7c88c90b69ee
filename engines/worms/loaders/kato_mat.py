"""Kato-style MATLAB files (Kato et al. 2015, Zimmer lab; also Nichols 2017, Skora 2018).

Read with pymatreader, so both .mat v5 and v7.3 (HDF5) files work. The fields may sit at the
top level (one worm, e.g. wbdataset.mat) or inside one struct (WT_Stim.mat) holding a list per
worm:
  traces or deltaFOverF_bc   (T x N)      calcium traces
  timeVectorSeconds          (T,)         seconds
  IDs or NeuronNames         (N,)         per neuron a name, a list of candidate names (the
                                          first is taken), or empty for unidentified
  fps (optional)             used when timeVectorSeconds is absent
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatreader import read_mat

from engines.worms.loaders._common import invalid, map_labels, nan_run_warnings, time_from_zero
from engines.worms.model import Collection, Recording

TRACE_FIELDS = ("traces", "deltaFOverF_bc", "deltaFOverF")
NAME_FIELDS = ("IDs", "NeuronNames", "neuron_names")


def _find_struct(data: dict, path) -> tuple[str, dict]:
    """The dict holding the trace field: the top level or the one struct below it."""
    if any(f in data for f in TRACE_FIELDS):
        return "", data
    for key, value in data.items():
        if isinstance(value, dict) and any(f in value for f in TRACE_FIELDS):
            return key + "/", value
    raise invalid(path, "traces", f"none of {', '.join(TRACE_FIELDS)} found at the top level "
                                  "or in a struct (not a Kato-style file?)")


def _first_name(entry):
    """A neuron's ID: a string, a list of candidates (take the first), or empty."""
    while isinstance(entry, (list, tuple, np.ndarray)) and not isinstance(entry, str):
        if len(entry) == 0:
            return None
        entry = entry[0]
    return None if entry is None else str(entry)


def _per_worm(value, multi: bool) -> list:
    """Wrap one worm's field in a list so single- and multi-worm files read alike."""
    return list(value) if multi else [value]


def load_kato_mat(path) -> Collection:
    path = Path(path)
    try:
        data = read_mat(str(path))
    except Exception:
        raise invalid(path, "(file)", "cannot be read as a MATLAB .mat file") from None
    prefix, struct = _find_struct(data, path)
    trace_field = next(f for f in TRACE_FIELDS if f in struct)
    name_field = next((f for f in NAME_FIELDS if f in struct), None)
    multi = isinstance(struct[trace_field], list)  # a cell array: one entry per worm
    traces_all = _per_worm(struct[trace_field], multi)
    names_all = _per_worm(struct[name_field], multi) if name_field else [None] * len(traces_all)
    if "timeVectorSeconds" in struct:
        times_all = _per_worm(struct["timeVectorSeconds"], multi)
    elif "fps" in struct:
        fps_all = _per_worm(struct["fps"], multi)
        times_all = [np.arange(np.shape(t)[0]) / float(np.ravel(f)[0])
                     for t, f in zip(traces_all, fps_all)]
    else:
        raise invalid(path, prefix + "timeVectorSeconds", "is missing (and no fps to build it)")
    if not len(traces_all) == len(times_all) == len(names_all):
        raise invalid(path, prefix + trace_field, "the per-worm lists of traces, times and "
                                                  "names have different lengths")
    recordings = [_worm(path, prefix, i, tr, tm, nm, trace_field, len(traces_all))
                  for i, (tr, tm, nm) in enumerate(zip(traces_all, times_all, names_all))]
    return Collection(name=path.stem, recordings=recordings)


def _worm(path, prefix, index, traces, time, names, trace_field, n_worms) -> Recording:
    field = f"{prefix}{trace_field}" + (f"[{index}]" if n_worms > 1 else "")
    traces = np.asarray(traces, dtype=np.float32)
    time = time_from_zero(time, path, prefix + "timeVectorSeconds")
    if traces.ndim == 1 and traces.size == time.size:
        traces = traces[:, None]  # MATLAB readers squeeze a one-neuron matrix to a vector
    if isinstance(names, str):
        names = [names]
    if traces.ndim != 2:
        raise invalid(path, field, f"must be 2-D (time x neuron), got shape {traces.shape}")
    if traces.shape[0] != time.size and traces.shape[1] == time.size:
        traces = traces.T  # some files store neuron x time
    if traces.shape[0] != time.size:
        raise invalid(path, field, f"has {traces.shape[0]} rows for {time.size} time stamps")
    raw = [None] * traces.shape[1] if names is None else [_first_name(n) for n in names]
    if len(raw) != traces.shape[1]:
        raise invalid(path, f"{prefix}IDs", f"has {len(raw)} names for {traces.shape[1]} traces")
    name = path.stem + (f"/worm{index}" if n_worms > 1 else "")
    labels, warnings = map_labels(raw, name)
    warnings += nan_run_warnings(traces, labels, name)
    return Recording(name=name, time=time, traces=traces, labels=labels, warnings=warnings,
                     provenance={"source": "Kato-style MATLAB", "file": str(path),
                                 "dataset": path.stem, "notes": f"traces from {field}"})
