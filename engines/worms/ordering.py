"""Row orders for the activity heatmap: by name, by activity clustering, by connectome position.

Each function takes the traces as (time x column) and the columns' canonical names (None for an
unlabelled column) and returns a permutation of the columns.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist

from engines.worms.connectome import anatomical_connectome
from engines.worms.neurons import BILATERAL_CLASS, CANONICAL_NEURONS

ORDERS = ("name", "clustering", "connectome")


def order_by_name(labels: list) -> np.ndarray:
    """Labelled columns alphabetically (canonical spelling), then unlabelled ones as recorded."""
    named = sorted((name, col) for col, name in enumerate(labels) if name is not None)
    unnamed = [col for col, name in enumerate(labels) if name is None]
    return np.array([col for _, col in named] + unnamed, dtype=int)


def order_by_clustering(traces: np.ndarray) -> np.ndarray:
    """Average-linkage clustering on correlation distance, leaves in optimal order, so that
    neurons that fire together sit next to each other."""
    n = traces.shape[1]
    if n < 3:
        return np.arange(n)
    x = np.nan_to_num(traces.astype(np.float64) - np.nanmean(traces, axis=0), nan=0.0)
    flat = x.std(axis=0) == 0  # a flat trace has no correlation; give it a tiny ramp
    x[:, flat] = np.linspace(0, 1e-9, x.shape[0])[:, None]
    distances = np.clip(pdist(x.T, metric="correlation"), 0, 2)
    return leaves_list(linkage(distances, method="average", optimal_ordering=True)).astype(int)


@functools.lru_cache(maxsize=4)
def connectome_rank(neuron_axis: tuple) -> dict:
    """Neuron -> position along the Fiedler vector of the anatomical connectome's Laplacian.

    The Fiedler vector (second-smallest eigenvector of the normalised Laplacian of chemical +
    gap-junction weights, symmetrised) places strongly wired neurons close together: sensory
    layers, interneurons and motor circuits come out as contiguous blocks.
    """
    conn = anatomical_connectome()
    w = conn.chemical + conn.chemical.T + conn.gap
    degree = w.sum(axis=1)
    wired = degree > 0
    inv = np.zeros_like(degree)
    inv[wired] = 1 / np.sqrt(degree[wired])
    laplacian = np.eye(len(w)) - inv[:, None] * w * inv[None, :]
    _, vectors = np.linalg.eigh(laplacian[np.ix_(wired, wired)])
    fiedler = np.full(len(w), np.inf)
    fiedler[wired] = vectors[:, 1]
    fiedler_of = dict(zip(CANONICAL_NEURONS, fiedler))
    if neuron_axis == tuple(CANONICAL_NEURONS):
        return fiedler_of
    # After a bilateral merge, a class sits where its members sit on average.
    members: dict[str, list[float]] = {}
    for name, value in fiedler_of.items():
        members.setdefault(BILATERAL_CLASS[name], []).append(value)
    return {cls: float(np.mean(values)) for cls, values in members.items()}


def order_by_connectome(labels: list, neuron_axis: tuple) -> np.ndarray:
    """Labelled columns by their connectome position; unlabelled (or unwired) ones last."""
    rank = connectome_rank(tuple(neuron_axis))
    key = [(rank.get(name, np.inf) if name is not None else np.inf, col)
           for col, name in enumerate(labels)]
    return np.array([col for _, col in sorted(key)], dtype=int)
