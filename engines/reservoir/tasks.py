"""Benchmark tasks with explicit warm-up / train / validation / test splits.

Every task generates its input series, and scores the reservoir states that series produced
(states[t] is the state after input u[t]). Tasks know nothing about the simulator: any driver
with ``reset_activity()`` and ``run(u) -> states`` works (ours, or reservoirpy via interop).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from engines.errors import InvalidInputError
from engines.reservoir.readout import fit_ridge, nrmse


class Driver(Protocol):
    def reset_activity(self) -> None: ...
    def run(self, inputs: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Split:
    """Consecutive segments of one run: warm-up (discarded), train, validation, test."""
    warmup: int = 200
    train: int = 2000
    val: int = 500
    test: int = 1000

    def __post_init__(self):
        if min(self.warmup, self.train, self.val, self.test) < 0 or min(self.train, self.val, self.test) < 2:
            raise InvalidInputError(f"split lengths must be >= 0 (train/val/test >= 2), got {self}")

    @property
    def total(self) -> int:
        return self.warmup + self.train + self.val + self.test

    def slices(self) -> tuple[slice, slice, slice]:
        a = self.warmup
        b, c = a + self.train, a + self.train + self.val
        return slice(a, b), slice(b, c), slice(c, c + self.test)


@dataclass(frozen=True)
class TaskScore:
    task: str
    metric: str
    value: float
    curve: np.ndarray | None = None   # MC_k for the memory task


def _fit_and_predict(states, targets, split: Split):
    train, val, test = split.slices()
    readout = fit_ridge(states[train], targets[train], states[val], targets[val])
    return readout, readout.predict(states[test]), targets[test]


@dataclass(frozen=True)
class MemoryCapacity:
    """MC = sum_k r^2(u(t - k), y_k(t)), k = 1..k_max, with i.i.d. u ~ U[-1, 1]."""
    k_max: int = 100
    split: Split = field(default_factory=Split)
    seed: int = 0
    name: str = "memory capacity"

    def inputs(self) -> np.ndarray:
        if self.split.warmup < self.k_max:
            raise InvalidInputError(f"the warm-up ({self.split.warmup}) must cover k_max ({self.k_max})")
        return np.random.default_rng(self.seed).uniform(-1, 1, (self.split.total, 1))

    def targets(self, u: np.ndarray) -> np.ndarray:
        t = np.arange(len(u))
        lags = np.arange(1, self.k_max + 1)
        return u[:, 0][np.clip(t[:, None] - lags[None, :], 0, None)]

    def score(self, states: np.ndarray, u: np.ndarray | None = None) -> TaskScore:
        u = self.inputs() if u is None else u
        _, pred, target = _fit_and_predict(states, self.targets(u), self.split)
        r2 = np.array([np.corrcoef(pred[:, k], target[:, k])[0, 1] ** 2 if pred[:, k].std() > 0 else 0.0
                       for k in range(self.k_max)])
        return TaskScore(self.name, "MC", float(r2.sum()), r2)


def narma10_series(u: np.ndarray) -> np.ndarray:
    """y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 u(t-9) u(t) + 0.1 (y = 0 before t = 10)."""
    u = np.asarray(u, dtype=float).ravel()
    y = np.zeros(len(u) + 1)
    for t in range(9, len(u)):
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * y[t - 9:t + 1].sum() + 1.5 * u[t - 9] * u[t] + 0.1
    return y


@dataclass(frozen=True)
class Narma10:
    """Predict y(t+1) of NARMA-10 from the state after u(t); u ~ U[0, 0.5]; NRMSE = RMSE / std."""
    split: Split = field(default_factory=Split)
    seed: int = 0
    name: str = "NARMA-10"

    def inputs(self) -> np.ndarray:
        return np.random.default_rng(self.seed).uniform(0, 0.5, (self.split.total, 1))

    def score(self, states: np.ndarray, u: np.ndarray | None = None) -> TaskScore:
        u = self.inputs() if u is None else u
        target = narma10_series(u)[1:, None]
        _, pred, truth = _fit_and_predict(states, target, self.split)
        return TaskScore(self.name, "NRMSE", nrmse(truth, pred))


def mackey_glass_series(n_steps: int, seed: int = 0) -> np.ndarray:
    """Mackey-Glass tau = 17 (a = 0.2, b = 0.1, n = 10, h = 1) from reservoirpy, standardised."""
    from reservoirpy.datasets import mackey_glass
    x = mackey_glass(n_steps + 500, tau=17, a=0.2, b=0.1, n=10, h=1.0, seed=seed)[500:, :1]
    return (x - x.mean()) / x.std()


@dataclass(frozen=True)
class MackeyGlass:
    """One-step prediction of Mackey-Glass tau = 17, and free-run over ``horizon`` steps."""
    split: Split = field(default_factory=Split)
    seed: int = 0
    horizon: int = 84
    resync: int = 100
    name: str = "Mackey-Glass"

    def inputs(self) -> np.ndarray:
        return mackey_glass_series(self.split.total + 1, self.seed)

    def score(self, states: np.ndarray, u: np.ndarray | None = None) -> TaskScore:
        u = self.inputs() if u is None else u
        _, pred, truth = _fit_and_predict(states, u[1:], self.split)
        return TaskScore(self.name + " one-step", "NRMSE", nrmse(truth, pred))

    def free_run(self, driver: Driver) -> TaskScore:
        """Teacher-force, fit the one-step readout, then alternate resync / free-run segments
        over the test part, feeding predictions back as input; NRMSE over all free-run steps."""
        u = self.inputs()
        driver.reset_activity()
        train, val, test = self.split.slices()
        states = driver.run(u[:test.start])
        readout = fit_ridge(states[train], u[1:][train], states[val], u[1:][val])
        truths, preds, t = [], [], test.start
        while t + self.resync + self.horizon + 1 <= len(u):
            x = driver.run(u[t:t + self.resync])[-1]
            t += self.resync
            for _ in range(self.horizon):
                y = readout.predict(x[None])[0]
                preds.append(y[0])
                truths.append(u[t, 0])
                x = driver.run(y[None])[-1]
                t += 1
        if not preds:
            raise InvalidInputError("the test split is shorter than one resync + horizon segment")
        return TaskScore(self.name + f" free-run {self.horizon}", "NRMSE", nrmse(truths, preds))


def evaluate(driver: Driver, task) -> TaskScore:
    """Zero the driver's activity (learned weights stay), feed the task's inputs and score the states."""
    driver.reset_activity()
    u = task.inputs()
    return task.score(driver.run(u), u)


# The tasks by key (sweeps, the room); each class's ``name`` is what tables and plots show
TASKS = {"mc": MemoryCapacity, "narma10": Narma10, "mackey_glass": MackeyGlass}


def make_task(key: str, split: Split, seed: int, k_max: int = 100):
    """The task ``key`` (one of TASKS) on ``split``; ``k_max`` is the memory task's longest delay."""
    if key not in TASKS:
        raise InvalidInputError(f"unknown task {key!r}; choose from {sorted(TASKS)}")
    task = TASKS[key](split=split, seed=seed)
    return replace(task, k_max=k_max) if key == "mc" else task
