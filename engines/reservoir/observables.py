"""Derived observables: spectra of W and of the Jacobian, and the dynamical regime."""
from __future__ import annotations

from enum import Enum

import numpy as np

from engines.errors import InvalidInputError


class Regime(str, Enum):
    SILENT = "silent"
    SATURATED = "saturated"
    PERIOD_2 = "period-2 oscillation"
    ASYNCHRONOUS = "asynchronous"


def eigenvalues(matrix) -> np.ndarray:
    """All eigenvalues of a (sparse or dense) square matrix; O(N^3), call on demand only."""
    dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return np.linalg.eigvals(dense)


def spectral_radius(matrix) -> float:
    return float(np.abs(eigenvalues(matrix)).max())


def activation_bounds(activation: str) -> tuple[float, float]:
    return {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(activation, (-np.inf, np.inf))


def classify_regime(rates: np.ndarray, activation: str = "sigmoid", floor: float = 0.05,
                    share: float = 0.9, min_swing: float = 0.02) -> Regime:
    """Label a window of rates (steps, N) from one reservoir.

    silent / saturated: at least ``share`` of all (step, neuron) rates lie within ``floor`` of
    the bottom / top of the activation's range (relative to its width). Period-2: the
    population mean alternates, i.e. it moves by more than ``min_swing`` per step while its
    value two steps apart stays close (|m_t - m_{t-2}| under a third of |m_t - m_{t-1}|).
    """
    r = np.asarray(rates, dtype=float)
    if r.ndim != 2 or r.shape[0] < 4:
        raise InvalidInputError(f"need rates of shape (steps >= 4, N), got {r.shape}")
    low, high = activation_bounds(activation)
    if np.isfinite(low):
        z = (r - low) / (high - low)
        if np.mean(z < floor) >= share:
            return Regime.SILENT
        if np.mean(z > 1 - floor) >= share:
            return Regime.SATURATED
    mean = r.mean(axis=1)
    step1 = np.abs(np.diff(mean)).mean()
    step2 = np.abs(mean[2:] - mean[:-2]).mean()
    if step1 > min_swing and step2 < step1 / 3:
        return Regime.PERIOD_2
    return Regime.ASYNCHRONOUS
