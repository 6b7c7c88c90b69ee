"""``WormRoom``: the worm activity room's model, built in layers, one role per module, each
layer adding to the one before:

- ``Datasets`` (sources.py): the simulated default, the data folder, opened files and uploads;
- ``RecordingOnShow`` (recording.py): preprocessing and the recording it gives;
- ``Selection`` (selection.py): picked neurons, the row order, the one time cursor;
- ``Circuits`` (circuits.py): partners, replay on the connectome, correlation, paths.
Headless (no panel/holoviews imports); nothing is read or simulated until ``start()``.
"""
from __future__ import annotations

from lab.worms.circuits import Circuits


class WormRoom(Circuits):
    """Browse whole-brain calcium traces beside behaviour, anatomy and the connectome."""

    # What a copied link reproduces (the shell keeps these in the URL; defaults left out).
    url_parameters = ("dataset", "worm", "order", "selected", "time_s", "focus", "partner_kind",
                      "colour_by", "reference", "path_from", "path_to", "path_max_hops",
                      "resample_dt", "smoothing", "normalisation", "derivative", "merge_bilateral")

    def __init__(self, **params):
        super().__init__(**params)
        self.owns(self.task)

    @property
    def is_simulated(self) -> bool:
        return self.recording is not None and self.recording.simulated
