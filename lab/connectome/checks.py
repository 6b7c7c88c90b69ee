"""Checks of the room's settings against the recordings, run before any long work starts.

They reuse the engine's own validation (same messages as the engine would give later), fed
with cheap stand-ins: one presence row per worm and empty arrays of the right length, so the
simulated default can be checked before it is simulated.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from engines.connectome.errors import TooFewWindowsError
from engines.connectome.validation import check_kernel_lag, check_traces, count_windows, select_neurons
from engines.errors import InvalidInputError

MI_BINS = 4  # the engine's default number of bins for the mutual-information affinity


def check_plan(presence: Sequence[np.ndarray], n_samples: Sequence[int], dts: Sequence[float],
               neuron_names: Sequence[str], window_s: float, step_s: float, affinity: str,
               rank: int | None, min_worm_fraction: float, kernel_lag_s: float = 0.0) -> tuple[int, int]:
    """(windows, neurons kept) the settings give; raises the engine's typed errors otherwise."""
    if step_s > window_s:
        raise InvalidInputError(f"A step of {step_s:g} s is longer than the window ({window_s:g} s): "
                                "samples between windows would be skipped. Shorten the step.")
    lengths = [np.empty((int(n), 0)) for n in n_samples]
    n_windows = count_windows(lengths, list(dts), window_s, step_s, rank)
    check_kernel_lag(affinity, kernel_lag_s, window_s, dts)
    shortest = min(int(round(window_s / dt)) for dt in dts)
    if affinity == "mutual_information" and shortest < 4 * MI_BINS:
        raise TooFewWindowsError(f"Mutual information needs windows of at least {4 * MI_BINS} samples; "
                                 f"{window_s:g} s holds {shortest}. Use a longer window or another affinity.")
    keep = select_neurons(list(presence), list(neuron_names), min_worm_fraction, rank)
    return n_windows, len(keep)


def check_recordings(traces: Sequence[np.ndarray], neuron_names: Sequence[str], dts: Sequence[float],
                     **settings) -> tuple[int, int]:
    """``check_plan`` for recordings already in memory (all-NaN traces are caught here too)."""
    check_traces(traces, neuron_names, dts)
    presence = [np.isfinite(np.asarray(t)).any(axis=0, keepdims=True) for t in traces]
    presence = [np.where(p, 0.0, np.nan) for p in presence]
    return check_plan(presence, [len(t) for t in traces], dts, neuron_names, **settings)
