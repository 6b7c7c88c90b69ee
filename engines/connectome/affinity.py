"""Pairwise affinities between neurons' traces in sliding windows, for one worm at a time.

Every affinity maps a stack of windows ``(n_windows, window_len, n_neurons)`` to
``(n_windows, n_neurons, n_neurons)`` non-negative values, vectorised over windows. Samples
that are NaN are ignored inside a window's statistics; whether a neuron counts as present in a
window is decided by the tensor builder (``engines.connectome.tensor``), which masks the pairs
of absent neurons instead of filling them with zeros.

Choices (the published pipeline's exact formula could not be confirmed, see
shared/research/worms.md):

- ``correlation`` (linear): Pearson correlation in the window, rectified at zero. Negative
  correlation is not "affinity" for a non-negative factorisation, and rectifying keeps the
  tensor non-negative without shifting every entry.
- ``kernel`` (non-linear): a self-tuning Gaussian kernel (Zelnik-Manor & Perona 2004) on the
  z-scored *derivatives* of the traces. Derivatives emphasise co-timed fluctuations rather than
  shared slow drift (bleaching, baseline) that inflates raw-trace correlations; the scale of each
  neuron is its distance to its k-th nearest neighbour in that window, so the affinity is
  relative to each neuron's neighbourhood: a neuron in a loose group still gets strong affinities
  to its closest partners, which a global threshold on correlation would miss. With
  ``max_lag`` > 0 (samples) the distance of a pair is the smallest over the shifts of one trace
  against the other by up to ``max_lag`` samples either way: neurons that co-activate a few
  seconds apart (a chain of activation) come out as close as neurons that co-activate at once.
  ``max_lag=0`` is the plain zero-lag kernel.
- ``mutual_information`` (non-linear): plug-in mutual information of quantile-binned traces,
  normalised by log(bins) and corrected for the Miller-Madow small-sample bias. It sees
  dependence of any shape (including anti-correlation and saturating relations), at the cost of
  needing longer windows.
"""
from __future__ import annotations

import warnings

import numpy as np

from engines.errors import InvalidInputError

AFFINITIES = ("correlation", "kernel", "mutual_information")


def _zscore(windows: np.ndarray) -> np.ndarray:
    """Z-score each neuron within each window, NaN samples and flat traces become 0."""
    with warnings.catch_warnings():        # all-NaN columns (absent neurons) are expected here
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(windows, axis=1, keepdims=True)
        std = np.nanstd(windows, axis=1, keepdims=True)
    z = (windows - mean) / np.where(std > 1e-12, std, np.inf)
    return np.nan_to_num(z, nan=0.0)


def rectified_correlation(windows: np.ndarray) -> np.ndarray:
    """max(Pearson r, 0) between every pair of neurons in every window."""
    z = _zscore(windows)
    n_valid = np.maximum(np.sum(np.isfinite(windows), axis=1), 1)  # (W, N)
    corr = np.einsum("wln,wlm->wnm", z, z, optimize=True)
    corr /= np.sqrt(n_valid[:, :, None] * n_valid[:, None, :])
    return np.clip(corr, 0.0, 1.0)


def _lagged_distances(deriv: np.ndarray, lag: int) -> np.ndarray:
    """Mean squared difference between x_i(t + lag) and x_j(t) over the samples both cover."""
    length = deriv.shape[1]
    ahead, behind = deriv[:, lag:, :], deriv[:, :length - lag, :]
    gram = np.einsum("wln,wlm->wnm", ahead, behind, optimize=True)
    sq_ahead = np.einsum("wln,wln->wn", ahead, ahead)
    sq_behind = np.einsum("wln,wln->wn", behind, behind)
    return np.maximum(sq_ahead[:, :, None] + sq_behind[:, None, :] - 2 * gram, 0.0) / max(length - lag, 1)


