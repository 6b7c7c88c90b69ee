"""The rolling window of a live reservoir run and the snapshot the views draw from.

The simulation thread appends every chunk of steps to a ``LiveWindow``; a few times a second
it freezes the window into a ``LiveSnapshot`` (plain arrays, copied) that views can read at
leisure while the simulation goes on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.reservoir.observables import classify_regime


@dataclass(frozen=True)
class LiveSnapshot:
    """What the live views show: the last ``len(times)`` steps of one reservoir."""
    step: int                   # steps simulated so far
    times: np.ndarray           # (W,) step index of each row
    rates: np.ndarray           # (W, N) firing rates, float32
    exc_population: np.ndarray  # (W,) mean excitatory input current over neurons
    inh_population: np.ndarray  # (W,) mean inhibitory input current (a positive magnitude)
    exc_neuron: np.ndarray      # (W,) excitatory input of the chosen neuron
    inh_neuron: np.ndarray      # (W,) inhibitory input of the chosen neuron
    target_error: np.ndarray    # (W,) mean |r_i - rho_i| over neurons
    mean_rates: np.ndarray      # (N,) each neuron's rate averaged over the window
    targets: np.ndarray         # (N,) the target rates rho_i
    neuron: int
    regime: str


class LiveWindow:
    """Ring of the last ``length`` steps of rates and input currents."""

    def __init__(self, n_neurons: int, length: int):
        self.length = length
        self.n_neurons = n_neurons
        self.clear()

    def clear(self) -> None:
        self.times = np.zeros(0, dtype=np.int64)
        self.rates = np.zeros((0, self.n_neurons), dtype=np.float32)
        self.exc = np.zeros((0, self.n_neurons), dtype=np.float32)
        self.inh = np.zeros((0, self.n_neurons), dtype=np.float32)
        self.target_error = np.zeros(0)

    def __len__(self) -> int:
        return len(self.times)

    def append(self, trace) -> None:
        """Add a squeezed engine Trace (steps, N) recorded with its currents."""
        steps = len(trace.rates)
        if steps == 0:
            return
        keep = self.length
        times = trace.first_step + 1 + np.arange(steps)
        self.times = np.concatenate([self.times, times])[-keep:]
        self.rates = np.concatenate([self.rates, trace.rates])[-keep:]
        self.exc = np.concatenate([self.exc, trace.exc_current])[-keep:]
        self.inh = np.concatenate([self.inh, trace.inh_current])[-keep:]
        self.target_error = np.concatenate([self.target_error, trace.target_error])[-keep:]

    def regime(self) -> str:
        """The dynamical regime of the window ('' until there are enough steps to tell)."""
        if len(self) < 4:
            return ""
        return classify_regime(self.rates).value

    def snapshot(self, step: int, targets: np.ndarray, neuron: int) -> LiveSnapshot:
        neuron = min(neuron, self.n_neurons - 1)
        empty = len(self) == 0
        return LiveSnapshot(
            step=step, times=self.times.copy(), rates=self.rates.copy(),
            exc_population=self.exc.mean(axis=1), inh_population=self.inh.mean(axis=1),
            exc_neuron=self.exc[:, neuron].copy(), inh_neuron=self.inh[:, neuron].copy(),
            target_error=self.target_error.copy(),
            mean_rates=np.zeros(self.n_neurons) if empty else self.rates.mean(axis=0),
            targets=np.asarray(targets, dtype=float).copy(), neuron=neuron, regime=self.regime())
