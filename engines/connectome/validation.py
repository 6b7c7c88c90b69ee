"""Checks on recordings and settings that run before any long computation, with clear messages."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from engines.connectome.errors import (AllNaNTracesError, NoSharedNeuronsError, TooFewNeuronsError,
                                       TooFewWindowsError)
from engines.errors import InvalidInputError


def check_traces(traces: Sequence[np.ndarray], neuron_names: Sequence[str], dts: Sequence[float]) -> None:
    """Shapes, sampling intervals and the presence of finite samples in every recording."""
    if len(traces) == 0:
        raise InvalidInputError("No recordings were given.")
    if len(dts) != len(traces):
        raise InvalidInputError(f"{len(traces)} recordings but {len(dts)} sampling intervals.")
    for k, (trace, dt) in enumerate(zip(traces, dts)):
        trace = np.asarray(trace)
        if trace.ndim != 2 or trace.shape[1] != len(neuron_names):
            raise InvalidInputError(
                f"Recording {k} has shape {trace.shape}; expected (time, {len(neuron_names)}) "
                "with one column per neuron name.")
        if not dt > 0:
            raise InvalidInputError(f"Recording {k} has a sampling interval of {dt} s; it must be positive.")
        if not np.isfinite(trace).any():
            raise AllNaNTracesError(f"Recording {k} holds no finite sample: every trace is NaN.")


def present_neurons(trace: np.ndarray) -> np.ndarray:
    """Columns with at least one finite sample."""
    return np.isfinite(np.asarray(trace)).any(axis=0)


def select_neurons(traces: Sequence[np.ndarray], neuron_names: Sequence[str],
                   min_worm_fraction: float, rank: int | None) -> np.ndarray:
    """Indices of the neurons recorded in enough worms; raises when too few are shared."""
    presence = np.stack([present_neurons(t) for t in traces])        # (worms, neurons)
    n_worms = len(traces)
    needed = max(int(np.ceil(min_worm_fraction * n_worms)), 2 if n_worms > 1 else 1)
    keep = np.flatnonzero(presence.sum(axis=0) >= needed)
    if n_worms > 1 and not (presence.sum(axis=0) >= 2).any():
        raise NoSharedNeuronsError(
            f"The {n_worms} recordings share no neuron: no labelled neuron appears in two of them, "
            "so their affinities cannot be compared. Choose recordings with common labelled neurons.")
    if len(keep) < 2:
        raise TooFewNeuronsError(
            f"Only {len(keep)} neuron(s) are recorded in at least {needed} of the {n_worms} worms; "
            "at least 2 are needed for a pair. Lower the required fraction of worms or add recordings.")
    n_pairs = len(keep) * (len(keep) - 1) // 2
    if rank is not None and n_pairs < rank:
        raise TooFewNeuronsError(
            f"{len(keep)} shared neurons give {n_pairs} pairs, fewer than the rank {rank}. "
            "Choose a lower rank or recordings with more shared neurons.")
    return keep


def count_windows(traces: Sequence[np.ndarray], dts: Sequence[float], window_s: float, step_s: float,
                  rank: int | None) -> int:
    """Number of sliding windows over the longest recording; raises when too few for ``rank``."""
    if not (window_s > 0 and step_s > 0):
        raise InvalidInputError(f"Window ({window_s} s) and step ({step_s} s) must be positive.")
    durations = [np.asarray(t).shape[0] * dt for t, dt in zip(traces, dts)]
    longest = max(durations)
    if min(round(window_s / dt) for dt in dts) < 3:
        raise TooFewWindowsError(f"A window of {window_s} s holds fewer than 3 samples; make it longer.")
    n_windows = int(np.floor((longest - window_s) / step_s + 1e-9)) + 1 if longest >= window_s else 0
    if n_windows < 1:
        raise TooFewWindowsError(
            f"The longest recording lasts {longest:.1f} s, shorter than one window of {window_s} s.")
    if rank is not None and n_windows < rank:
        raise TooFewWindowsError(
            f"{n_windows} windows of {window_s} s every {step_s} s are fewer than the rank {rank}. "
            "Use a shorter step or window, or a lower rank.")
    return n_windows


def lag_samples(kernel_lag_s: float, dt: float) -> int:
    """The kernel affinity's lag tolerance in samples of a recording sampled every ``dt`` s."""
    return int(round(float(kernel_lag_s) / dt))


def check_kernel_lag(affinity: str, kernel_lag_s: float, window_s: float, dts: Sequence[float]) -> None:
    """A lag tolerance only for the kernel affinity, and short enough that a shifted pair still
    overlaps by at least half the window in every recording."""
    if kernel_lag_s < 0:
        raise InvalidInputError(f"The lag tolerance must be 0 s or more, not {kernel_lag_s:g} s.")
    if kernel_lag_s > 0 and affinity != "kernel":
        raise InvalidInputError(f"A lag tolerance applies to the kernel affinity only, not to {affinity}; "
                                "choose the kernel affinity or set the lag tolerance to 0.")
    for dt in dts:
        if 2 * lag_samples(kernel_lag_s, dt) > int(round(window_s / dt)) - 1:
            raise TooFewWindowsError(f"A lag tolerance of {kernel_lag_s:g} s needs windows of more than twice "
                                     f"that; {window_s:g} s is too short. Lengthen the window or shorten the lag.")


def check_rank(shape: tuple[int, int, int], rank: int) -> None:
    """A rank the tensor (windows, worms, pairs) can support."""
    if int(rank) < 1:
        raise InvalidInputError(f"The rank must be at least 1, not {rank}.")
    n_windows, _n_worms, n_pairs = shape
    if n_windows < rank:
        raise TooFewWindowsError(f"The tensor has {n_windows} windows, fewer than the rank {rank}.")
    if n_pairs < rank:
        raise TooFewNeuronsError(f"The tensor has {n_pairs} neuron pairs, fewer than the rank {rank}.")
