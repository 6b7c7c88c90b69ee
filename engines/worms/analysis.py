"""Analyses behind the worm room's experiments (issue 16, experiments 8-10), on (time, neuron) arrays.

    pca_scores(traces, k)                       scores on PCs 1..k and the cumulative variance share
    smoothed_derivative(traces, dt, window_s)   time derivative after a centred moving average
    held_out_separation(scores, labels)         balanced accuracy of a nearest-centroid classifier
                                                fitted on the first half of the samples, tested on
                                                the second (chance: 1 / number of states)
    velocity_correlations(traces, velocity)     Pearson r of every trace with the velocity
    auc(scores, positive)                       ROC AUC of ``scores`` ranking ``positive`` first
    partner_mask(names, chemical, gap)          which pairs of ``names`` are synaptic partners
    partner_correlation(traces, partners, ...)  mean |r| of partner pairs and of the other pairs,
                                                with a permutation null of the difference

The traces are expected z-scored (engines.worms.statistics.standard_stretch).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.stats import rankdata

from engines.errors import InvalidInputError
from engines.worms.statistics import _as_2d, _standardise, correlation_matrix


def pca_scores(traces, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """((T, k) scores on PCs 1..k of the standardised traces, (k,) cumulative variance share)."""
    x = _standardise(_as_2d(traces))
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    variance = s ** 2
    total = variance.sum()
    share = np.cumsum(variance)[:k] / total if total > 0 else np.zeros(min(k, len(s)))
    return u[:, :k] * s[:k], share


def smoothed_derivative(traces, dt: float, window_s: float = 3.0) -> np.ndarray:
    """d/dt of each trace after a centred moving average over ``window_s`` (Kato et al. 2015
    differentiate regularised traces; a plain difference of noisy samples is mostly noise)."""
    x = _as_2d(traces)
    width = max(1, int(round(window_s / dt)))
    # the edges repeat the end samples: zero padding would fake a plunge to 0 at both ends
    smooth = uniform_filter1d(x, size=width, axis=0, mode="nearest")
    return np.gradient(smooth, dt, axis=0)


def held_out_separation(scores, labels) -> float:
    """Balanced accuracy of nearest-centroid classification of ``labels`` from ``scores``: the
    centroids come from the first half of the samples, the accuracy from the second half (so a
    slow drift cannot flatter it). NaN when a state is missing from either half."""
    scores, labels = np.asarray(scores, float), np.asarray(labels)
    half = len(labels) // 2
    train, test = slice(0, half), slice(half, None)
    states = np.unique(labels)
    if len(states) < 2 or any(not np.any(labels[part] == s) for s in states for part in (train, test)):
        return float("nan")
    centroids = np.stack([scores[train][labels[train] == s].mean(axis=0) for s in states])
    distance = ((scores[test][:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    predicted, truth = states[np.argmin(distance, axis=1)], labels[test]
    return float(np.mean([np.mean(predicted[truth == s] == s) for s in states]))


def velocity_correlations(traces, velocity) -> np.ndarray:
    """Pearson r of each trace with the velocity (0 for a flat trace)."""
    x = _standardise(_as_2d(traces))
    v = _standardise(np.asarray(velocity, float).reshape(-1, 1))
    if v.shape[0] != x.shape[0]:
        raise InvalidInputError(f"velocity has {v.shape[0]} samples, the traces {x.shape[0]}")
    return (x * v).mean(axis=0)


def auc(scores, positive) -> float:
    """ROC AUC: the chance that a random positive outranks a random negative (ties count half)."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def partner_mask(names, chemical: np.ndarray, gap: np.ndarray, axis) -> np.ndarray:
    """(N, N) bool: whether neurons ``names[i]`` and ``names[j]`` share any chemical synapse (either
    direction) or gap junction; ``chemical`` and ``gap`` are on the neuron list ``axis``."""
    index = {name: i for i, name in enumerate(axis)}
    missing = [name for name in names if name not in index]
    if missing:
        raise InvalidInputError(f"neurons not in the connectome: {', '.join(missing[:5])}")
    cols = np.array([index[name] for name in names])
    linked = (chemical > 0) | (chemical.T > 0) | (gap > 0) | (gap.T > 0)
    mask = linked[np.ix_(cols, cols)]
    np.fill_diagonal(mask, False)
    return mask


def partner_correlation(traces, partners, n_permutations: int = 500, seed: int = 0) -> dict:
    """Mean |r| of partner pairs and of non-partner pairs (distinct pairs only), their difference,
    the 95th percentile of that difference when the partner labels are shuffled among the pairs,
    and the AUC of |r| telling partner pairs from the others (0.5: anatomy says nothing)."""
    corr = np.abs(correlation_matrix(traces))
    upper = np.triu_indices(corr.shape[0], k=1)
    values, linked = corr[upper], np.asarray(partners, bool)[upper]
    if not linked.any() or linked.all():
        raise InvalidInputError("partner correlation needs both partner and non-partner pairs")
    difference = values[linked].mean() - values[~linked].mean()
    rng = np.random.default_rng(seed)
    n_linked, total = linked.sum(), values.sum()
    null = []
    for _ in range(n_permutations):
        chosen = values[rng.permutation(len(values))[:n_linked]].sum()
        null.append(chosen / n_linked - (total - chosen) / (len(values) - n_linked))
    return {"partners": float(values[linked].mean()), "non-partners": float(values[~linked].mean()),
            "difference": float(difference), "null_95": float(np.percentile(null, 95)),
            "auc": auc(values, linked), "n_partner_pairs": int(n_linked), "n_pairs": int(len(values))}
