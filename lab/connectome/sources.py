"""Where the room's recordings come from: the simulated default, a file or folder, an upload.

Whatever the source, the room works on ``Recordings``: one (time, neuron) array per worm on a
shared neuron axis (NaN columns for neurons a worm did not record), the sampling intervals,
and the stimulus and behaviour epochs the component cards draw as bands.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.worms import Collection, GroundTruth, WormSimulator, load

REPO = Path(__file__).resolve().parents[2]
SHARED_RECORDINGS = REPO.parent / "shared" / "data" / "flavell2023"
SIMULATION_DT_S = 0.6


@dataclass
class Recordings:
    label: str                    # what the user chose, in words
    traces: list                  # one (T, N) float32 array per worm, NaN where absent
    neuron_names: tuple
    dts: list                     # sampling interval of each worm, seconds
    worm_names: list
    events: pd.DataFrame          # worm, kind ('stimulus' | 'behaviour'), start_s, end_s, label
    ground_truth: GroundTruth | None = None

    @property
    def n_worms(self) -> int:
        return len(self.traces)

    def stimulus_epochs(self) -> pd.DataFrame:
        """Stimulus intervals, once each even when every worm lists them."""
        stim = self.events[self.events.kind == "stimulus"]
        return stim[["start_s", "end_s", "label"]].drop_duplicates().sort_values("start_s",
                                                                                 ignore_index=True)

    def behaviour_fraction(self, starts_s: np.ndarray, window_s: float, label: str = "reversal") -> np.ndarray:
        """Mean over worms of the fraction of each window spent in ``label`` epochs (NaN if none)."""
        epochs = self.events[(self.events.kind == "behaviour") & (self.events.label == label)]
        if epochs.empty:
            return np.full(len(starts_s), np.nan)
        ends_s = starts_s + window_s
        covered = np.zeros(len(starts_s))
        for _worm, worm_epochs in epochs.groupby("worm"):
            for start, end in zip(worm_epochs.start_s, worm_epochs.end_s):
                covered += np.clip(np.minimum(ends_s, end) - np.maximum(starts_s, start), 0, None)
        return covered / window_s / max(epochs.worm.nunique(), 1)


def from_collection(collection: Collection, label: str, ground_truth: GroundTruth | None = None) -> Recordings:
    """Align every recording on its canonical neuron axis."""
    if len(collection) == 0:
        raise InvalidInputError(f"{label} holds no recording.")
    axes = {recording.neuron_axis for recording in collection}
    if len(axes) != 1:
        raise InvalidInputError("Some recordings have left/right classes merged and others not; "
                                "merge all of them or none.")
    traces, dts, events = [], [], []
    for recording in collection:
        traces.append(recording.aligned()[0])
        dts.append(recording.dt if recording.n_time > 1 else 1.0)
        events.append(recording.events.assign(worm=recording.name))
    return Recordings(label, traces, tuple(axes.pop()), dts, collection.names(),
                      pd.concat(events, ignore_index=True), ground_truth)


def new_simulator(n_worms: int, duration_s: float, seed: int) -> WormSimulator:
    return WormSimulator(n_worms=n_worms, duration_s=duration_s, dt=SIMULATION_DT_S, seed=seed)


def simulated_presence(simulator: WormSimulator) -> list[np.ndarray]:
    """One-sample stand-ins of the simulated worms (finite where recorded), for checks before simulating."""
    stand_ins = []
    for cols in simulator.recorded:
        row = np.full((1, simulator.baseline_f.shape[1]), np.nan, dtype=np.float32)
        row[:, cols] = 0.0
        stand_ins.append(row)
    return stand_ins


def from_simulator(simulator: WormSimulator) -> Recordings:
    label = f"simulated: {simulator.n_worms} worms, {simulator.n_time * simulator.dt:.0f} s, seed {simulator.seed}"
    return from_collection(simulator.collection(), label, simulator.ground_truth())


def load_path(path: str) -> Recordings:
    """A recording file or a folder of Flavell-lab files, read by the worm engine's loaders."""
    if not path or not Path(path).exists():
        raise InvalidInputError(f"There is no file or folder at '{path}'.")
    return from_collection(load(path), Path(path).name)


def load_upload(data: bytes, filename: str) -> Recordings:
    """An uploaded file, written to a temporary file with its own extension and read from there."""
    if not data:
        raise InvalidInputError(f"The upload '{filename}' is empty.")
    suffix = Path(filename).suffix
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, Path(filename).name or f"upload{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        return from_collection(load(path), Path(filename).name)
