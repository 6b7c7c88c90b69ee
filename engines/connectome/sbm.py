"""A weighted stochastic block model (normal or exponential edge weights), fitted by variational EM.

No maintained PyPI package fits a weighted SBM (graph-tool, used by the published pipeline, is
not on PyPI), so the lab fits its own. Model: each neuron i belongs to block z_i with
probability pi; the weight of every pair i < j is drawn from a distribution whose parameters depend only on
the two blocks: a normal with mean mu[z_i, z_j] and variance s2[z_i, z_j] (default: affinity
patterns have a low-variance background that an exponential, whose sd equals its mean, cannot
tell apart from a module), or an exponential with mean mu[z_i, z_j]. The variational EM of Daudin, Picard & Robin (2008) alternates a mean-field
E-step on the block memberships tau (n x K) with closed-form M-steps for pi and mu; several
starts (spectral k-means and random) keep the best lower bound. The number of blocks is chosen
by the integrated classification likelihood (ICL), which penalises the K(K+1)/2 block parameters
against the n(n-1)/2 observed weights.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from sklearn.cluster import KMeans

from engines.connectome.errors import TooFewNeuronsError
from engines.errors import InvalidInputError

_EPS = 1e-9


@dataclass
class SBMFit:
    labels: np.ndarray       # (n,) block of each neuron
    tau: np.ndarray          # (n, K) membership probabilities
    block_means: np.ndarray  # (K, K) mean edge weight between blocks
    icl: float
    n_blocks: int
    distribution: str


DISTRIBUTIONS = ("normal", "exponential")


def _block_moments(weights: np.ndarray, tau: np.ndarray):
    """Pair counts, mean and variance of the weights between every two blocks (i != j)."""
    total = tau.sum(axis=0)
    count = np.maximum(np.outer(total, total) - tau.T @ tau, _EPS)
    mean = (tau.T @ weights @ tau) / count
    second = (tau.T @ (weights ** 2) @ tau) / count
    return count, mean, np.maximum(second - mean ** 2, 1e-4 * max(float(np.mean(weights ** 2)), _EPS))


def _m_step(weights: np.ndarray, tau: np.ndarray, distribution: str):
    pi = np.maximum(tau.mean(axis=0), _EPS)
    _count, mean, var = _block_moments(weights, tau)
    return pi / pi.sum(), np.maximum(mean, _EPS), var if distribution == "normal" else None


def _e_step(weights, tau, pi, mean, var, distribution) -> np.ndarray:
    """Mean-field update: log tau_iq = log pi_q + sum_{j != i, l} tau_jl log f(w_ij | q, l)."""
    others = tau.sum(axis=0)[None, :] - tau
    w_tau = weights @ tau
    if distribution == "exponential":
        expected = -others @ np.log(mean).T - w_tau @ (1.0 / mean).T
    else:
        w2_tau = (weights ** 2) @ tau
        expected = (-0.5 * others @ np.log(2 * np.pi * var).T - 0.5 * w2_tau @ (1.0 / var).T
                    + w_tau @ (mean / var).T - 0.5 * others @ (mean ** 2 / var).T)
    log_tau = np.log(pi)[None, :] + expected
    return np.exp(log_tau - logsumexp(log_tau, axis=1, keepdims=True))


def _icl(weights: np.ndarray, labels: np.ndarray, n_blocks: int, distribution: str) -> float:
    """Complete-data log-likelihood of hard labels minus the ICL penalty."""
    pi, mean, var = _m_step(weights, np.eye(n_blocks)[labels], distribution)
    iu = np.triu_indices(len(labels), k=1)
    a, b, w = labels[iu[0]], labels[iu[1]], weights[iu]
    if distribution == "exponential":
        loglik, per_block = np.sum(-np.log(mean[a, b]) - w / mean[a, b]), 1
    else:
        loglik = np.sum(-0.5 * np.log(2 * np.pi * var[a, b]) - (w - mean[a, b]) ** 2 / (2 * var[a, b]))
        per_block = 2
    n = len(labels)
    penalty = (0.5 * per_block * n_blocks * (n_blocks + 1) / 2 * np.log(n * (n - 1) / 2)
               + 0.5 * (n_blocks - 1) * np.log(n))
    return float(loglik + np.sum(np.log(pi[labels])) - penalty)


def _starts(weights: np.ndarray, n_blocks: int, n_starts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Spectral k-means labels first, then random memberships."""
    values, vectors = np.linalg.eigh(weights)
    embedding = vectors[:, np.argsort(-np.abs(values))[:n_blocks]]
    spectral = KMeans(n_blocks, n_init=4, random_state=int(rng.integers(2**31))).fit_predict(embedding)
    starts = [np.eye(n_blocks)[spectral] * 0.9 + 0.1 / n_blocks]
    starts += [rng.dirichlet(np.ones(n_blocks), size=len(weights)) for _ in range(n_starts - 1)]
    return starts


def fit_sbm_fixed(weights: np.ndarray, n_blocks: int, distribution: str = "normal", n_starts: int = 4,
                  max_iter: int = 100, seed: int = 0) -> SBMFit:
    """Best of several variational-EM runs with ``n_blocks`` blocks (by ICL of the hard labels)."""
    weights = _prepare(weights)
    rng = np.random.default_rng(seed)
    best = None
    for tau in _starts(weights, n_blocks, n_starts, rng):
        for _ in range(max_iter):
            new_tau = _e_step(weights, tau, *_m_step(weights, tau, distribution), distribution)
            shift = np.abs(new_tau - tau).max()
            tau = new_tau
            if shift < 1e-6:
                break
        labels = _relabel(np.argmax(tau, axis=1))
        k = labels.max() + 1
        icl = _icl(weights, labels, k, distribution)
        if best is None or icl > best.icl:
            means = _m_step(weights, np.eye(k)[labels], distribution)[1]
            best = SBMFit(labels, tau, means, icl, k, distribution)
    return best


def _prepare(weights: np.ndarray) -> np.ndarray:
    """Symmetric, non-negative, zero diagonal, scaled to mean 1 (the ICL is scale-equivariant)."""
    weights = np.asarray(weights, dtype=np.float64)
    weights = np.maximum((weights + weights.T) / 2, 0.0)
    np.fill_diagonal(weights, 0.0)
    scale = weights.sum() / max(weights.size - len(weights), 1)
    return weights / scale if scale > 0 else weights


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Consecutive block numbers in order of first appearance (empty blocks dropped)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse]


def fit_sbm(weights: np.ndarray, max_blocks: int = 8, distribution: str = "normal", n_starts: int = 4,
            seed: int = 0) -> SBMFit:
    """Fit K = 1, 2, ... up to ``max_blocks`` (stopping two past the ICL's peak); keep the best ICL."""
    n = np.shape(weights)[0]
    if n < 3:
        raise TooFewNeuronsError(f"A block model needs at least 3 neurons; the graph has {n}.")
    if distribution not in DISTRIBUTIONS:
        raise InvalidInputError(f"Unknown edge-weight distribution '{distribution}'; "
                                f"choose one of {', '.join(DISTRIBUTIONS)}.")
    best, worse_in_a_row = None, 0
    for k in range(1, min(max_blocks, n - 1) + 1):
        fit = fit_sbm_fixed(weights, k, distribution, n_starts, seed=seed + k)
        if best is None or fit.icl > best.icl:
            best, worse_in_a_row = fit, 0
        else:
            worse_in_a_row += 1
            if worse_in_a_row == 2:      # the ICL has peaked: larger K only adds penalty
                break
    return best
