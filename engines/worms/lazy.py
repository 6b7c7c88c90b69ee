"""Large datasets: recordings opened only when asked for, and a Dask long table for datashader.

``LazyCollection`` lists a folder (or one harmonised parquet file) without reading traces, and
reads each recording through the loaders with the same ``max_bytes`` bound as ``load``;
``long_table`` makes a Dask dataframe with one row per (worm, neuron, time) built one
recording per partition, so datashader can aggregate collections that do not fit in memory.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.worms.loaders import (COMPANION_SUFFIXES, FORMATS, list_worms, load,
                                   load_harmonised_parquet)
from engines.worms.model import Collection, Recording
from engines.worms.neurons import NEURON_INDEX

_SINGLE = tuple(suffix for suffix in FORMATS if suffix != ".parquet")  # one file, one recording or more
LONG_COLUMNS = {"worm": "string", "neuron": "string", "slot": "int16", "column": "int32",
                "time": "float64", "value": "float32"}


class LazyCollection:
    """Recordings of a folder or parquet file, each read on first access (a few kept cached)."""

    def __init__(self, source, cache_size: int = 8, max_bytes: int | None = None):
        self.source = Path(source)
        self.max_bytes = max_bytes
        if not self.source.exists():
            raise InvalidInputError(f"{self.source}: no such file or folder")
        self._entries = self._list_entries()
        self._load = functools.lru_cache(maxsize=cache_size)(self._load_uncached)

    def _list_entries(self) -> list[tuple[str, Path, object]]:
        """(recording name, file, key inside the file) without reading any trace."""
        if self.source.suffix == ".parquet":
            table = list_worms(self.source, max_bytes=self.max_bytes)
            return [(f"{d}/{w}", self.source, (d, w))
                    for d, w in zip(table["source_dataset"], table["worm"])]
        files = sorted(p for p in self.source.iterdir()
                       if p.suffix.lower() in _SINGLE and not p.name.endswith(COMPANION_SUFFIXES))
        return [(p.name[:-len("-data.h5")] if p.name.endswith("-data.h5") else p.stem, p, None)
                for p in files]

    def names(self) -> list[str]:
        return [name for name, _, _ in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def _load_uncached(self, index: int) -> Recording:
        name, path, key = self._entries[index]
        if key is not None:
            return load_harmonised_parquet(path, worms=[key], max_bytes=self.max_bytes)[0]
        return load(path, max_bytes=self.max_bytes)[0]

    def __getitem__(self, key) -> Recording:
        if isinstance(key, str):
            names = self.names()
            if key not in names:
                raise KeyError(f"no recording named {key!r} in {self.source.name}")
            key = names.index(key)
        return self._load(int(key))

    def collection(self, names=None) -> Collection:
        """Load the chosen recordings (all by default) into an in-memory Collection."""
        chosen = names if names is not None else self.names()
        return Collection(name=self.source.stem, recordings=[self[n] for n in chosen])


def recording_long_frame(rec: Recording) -> pd.DataFrame:
    """One recording as rows (worm, neuron, slot, column, time, value); slot -1 = unlabelled."""
    n_time, n_cols = rec.traces.shape
    neurons = np.array([n or "" for n in rec.labels], dtype=object)
    slots = np.array([NEURON_INDEX.get(n, -1) if n else -1 for n in rec.labels], dtype=np.int16)
    frame = pd.DataFrame({
        "worm": rec.name,
        "neuron": np.tile(neurons, n_time),
        "slot": np.tile(slots, n_time),
        "column": np.tile(np.arange(n_cols, dtype=np.int32), n_time),
        "time": np.repeat(rec.time, n_cols),
        "value": rec.traces.ravel(),
    })
    return frame.astype(LONG_COLUMNS)


def long_table(recordings):
    """A Dask dataframe of all recordings in long format, one partition per recording.

    ``recordings`` is a Collection, a LazyCollection (recordings are read by the Dask workers
    when a computation needs them) or a list of Recordings.
    """
    import dask
    import dask.dataframe as dd
    meta = pd.DataFrame({c: pd.Series(dtype=t) for c, t in LONG_COLUMNS.items()})
    if isinstance(recordings, LazyCollection):
        parts = [dask.delayed(_lazy_part)(recordings, i) for i in range(len(recordings))]
    else:
        parts = [dask.delayed(recording_long_frame)(r) for r in recordings]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _lazy_part(lazy: LazyCollection, index: int) -> pd.DataFrame:
    return recording_long_frame(lazy[index])
