"""The affinity tensor: time window x worm x neuron pair, with the mask of observed entries.

Input is plain arrays so the engine does not depend on a loader: one ``(T, n_neurons)`` float
array per worm (NaN columns for neurons that worm did not record), the neuron names shared by
all columns, and the sampling interval(s). ``from_collection`` adapts an
``engines.worms.model.Collection``.

A neuron counts as present in a window when all its samples there are finite; a pair is
observed in (window, worm) when both neurons are present. Unobserved entries are 0 in
``values`` and False in ``mask``: the factorisation ignores them (see ``ntf``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engines.connectome.affinity import compute_affinity
from engines.errors import InvalidInputError
from engines.connectome.validation import (check_kernel_lag, check_traces, count_windows, lag_samples,
                                           select_neurons)


@dataclass
class AffinityTensor:
    values: np.ndarray            # (n_windows, n_worms, n_pairs) float32, 0 where unobserved
    mask: np.ndarray              # same shape, True where observed
    neurons: tuple[str, ...]      # the neurons the pairs refer to
    pairs: np.ndarray             # (n_pairs, 2) indices into ``neurons``, i < j
    window_start_s: np.ndarray    # (n_windows,) start time of each window
    window_s: float
    step_s: float
    worm_names: tuple[str, ...]
    affinity: str
    options: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape

    @property
    def window_centre_s(self) -> np.ndarray:
        return self.window_start_s + self.window_s / 2

    @property
    def observed_fraction(self) -> float:
        return float(self.mask.mean())

    def pair_matrix(self, pair_values: np.ndarray) -> np.ndarray:
        """Symmetric (n_neurons, n_neurons) matrix from a vector over pairs; zero diagonal."""
        n = len(self.neurons)
        matrix = np.zeros((n, n), dtype=np.float64)
        matrix[self.pairs[:, 0], self.pairs[:, 1]] = pair_values
        matrix[self.pairs[:, 1], self.pairs[:, 0]] = pair_values
        return matrix


def _windows_of(trace: np.ndarray, dt: float, starts_s: np.ndarray, window_s: float):
    """Stack (n_windows, L, N) of one worm's windows and which windows fit in its recording."""
    length = int(round(window_s / dt))
    first = np.round(starts_s / dt).astype(int)
    fits = first + length <= trace.shape[0]
    index = first[fits, None] + np.arange(length)[None, :]
    return trace[index], fits


def _pair_affinities(windows: np.ndarray, sub_i: np.ndarray, sub_j: np.ndarray, affinity: str,
                     options: dict) -> tuple[np.ndarray, np.ndarray]:
    """(values, observed) over pairs for one worm's windows; absent neurons are left out."""
    present = np.all(np.isfinite(windows), axis=1)                        # (n_windows, n_neurons)
    cols = np.flatnonzero(present.any(axis=0))
    n_neurons = windows.shape[2]
    full = np.zeros((len(windows), n_neurons, n_neurons), dtype=np.float32)
    if len(cols) >= 2:
        full[:, cols[:, None], cols[None, :]] = compute_affinity(windows[:, :, cols], affinity, **options)
    return full[:, sub_i, sub_j], present[:, sub_i] & present[:, sub_j]


def build_tensor(traces: Sequence[np.ndarray], neuron_names: Sequence[str], dt: float | Sequence[float],
                 window_s: float, step_s: float, affinity: str = "correlation", rank: int | None = None,
                 worm_names: Sequence[str] | None = None, min_worm_fraction: float = 0.5,
                 progress: Callable[[float, str], None] | None = None, kernel_lag_s: float = 0.0,
                 **affinity_options) -> AffinityTensor:
    """Affinities of every worm in sliding windows, stacked as (window, worm, pair) with a mask.

    Neurons present in at least ``min_worm_fraction`` of the worms (and at least two worms when
    there are several) are kept; a worm missing one of them has those pairs masked. ``rank``,
    when given, is checked against the number of windows and neurons before any work starts.
    ``kernel_lag_s`` (kernel affinity only) is its lag tolerance in seconds, turned into samples
    for each worm's own sampling interval. ``progress(fraction, message)`` is called after each worm.
    """
    dts = [float(dt)] * len(traces) if np.isscalar(dt) else [float(d) for d in dt]
    check_traces(traces, neuron_names, dts)
    check_kernel_lag(affinity, kernel_lag_s, window_s, dts)
    starts = np.arange(count_windows(traces, dts, window_s, step_s, rank)) * step_s
    keep = select_neurons(traces, neuron_names, min_worm_fraction, rank)
    sub_i, sub_j = np.triu_indices(len(keep), k=1)
    n_pairs, n_worms = len(sub_i), len(traces)
    values = np.zeros((len(starts), n_worms, n_pairs), dtype=np.float32)
    mask = np.zeros_like(values, dtype=bool)
    for w, (trace, step_dt) in enumerate(zip(traces, dts)):
        windows, fits = _windows_of(np.asarray(trace, dtype=np.float32)[:, keep], step_dt, starts, window_s)
        options = {**affinity_options, "max_lag": lag_samples(kernel_lag_s, step_dt)} if kernel_lag_s else affinity_options
        values[fits, w], mask[fits, w] = _pair_affinities(windows, sub_i, sub_j, affinity, options)
        if progress is not None:
            progress((w + 1) / n_worms, f"affinities of worm {w + 1}/{n_worms}")
    values[~mask] = 0.0
    names = tuple(worm_names) if worm_names is not None else tuple(f"worm {k}" for k in range(n_worms))
    return AffinityTensor(values, mask, tuple(neuron_names[k] for k in keep), np.stack([sub_i, sub_j], 1),
                          starts.astype(float), float(window_s), float(step_s), names, affinity,
                          {**affinity_options, **({"kernel_lag_s": float(kernel_lag_s)} if kernel_lag_s else {})})


def from_collection(collection, window_s: float, step_s: float, affinity: str = "correlation",
                    **kwargs) -> AffinityTensor:
    """Build the tensor from an ``engines.worms.model.Collection`` on its canonical neuron axis."""
    axes = {recording.neuron_axis for recording in collection.recordings}
    if len(axes) != 1:
        raise InvalidInputError("Mix of recordings with merged left/right classes and single neurons; "
                                "merge all of them or none.")
    traces, dts = [], []
    for recording in collection.recordings:
        aligned, _present = recording.aligned()
        traces.append(aligned)
        dts.append(float(np.median(np.diff(recording.time))) if len(recording.time) > 1 else 1.0)
    return build_tensor(traces, axes.pop(), dts, window_s, step_s, affinity,
                        worm_names=[r.name for r in collection.recordings], **kwargs)
