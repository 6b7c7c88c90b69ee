"""On-demand analyses of the live reservoir: its spectra and a trained readout on a task.

Both work on the reservoir as it is now (including what adaptation has learned) and leave
its running state untouched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.reservoir.observables import eigenvalues
from engines.reservoir.readout import fit_ridge
from engines.reservoir.sweep import make_task
from engines.reservoir.tasks import Split, narma10_series

# The room's task names and the engine's
TASK_KEYS = {"memory capacity": "mc", "NARMA-10": "narma10", "Mackey-Glass": "mackey_glass"}
SHOWN_TEST_STEPS = 300   # prediction vs target: enough to see the fit, few enough to draw


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of the effective W and of the Jacobian at the current state."""
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


def spectrum(reservoir) -> Spectrum:
    """O(N^3): call when parameters change or on request, never per frame."""
    w = reservoir.effective_weights(0)
    weights = eigenvalues(w)
    # a Dale's-law network's mean row sum (E minus I drive) predicts its real outlier
    mean_row_sum = float(np.asarray(w.sum(axis=1)).mean())
    outlier = complex(weights[np.argmin(np.abs(weights - mean_row_sum))])
    return Spectrum(weights, eigenvalues(reservoir.jacobian(0)), outlier, reservoir.step_count)


@dataclass(frozen=True)
class TaskResult:
    """A readout trained on the live reservoir: the score and what to plot."""
    task: str                        # the room's task name
    metric: str                      # "MC" or "NRMSE"
    value: float
    memory_curve: np.ndarray | None  # MC_k, k = 1..k_max (memory capacity only)
    target: np.ndarray | None        # test-split target (prediction tasks only)
    prediction: np.ndarray | None
    balance: float
    adaptation: str


def _series_target(task_key: str, u: np.ndarray) -> np.ndarray:
    """What the readout must produce from the state after u(t): y(t + 1)."""
    if task_key == "narma10":
        return narma10_series(u)[1:, None]
    return u[1:]


def train_readout(reservoir, task_name: str, seed: int, balance: float, adaptation: str,
                  split: Split | None = None) -> TaskResult:
    """Freeze adaptation, drive the reservoir from rest with the task's inputs, fit a ridge readout.

    The reservoir's state (rates, learned inhibition, adaptation switch, step count) is
    restored afterwards, so a live run continues where it was.
    """
    key = TASK_KEYS[task_name]
    split = split or Split()
    task = make_task(key, split, seed, k_max=min(100, split.warmup))
    saved = reservoir.snapshot()
    try:
        reservoir.rates[:] = 0.0
        reservoir.set_adaptation(False)
        u = task.inputs()
        states = reservoir.run(u).astype(np.float64)
    finally:
        reservoir.restore(saved)
    score = task.score(states, u)
    if key == "mc":
        return TaskResult(task_name, score.metric, score.value, score.curve, None, None, balance, adaptation)
    target = _series_target(key, u)
    train, val, test = split.slices()
    readout = fit_ridge(states[train], target[train], states[val], target[val])
    shown = slice(test.start, min(test.stop, test.start + SHOWN_TEST_STEPS))
    return TaskResult(task_name, score.metric, score.value, None, target[shown, 0],
                      readout.predict(states[shown])[:, 0], balance, adaptation)
