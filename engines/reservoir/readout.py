"""Linear ridge readout with the regularisation chosen per output on a validation split."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# alpha is relative to the mean eigenvalue of the centred Gram matrix, so the grid is scale-free
ALPHAS = tuple(10.0 ** np.arange(-9, 1))


@dataclass(frozen=True)
class Readout:
    weights: np.ndarray   # (N, outputs)
    bias: np.ndarray      # (outputs,)
    alphas: np.ndarray    # the chosen relative regularisation per output

    def predict(self, states: np.ndarray) -> np.ndarray:
        return states @ self.weights + self.bias


def fit_ridge(x_train, y_train, x_val, y_val, alphas=ALPHAS) -> Readout:
    """Closed-form ridge for every alpha at the cost of one eigendecomposition.

    With G = Xc^T Xc = V diag(s) V^T the solution is V diag(1 / (s + a)) V^T Xc^T Yc; each
    output keeps the alpha with the lowest validation MSE.
    """
    x_train, x_val = np.asarray(x_train, float), np.asarray(x_val, float)
    y_train = np.asarray(y_train, float).reshape(len(x_train), -1)
    y_val = np.asarray(y_val, float).reshape(len(x_val), -1)
    x_mean, y_mean = x_train.mean(axis=0), y_train.mean(axis=0)
    xc = x_train - x_mean
    s, v = np.linalg.eigh(xc.T @ xc)
    s = np.maximum(s, 0.0)
    projected = v.T @ (xc.T @ (y_train - y_mean))          # (N, outputs)
    val_rotated = (x_val - x_mean) @ v
    scale = max(s.mean(), 1e-300)
    best_err = np.full(y_train.shape[1], np.inf)
    best_coef = np.zeros_like(projected)
    best_alpha = np.zeros(y_train.shape[1])
    for alpha in alphas:
        coef = projected / (s + alpha * scale)[:, None]
        err = ((val_rotated @ coef + y_mean - y_val) ** 2).mean(axis=0)
        better = err < best_err
        best_err[better], best_alpha[better] = err[better], alpha
        best_coef[:, better] = coef[:, better]
    weights = v @ best_coef
    return Readout(weights, y_mean - x_mean @ weights, best_alpha)


def nrmse(target, prediction) -> float:
    """Root-mean-square error divided by the standard deviation of the target."""
    target, prediction = np.asarray(target, float), np.asarray(prediction, float)
    return float(np.sqrt(np.mean((target - prediction) ** 2)) / np.std(target))
