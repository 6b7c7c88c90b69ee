"""The room's recordings on one neuron axis, whatever their source (the simulated default, or a
file, folder or upload opened by lab.recordings).

The room works on ``Recordings``: one (time, neuron) array per worm on a shared neuron axis (NaN
columns for neurons a worm did not record), the sampling intervals, and the stimulus and
behaviour epochs the component cards draw as bands.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engines.connectome.errors import UnidentifiedNeuronsError
from engines.errors import InvalidInputError
from engines.worms import Collection, GroundTruth, WormSimulator

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
    note: str = ""                # recordings left out, and why

    @property
    def n_worms(self) -> int:
        return len(self.traces)

    def stimulus_epochs(self) -> pd.DataFrame:
        """Stimulus intervals, once each even when every worm lists them."""
        stim = self.events[self.events.kind == "stimulus"]
        return stim[["start_s", "end_s", "label"]].drop_duplicates().sort_values("start_s",
                                                                                 ignore_index=True)

    def behaviour_epochs(self, label: str = "reversal") -> pd.DataFrame:
        """Every worm's epochs of one behaviour (columns worm, start_s, end_s, label)."""
        return self.events[(self.events.kind == "behaviour") & (self.events.label == label)]


def unidentified_message(recordings: list) -> str:
    """Why recordings whose neurons carry no identity cannot be used, and how to fix that."""
    names = ", ".join(r.name for r in recordings[:3]) + (" ..." if len(recordings) > 3 else "")
    flavell = [r for r in recordings if r.provenance.get("source") == "Flavell-lab HDF5"]
    fix = (f"add its label table `{flavell[0].name}-labels.csv` (NeuroPAL identities: trace_column_1based, "
           "label) beside the file, or upload both together" if flavell else
           "give the recording its neurons' names (a label table or named columns)")
    return (f"No neuron of {names} is identified ({recordings[0].n_neurons} traces, none with a neuron name), "
            "so its traces cannot be placed among other worms' neurons. To use it, " + fix + ".")


def identified(collection: Collection, label: str) -> tuple[list, str]:
    """The recordings with at least one identified neuron, and a note on those left out;
    raises ``UnidentifiedNeuronsError`` when none has one."""
    if len(collection) == 0:
        raise InvalidInputError(f"{label} holds no recording.")
    recordings = list(collection)
    unlabelled = [r for r in recordings if not r.labelled_columns()]
    if len(unlabelled) == len(recordings):
        raise UnidentifiedNeuronsError(unidentified_message(unlabelled))
    note = f"left out: {unidentified_message(unlabelled)}" if unlabelled else ""
    return [r for r in recordings if r.labelled_columns()], note


def from_collection(collection: Collection, label: str, ground_truth: GroundTruth | None = None) -> Recordings:
    """Align every recording with identified neurons on its canonical neuron axis."""
    collection, note = identified(collection, label)
    axes = {recording.neuron_axis for recording in collection}
    if len(axes) != 1:
        raise InvalidInputError("Some recordings have left/right classes merged and others not; "
                                "merge all of them or none.")
    traces, dts, events = [], [], []
    for recording in collection:
        traces.append(recording.aligned()[0])
        dts.append(recording.dt if recording.n_time > 1 else 1.0)
        events.append(recording.events.assign(worm=recording.name))
    return Recordings(label, traces, tuple(axes.pop()), dts, [r.name for r in collection],
                      pd.concat(events, ignore_index=True), ground_truth, note)


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
