"""Non-negative CP (PARAFAC) factorisation of the masked affinity tensor with tensorly's HALS.

tensorly 0.10's ``non_negative_parafac_hals`` takes no mask, so masked entries are handled by
expectation-maximisation imputation (the standard EM treatment of missing data in CP, Tomasi &
Bro 2005): before every HALS sweep the unobserved entries are replaced by the current model's
reconstruction, and HALS is warm-started from the current factors for one iteration. The error
reported is the relative error over observed entries only. Without missing entries this is
plain HALS.

Convergence: the relative change of that error between sweeps falls below ``tol``.

``NTFRunner`` is the step-wise form a room drives (advance N sweeps, snapshot cheaply,
stop at any time); ``fit_ntf`` runs it to convergence with an optional progress callback and a
``should_stop`` hook.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import CPTensor, cp_normalize, cp_to_tensor
from tensorly.decomposition import non_negative_parafac_hals

from engines.connectome.validation import check_rank
from engines.errors import DivergenceError, InvalidInputError


@dataclass
class NTFResult:
    weights: np.ndarray           # (rank,) component norms, largest first
    factors: list[np.ndarray]     # [windows x rank, worms x rank, pairs x rank], unit-norm columns
    errors: list[float]           # relative error on observed entries after each sweep
    n_iter: int
    converged: bool
    rank: int
    seed: int

    @property
    def error(self) -> float:
        return self.errors[-1] if self.errors else float("nan")

    @property
    def cp_tensor(self) -> CPTensor:
        return CPTensor((self.weights, self.factors))


def _random_init(shape, rank: int, scale: float, rng: np.random.Generator) -> CPTensor:
    """Uniform non-negative factors scaled so the model's mean matches the data's mean."""
    factors = [rng.uniform(0.0, 1.0, size=(n, rank)) for n in shape]
    per_entry = np.prod([0.5 for _ in shape]) * rank
    factors[-1] *= scale / per_entry
    return CPTensor((np.ones(rank), factors))


def _check_values(values: np.ndarray, mask: np.ndarray | None, rank: int) -> np.ndarray | None:
    """Shape, rank and values of the tensor; returns the mask, or None when all is observed."""
    if values.ndim != 3:
        raise InvalidInputError(f"Expected a 3-way tensor, got shape {values.shape}.")
    check_rank(values.shape, rank)
    if mask is not None and np.shape(mask) != values.shape:
        raise InvalidInputError(f"The mask has shape {np.shape(mask)}, the tensor {values.shape}.")
    mask = None if mask is None or np.all(mask) else np.asarray(mask, dtype=bool)
    if mask is not None and not mask.any():
        raise InvalidInputError("The tensor has no observed entry.")
    observed = values[mask] if mask is not None else values
    if not np.all(np.isfinite(observed)):
        raise InvalidInputError("The tensor has NaN or infinite entries that are not masked.")
    if np.any(observed < 0):
        raise InvalidInputError("Affinities must be non-negative for a non-negative factorisation.")
    return mask


class NTFRunner:
    """Masked non-negative CP fitted sweep by sweep; ``step`` advances, ``snapshot`` reads."""

    def __init__(self, values: np.ndarray, mask: np.ndarray | None, rank: int, seed: int = 0,
                 tol: float = 1e-5, max_iter: int = 300):
        values = np.asarray(values, dtype=np.float64)
        self.mask = _check_values(values, mask, rank)
        self.observed = values if self.mask is None else np.where(self.mask, values, 0.0)
        self.rank, self.seed, self.tol, self.max_iter = int(rank), int(seed), float(tol), int(max_iter)
        self.norm_observed = float(np.linalg.norm(self.observed)) or 1.0
        mean = self.observed.sum() / (self.mask.sum() if self.mask is not None else values.size)
        self.cp = _random_init(values.shape, self.rank, float(mean), np.random.default_rng(seed))
        self.filled = self.observed.copy()
        if self.mask is not None:
            self.mask_float = self.mask.astype(np.float64)
            self.filled[~self.mask] = mean
        self.errors: list[float] = []
        self.converged = False

    @property
    def n_iter(self) -> int:
        return len(self.errors)

    @property
    def done(self) -> bool:
        return self.converged or self.n_iter >= self.max_iter

    def _sweep(self) -> float:
        if self.mask is None:
            # tensorly's own error (from the last MTTKRP) saves rebuilding the full tensor
            self.cp, errors = non_negative_parafac_hals(self.filled, self.rank, n_iter_max=1, init=self.cp,
                                                        tol=1e-300, return_errors=True)
            return float(errors[-1])
        self.cp = non_negative_parafac_hals(self.filled, self.rank, n_iter_max=1, init=self.cp, tol=0)
        model = cp_to_tensor(self.cp)
        residual = np.subtract(self.observed, model)
        residual *= self.mask_float                    # only observed entries count
        model += residual                              # E-step: data where observed, model elsewhere
        self.filled = model
        return float(np.linalg.norm(residual)) / self.norm_observed

    def step(self, n: int = 1) -> "NTFRunner":
        for _ in range(n):
            if self.done:
                break
            error = self._sweep()
            if not np.isfinite(error):
                raise DivergenceError("The factorisation produced non-finite values; try another seed.")
            self.errors.append(error)
            # relative change: EM with many missing entries creeps on long after the fit is usable
            if len(self.errors) > 1 and abs(self.errors[-2] - error) < self.tol * max(error, 1e-12):
                self.converged = True
        return self

    def snapshot(self) -> NTFResult:
        weights, factors = cp_normalize(CPTensor((tl.copy(self.cp.weights), [tl.copy(f) for f in self.cp.factors])))
        order = np.argsort(-np.asarray(weights), kind="stable")
        return NTFResult(np.asarray(weights)[order], [np.asarray(f)[:, order] for f in factors],
                         list(self.errors), self.n_iter, self.converged, self.rank, self.seed)

    def imputed_tensor(self) -> np.ndarray:
        """The data with unobserved entries replaced by the current model."""
        return self.filled if self.mask is not None else self.observed


def fit_ntf(values: np.ndarray, mask: np.ndarray | None, rank: int, seed: int = 0, tol: float = 1e-5,
            max_iter: int = 300, progress: Callable[[int, float], None] | None = None,
            should_stop: Callable[[], bool] | None = None, chunk: int = 5) -> tuple[NTFResult, np.ndarray]:
    """Fit to convergence (or ``max_iter``, or until ``should_stop()``); returns result and imputed data."""
    runner = NTFRunner(values, mask, rank, seed, tol, max_iter)
    while not runner.done:
        if should_stop is not None and should_stop():
            break
        runner.step(chunk)
        if progress is not None:
            progress(runner.n_iter, runner.errors[-1])
    return runner.snapshot(), runner.imputed_tensor()
