"""What one NTF component shows: its neuron graph ordered by community, the stimuli and behaviour
its temporal profile follows, a summary row per component, and a drawing layout of its graph.

Epochs are tables with columns ``start_s``, ``end_s``, ``label`` (and ``worm`` for behaviour);
windows are given by their start times and common length, as in ``AffinityTensor``.
"""
from __future__ import annotations

import random
import threading
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from engines.connectome.communities import component_graph, order_by_community
from engines.connectome.ntf import NTFResult
from engines.connectome.tensor import AffinityTensor
from engines.errors import InvalidInputError

# igraph draws its layouts' random numbers from one process-wide generator (Python's ``random``):
# a layout swaps in a seeded one, under this lock, so the same graph is always drawn the same way.
_LAYOUT_LOCK = threading.Lock()


def _covered_seconds(starts_s: np.ndarray, window_s: float, intervals) -> np.ndarray:
    """Seconds of each window [start, start + window_s) covered by the (start, end) intervals."""
    ends_s = starts_s + window_s
    covered = np.zeros(len(starts_s))
    for start, end in intervals:
        covered += np.clip(np.minimum(ends_s, end) - np.maximum(starts_s, start), 0, None)
    return covered


def epoch_coverage(starts_s: np.ndarray, window_s: float, epochs: pd.DataFrame) -> pd.DataFrame:
    """Fraction of each window covered by each epoch label (one column per label)."""
    starts_s = np.asarray(starts_s, dtype=float)
    columns = {label: _covered_seconds(starts_s, window_s, zip(rows.start_s, rows.end_s)) / window_s
               for label, rows in epochs.groupby("label")}
    return pd.DataFrame(columns, index=pd.Index(starts_s, name="window_start_s"))


