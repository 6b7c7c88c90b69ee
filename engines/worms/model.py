"""The in-memory model every loader produces: recordings gathered in collections.

A ``Recording`` keeps the columns as recorded (``traces`` T x N_rec with ``labels``); the
canonical 300-neuron view is computed on demand by ``aligned()``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.worms.neurons import CANONICAL_CLASSES, CANONICAL_NEURONS, CLASS_INDEX, NEURON_INDEX

EVENT_COLUMNS = ("kind", "start_s", "end_s", "label")


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({"kind": pd.Series(dtype=str), "start_s": pd.Series(dtype=float),
                         "end_s": pd.Series(dtype=float), "label": pd.Series(dtype=str)})


@dataclass
class Recording:
    """One worm's recording.

    time: (T,) seconds from 0; traces: (T, N_rec) float32 as recorded; labels: canonical name
    or None per column; behaviour: name -> (T,) series; events: intervals with columns kind,
    start_s, end_s, label; provenance: source, file, dataset, simulated, notes.
    """
    name: str
    time: np.ndarray
    traces: np.ndarray
    labels: list
    behaviour: dict = field(default_factory=dict)
    events: pd.DataFrame = field(default_factory=empty_events)
    provenance: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        self.time = np.asarray(self.time, dtype=np.float64)
        self.traces = np.asarray(self.traces, dtype=np.float32)
        self.labels = list(self.labels)
        self._check_shapes()
        for key in ("source", "file", "dataset", "notes"):
            self.provenance.setdefault(key, "")
        self.provenance.setdefault("simulated", False)

    def _check_shapes(self):
        where = self.provenance.get("file") or self.name
        if self.time.ndim != 1 or self.traces.ndim != 2:
            raise InvalidInputError(f"{where}: time must be 1-D and traces 2-D (time x neuron), "
                                    f"got {self.time.shape} and {self.traces.shape}")
        if self.traces.shape[0] != self.time.size:
            raise InvalidInputError(f"{where}: traces have {self.traces.shape[0]} time points but "
                                    f"the time axis has {self.time.size}")
        if len(self.labels) != self.traces.shape[1]:
            raise InvalidInputError(f"{where}: {len(self.labels)} labels for "
                                    f"{self.traces.shape[1]} trace columns")
        for key, series in self.behaviour.items():
            if np.shape(series)[0] != self.time.size:
                raise InvalidInputError(f"{where}: behaviour {key!r} has {np.shape(series)[0]} "
                                        f"samples, the time axis {self.time.size}")

    @property
    def n_time(self) -> int:
        return self.time.size

    @property
    def n_neurons(self) -> int:
        return self.traces.shape[1]

    @property
    def dt(self) -> float:
        """Median sampling interval in seconds."""
        return float(np.median(np.diff(self.time))) if self.time.size > 1 else float("nan")

    @property
    def simulated(self) -> bool:
        return bool(self.provenance.get("simulated", False))

    def labelled_columns(self) -> dict[str, int]:
        """Canonical name -> column; for duplicated names the first column listed wins
        (loaders order columns so the most confident identity comes first)."""
        columns: dict[str, int] = {}
        for col, name in enumerate(self.labels):
            if name is not None and name not in columns:
                columns[name] = col
        return columns

    def trace(self, neuron: str) -> np.ndarray:
        """The (T,) trace of a labelled neuron; InvalidInputError when it was not recorded."""
        columns = self.labelled_columns()
        if neuron not in columns:
            raise InvalidInputError(f"{self.name}: neuron {neuron!r} is not labelled in this recording")
        return self.traces[:, columns[neuron]]

    @property
    def neuron_axis(self) -> tuple[str, ...]:
        """CANONICAL_NEURONS, or CANONICAL_CLASSES once left/right pairs were merged."""
        merged = self.provenance.get("neuron_axis") == "classes"
        return CANONICAL_CLASSES if merged else CANONICAL_NEURONS

    def aligned(self) -> tuple[np.ndarray, np.ndarray]:
        """(T, 300) float32 on the canonical axis (NaN where absent) and the (300,) present mask.

        After a bilateral merge the axis is CANONICAL_CLASSES instead (see ``neuron_axis``).
        """
        axis = self.neuron_axis
        index = CLASS_INDEX if axis is CANONICAL_CLASSES else NEURON_INDEX
        out = np.full((self.n_time, len(axis)), np.nan, dtype=np.float32)
        mask = np.zeros(len(axis), dtype=bool)
        for name, col in self.labelled_columns().items():
            out[:, index[name]] = self.traces[:, col]
            mask[index[name]] = True
        return out, mask

    def replace(self, **changes) -> "Recording":
        """A copy with some fields changed (containers copied so the original stays intact)."""
        base = dict(behaviour=dict(self.behaviour), events=self.events.copy(),
                    provenance=dict(self.provenance), warnings=list(self.warnings))
        base.update(changes)
        return dataclasses.replace(self, **base)


@dataclass
class Collection:
    """A named group of recordings (a dataset, or the worms a user picked)."""
    name: str
    recordings: list = field(default_factory=list)

    def names(self) -> list[str]:
        return [r.name for r in self.recordings]

    def __len__(self) -> int:
        return len(self.recordings)

    def __iter__(self):
        return iter(self.recordings)

    def __getitem__(self, key) -> Recording:
        if isinstance(key, (int, np.integer)):
            return self.recordings[key]
        for rec in self.recordings:
            if rec.name == key:
                return rec
        raise KeyError(f"no recording named {key!r} in {self.name!r}")

    def shared_neurons(self, names=None) -> list[str]:
        """Canonical neurons labelled in every chosen recording, in canonical order."""
        chosen = [self[n] for n in names] if names is not None else self.recordings
        if not chosen:
            return []
        common = set.intersection(*(set(r.labelled_columns()) for r in chosen))
        return [n for n in CANONICAL_NEURONS if n in common]

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.recordings for w in r.warnings]
