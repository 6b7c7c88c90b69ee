"""A reservoir running live: its input stream, the rolling window the views show, and snapshots.

``LiveRun`` is what the simulation process steps (and what the room steps by hand): the
reservoir, the random input drive and a ``LiveWindow``, a ring of the last steps' rates and
input currents. Appending a chunk costs O(chunk), whatever the window's length. A few times a
second the window is frozen into a ``LiveSnapshot`` (plain arrays, copied) for the views.
Live settings reach the run as engine calls, ``run.apply([(BatchedReservoir.set_balance, 0.5)])``,
the same in the room and in the simulation process.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from engines.reservoir.observables import classify_regime
from engines.reservoir.simulator import BatchedReservoir, RunawayActivityError


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
        self.times = np.zeros(length, dtype=np.int64)
        self.rates = np.zeros((length, n_neurons), dtype=np.float32)
        self.exc = np.zeros((length, n_neurons), dtype=np.float32)
        self.inh = np.zeros((length, n_neurons), dtype=np.float32)
        self.target_error = np.zeros(length)
        self.clear()

    def clear(self) -> None:
        self._end = 0      # the row the next step goes to
        self._count = 0    # rows holding steps

    def __len__(self) -> int:
        return self._count

    def append(self, trace) -> None:
        """Add a squeezed engine Trace (steps, N) recorded with its currents; keeps its last steps."""
        steps = len(trace.rates)
        take = min(steps, self.length)
        if take == 0:
            return
        rates = trace.rates[steps - take:]
        first = trace.first_step + 1 + steps - take
        error = np.abs(rates - trace.targets[None].astype(np.float32)).mean(axis=1)
        for buffer, values in ((self.times, np.arange(first, first + take)), (self.rates, rates),
                               (self.exc, trace.exc_current[steps - take:]),
                               (self.inh, trace.inh_current[steps - take:]), (self.target_error, error)):
            head = min(take, self.length - self._end)     # rows before the ring wraps
            buffer[self._end:self._end + head] = values[:head]
            buffer[:take - head] = values[head:]
        self._end = (self._end + take) % self.length
        self._count = min(self._count + take, self.length)

    def _order(self) -> np.ndarray:
        """Rows of the ring from the oldest step to the newest."""
        return (self._end - self._count + np.arange(self._count)) % self.length

    def snapshot(self, step: int, targets: np.ndarray, neuron: int, regime: str | None = None) -> LiveSnapshot:
        """The window in time order (copies); the regime is classified unless given."""
        neuron = min(neuron, self.n_neurons - 1)
        order = self._order()
        rates = self.rates[order]
        if regime is None:
            regime = classify_regime(rates).value if len(order) >= 4 else ""
        return LiveSnapshot(
            step=step, times=self.times[order], rates=rates,
            exc_population=self.exc[order].mean(axis=1), inh_population=self.inh[order].mean(axis=1),
            exc_neuron=self.exc[order, neuron], inh_neuron=self.inh[order, neuron],
            target_error=self.target_error[order],
            mean_rates=rates.mean(axis=0) if len(order) else np.zeros(self.n_neurons),
            targets=np.asarray(targets, dtype=float).copy(), neuron=neuron, regime=regime)


class LiveRun:
    """One reservoir driven by U[-1, 1] noise, with the window of its last steps."""

    def __init__(self, reservoir: BatchedReservoir, window: int, input_seed: int):
        self.reservoir = reservoir
        self.window = LiveWindow(reservoir.n, window)
        self.inputs = np.random.default_rng(input_seed)

    def advance(self, steps: int) -> int:
        """Step; the steps older than the window run without recording currents (the engine's
        cheaper path). The input stream is the same however a run is chunked."""
        res = self.reservoir
        u = self.inputs.uniform(-1.0, 1.0, (steps, 1))
        unrecorded = max(0, steps - self.window.length)
        try:
            if unrecorded:
                res.step(inputs=u[:unrecorded], record_currents=False)
            self.window.append(res.step(inputs=u[unrecorded:]))
        except RunawayActivityError as error:
            if error.trace.exc_current is not None:
                self.window.append(error.trace)
            raise
        return steps

    def apply(self, calls: Iterable[tuple[Callable, object]]) -> None:
        """Live settings: each (engine method, value) is called on the reservoir, keeping its activity."""
        for method, value in calls:
            method(self.reservoir, value)

    def snapshot(self, neuron: int, regime: str | None = None) -> LiveSnapshot:
        res = self.reservoir
        return self.window.snapshot(res.step_count, res.targets[:, 0], neuron, regime)

    def resize_window(self, length: int) -> None:
        self.window = LiveWindow(self.reservoir.n, length)
