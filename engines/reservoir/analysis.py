"""Analyses of one reservoir as it is now: its spectra, and a readout trained on a task.

Both use the reservoir's current state (including what adaptation has learned) and leave it
as it was, so a live run continues where it stopped.

    spectrum(res) -> Spectrum          eigenvalues of W and of the Jacobian (O(N^3): on request)
    spectrum_of(*linearisation(res))   the same in two parts: copy the matrices (cheap, e.g. under
                                       a lock), then the eigenvalues (slow, without it)
    train_readout(res, "mc", seed) -> TaskResult   score, MC_k curve or prediction vs target
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engines.reservoir.observables import eigenvalues
from engines.reservoir.readout import fit_ridge
from engines.reservoir.simulator import BatchedReservoir
from engines.reservoir.tasks import Split, make_task, narma10_series

SHOWN_TEST_STEPS = 300   # prediction vs target: enough to see the fit, few enough to draw


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of the effective W and of the Jacobian at the state of step ``step``."""
    weights: np.ndarray          # complex (N,)
    jacobian: np.ndarray         # complex (N,)
    outlier: complex             # the eigenvalue of W set by the mean E - I drive (about 1 - g)
    step: int

    @property
    def weights_radius(self) -> float:
        return float(np.abs(self.weights).max())

    @property
    def jacobian_radius(self) -> float:
        return float(np.abs(self.jacobian).max())


def linearisation(reservoir: BatchedReservoir, b: int = 0) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """Reservoir b's effective W, its Jacobian at the current state, and the step (copies)."""
    return reservoir.effective_weights(b), reservoir.jacobian(b), reservoir.step_count


def spectrum_of(weights, jacobian, step: int) -> Spectrum:
    values = eigenvalues(weights)
    # a Dale's-law network's mean row sum (E minus I drive) predicts its real outlier
    mean_row_sum = float(np.asarray(weights.sum(axis=1)).mean())
    outlier = complex(values[np.argmin(np.abs(values - mean_row_sum))])
    return Spectrum(values, eigenvalues(jacobian), outlier, step)


def spectrum(reservoir: BatchedReservoir, b: int = 0) -> Spectrum:
    """O(N^3) (two dense eigenvalue problems): call on request, never per frame."""
    return spectrum_of(*linearisation(reservoir, b))


@dataclass(frozen=True)
class TaskResult:
    """A readout trained on a reservoir: the score, what to plot, and the settings it had."""
    task: str                        # the task's name ("memory capacity", "NARMA-10", ...)
    metric: str                      # "MC" or "NRMSE"
    value: float
    memory_curve: np.ndarray | None  # MC_k, k = 1..k_max (memory capacity only)
    target: np.ndarray | None        # test-split target (prediction tasks only)
    prediction: np.ndarray | None
    balance: float
    adaptation: str                  # the reservoir's adaptation mode


def _series_target(task_key: str, u: np.ndarray) -> np.ndarray:
    """What the readout must produce from the state after u(t): y(t + 1)."""
    if task_key == "narma10":
        return narma10_series(u)[1:, None]
    return u[1:]


def _task_states(reservoir: BatchedReservoir, u: np.ndarray) -> np.ndarray:
    """States of reservoir 0 driven by u from rest with adaptation frozen; its state is restored."""
    saved = reservoir.snapshot()
    try:
        reservoir.rates[:] = 0.0
        reservoir.set_adaptation(False)
        return reservoir.run(u).astype(np.float64).reshape(len(u), reservoir.n, -1)[:, :, 0]
    finally:
        reservoir.restore(saved)


def train_readout(reservoir: BatchedReservoir, task_key: str, seed: int, split: Split | None = None) -> TaskResult:
    """Freeze adaptation, drive the reservoir from rest with the task's inputs, fit a ridge readout.

    The reservoir's state (rates, learned inhibition, adaptation switch, step count) is
    restored afterwards.
    """
    split = split or Split()
    task = make_task(task_key, split, seed, k_max=min(100, split.warmup))
    u = task.inputs()
    states = _task_states(reservoir, u)
    score = task.score(states, u)
    settings = dict(balance=reservoir.params.balance, adaptation=reservoir.adaptation_mode)
    if task_key == "mc":
        return TaskResult(task.name, score.metric, score.value, score.curve, None, None, **settings)
    target = _series_target(task_key, u)
    train, val, test = split.slices()
    readout = fit_ridge(states[train], target[train], states[val], target[val])
    shown = slice(test.start, min(test.stop, test.start + SHOWN_TEST_STEPS))
    return TaskResult(task.name, score.metric, score.value, None, target[shown, 0],
                      readout.predict(states[shown])[:, 0], **settings)