def behaviour_fraction(epochs: pd.DataFrame, starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """Mean over worms of the fraction of each window spent in ``epochs`` (one behaviour's
    epochs, with a ``worm`` column); NaN for every window when no worm has such an epoch."""
    starts_s = np.asarray(starts_s, dtype=float)
    if epochs.empty:
        return np.full(len(starts_s), np.nan)
    covered = sum(_covered_seconds(starts_s, window_s, zip(rows.start_s, rows.end_s))
                  for _worm, rows in epochs.groupby("worm"))
    return covered / window_s / epochs.worm.nunique()


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def best_match(profile: np.ndarray, coverage: pd.DataFrame) -> tuple[str, float]:
    """The coverage column the temporal profile correlates with most: (label, r); ('', NaN) if none."""
    match, best = "", float("nan")
    for label in coverage.columns:
        r = _correlation(profile, coverage[label].to_numpy())
        if np.isfinite(r) and (not np.isfinite(best) or r > best):
            match, best = label, r
    return match, best


def profile_aucs(profiles: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ROC AUC of every component's temporal profile (columns of ``profiles``, windows x R) for
    the windows marked True in ``labels``: (R,) for one labelling (n_windows,), or (S, R) for S
    labellings at once (S, n_windows). Ties count half (the Mann-Whitney form, as sklearn)."""
    from scipy.stats import rankdata
    labels = np.asarray(labels, dtype=bool)
    n_pos = labels.sum(axis=-1, keepdims=True)
    n_neg = labels.shape[-1] - n_pos
    if np.any(n_pos == 0) or np.any(n_neg == 0):
        raise InvalidInputError("An AUC needs windows both inside and outside the epochs.")
    ranks = rankdata(np.asarray(profiles, dtype=float), axis=0)            # (n_windows, R)
    rank_sums = labels.astype(float) @ ranks                                # (..., R)
    return (rank_sums - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_profile_auc(profiles: np.ndarray, labels: np.ndarray, n_shuffles: int = 200,
                     seed: int = 0) -> tuple[float, float]:
    """The best AUC over components for ``labels``, and the 95th percentile of that best AUC
    over ``n_shuffles`` random shuffles of the labels: the score a best-of-R pick reaches by
    chance (shuffling ignores the windows' overlap, so this null is only that pick's bias)."""
    labels = np.asarray(labels, dtype=bool)
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(labels) for _ in range(n_shuffles)])
    null = profile_aucs(profiles, shuffled).max(axis=1)
    return float(profile_aucs(profiles, labels).max()), float(np.percentile(null, 95))


def component_summary(result: NTFResult, coverage: pd.DataFrame,
                      communities: Mapping[int, np.ndarray]) -> pd.DataFrame:
    """Per component: weight, number of communities (0 before they are found) and the stimulus
    its temporal profile follows best, with the correlation r."""
    rows = []
    for k in range(result.rank):
        label, r = best_match(result.factors[0][:, k], coverage)
        labels = communities.get(k)
        rows.append({"component": k, "weight": float(result.weights[k]),
                     "communities": int(len(np.unique(labels))) if labels is not None else 0,
                     "stimulus": label, "stimulus_r": r})
    return pd.DataFrame(rows, columns=["component", "weight", "communities", "stimulus", "stimulus_r"])


def ordered_matrix(tensor: AffinityTensor, pair_factor: np.ndarray,
                   labels: np.ndarray | None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The component's neuron x neuron weights ordered by community: (matrix, names, labels)."""
    weights = component_graph(tensor, pair_factor)
    labels = np.zeros(len(tensor.neurons), dtype=int) if labels is None else np.asarray(labels)
    order = order_by_community(labels, weights)
    return weights[np.ix_(order, order)], [tensor.neurons[i] for i in order], labels[order]


def graph_layout(weights: np.ndarray, neurons: Sequence[str], labels: np.ndarray | None,
                 strongest: float = 0.1, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``strongest`` fraction of the graph's edges (source, target, weight) and its nodes
    (x, y, index, neuron, community) placed by a weighted Fruchterman-Reingold layout (igraph),
    seeded (start positions and igraph's random numbers) so a graph is always drawn the same way."""
    import igraph as ig
    n = len(weights)
    labels = np.zeros(n, dtype=int) if labels is None else np.asarray(labels)
    upper = np.triu(np.asarray(weights, dtype=float), k=1)
    cut = np.quantile(upper[upper > 0], 1 - strongest) if (upper > 0).any() else np.inf
    sources, targets = np.nonzero(upper >= cut)
    edges = pd.DataFrame({"source": sources, "target": targets, "weight": upper[sources, targets]})
    graph = ig.Graph(n=n, edges=list(zip(sources.tolist(), targets.tolist())))
    start = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).tolist()
    with _LAYOUT_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            layout = graph.layout_fruchterman_reingold(weights=edges.weight.tolist() or None, seed=start)
        finally:
            ig.set_random_number_generator(random)
    xy = np.asarray(layout.coords)
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "index": np.arange(n), "neuron": list(neurons),
                          "community": labels.astype(int)})
    return nodes, edges


def neuron_ties(weights: np.ndarray, neurons: Sequence[str], labels: np.ndarray | None, neuron: str,
                top: int = 8) -> pd.DataFrame:
    """``neuron``'s ``top`` strongest ties in a component's graph, strongest first: partner,
    weight (the component's strongest tie is 1), community, and whether it shares ``neuron``'s."""
    neurons = list(neurons)
    if neuron not in neurons:
        raise InvalidInputError(f"{neuron} is not among the analysed neurons.")
    i = neurons.index(neuron)
    labels = np.zeros(len(neurons), dtype=int) if labels is None else np.asarray(labels)
    row = np.asarray(weights, dtype=float)[i].copy()
    row[i] = 0.0
    order = [j for j in np.argsort(-row, kind="stable")[:top] if row[j] > 0]
    return pd.DataFrame({"partner": [neurons[j] for j in order], "weight": row[order],
                         "community": labels[order].astype(int), "same community": labels[order] == labels[i]})