def derivative_kernel(windows: np.ndarray, k_neighbours: int = 7, max_lag: int = 0) -> np.ndarray:
    """Self-tuning Gaussian kernel of z-scored derivative traces, optionally lag-tolerant (see
    module docstring); ``max_lag`` is in samples and must leave half the window overlapping."""
    deriv = _zscore(np.diff(windows, axis=1))
    max_lag = int(max_lag)
    if max_lag < 0 or 2 * max_lag > deriv.shape[1]:
        raise InvalidInputError(f"A lag tolerance of {max_lag} samples needs windows of at least "
                                f"{2 * max_lag + 1} samples (these have {windows.shape[1]}); "
                                "use a longer window or a smaller lag.")
    dist2 = _lagged_distances(deriv, 0)
    for lag in range(1, max_lag + 1):   # i ahead of j, then j ahead of i (the transpose)
        lagged = _lagged_distances(deriv, lag)
        dist2 = np.minimum(dist2, np.minimum(lagged, lagged.transpose(0, 2, 1)))
    n = dist2.shape[-1]
    k = int(np.clip(k_neighbours, 1, max(n - 1, 1)))
    # sigma_i: distance to the k-th nearest other neuron (index k in the sorted row, 0 is self)
    sorted_d2 = np.sort(dist2, axis=-1)
    sigma = np.sqrt(sorted_d2[..., min(k, n - 1)]) + 1e-6
    return np.exp(-dist2 / (sigma[:, :, None] * sigma[:, None, :]))


def _quantile_bins(windows: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-frequency bin index (0..n_bins-1) of every sample, per neuron and window."""
    ranks = np.argsort(np.argsort(np.nan_to_num(windows, nan=0.0), axis=1, kind="stable"), axis=1)
    return np.minimum(ranks * n_bins // windows.shape[1], n_bins - 1)


def binned_mutual_information(windows: np.ndarray, n_bins: int = 4) -> np.ndarray:
    """Normalised, bias-corrected mutual information of quantile-binned traces."""
    n_windows, length, n = windows.shape
    if length < 4 * n_bins:
        raise InvalidInputError(
            f"Mutual information with {n_bins} bins needs windows of at least {4 * n_bins} samples; "
            f"these have {length}. Use a longer window or the correlation affinity.")
    bins = _quantile_bins(windows, n_bins)
    onehot = np.zeros((n_windows, length, n, n_bins), dtype=np.float32)
    np.put_along_axis(onehot, bins[..., None], 1.0, axis=-1)
    onehot = onehot.reshape(n_windows, length, n * n_bins)
    joint = np.matmul(onehot.transpose(0, 2, 1), onehot) / length             # (W, NB, NB)
    # MI = H(X) + H(Y) - H(X, Y); the marginals are the diagonal blocks of the joint counts
    marginal = onehot.sum(axis=1).reshape(n_windows, n, n_bins) / length
    entropy = -np.sum(marginal * np.log(np.maximum(marginal, 1e-12)), axis=-1)    # (W, N)
    plogp = joint * np.log(np.maximum(joint, 1e-12))
    joint_entropy = -plogp.reshape(n_windows, n, n_bins, n, n_bins).sum(axis=(2, 4))
    mi = entropy[:, :, None] + entropy[:, None, :] - joint_entropy
    bias = (n_bins - 1) ** 2 / (2.0 * length)  # Miller-Madow, nats
    return np.clip((mi - bias) / np.log(n_bins), 0.0, 1.0)


def compute_affinity(windows: np.ndarray, kind: str = "correlation", **options) -> np.ndarray:
    """Dispatch to one of ``AFFINITIES``; returns (n_windows, n_neurons, n_neurons) float32."""
    functions = {"correlation": rectified_correlation, "kernel": derivative_kernel,
                 "mutual_information": binned_mutual_information}
    if kind not in functions:
        raise InvalidInputError(f"Unknown affinity '{kind}'; choose one of {', '.join(AFFINITIES)}.")
    return functions[kind](np.asarray(windows, dtype=np.float32), **options).astype(np.float32)
