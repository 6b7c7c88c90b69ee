"""Communities of each NTF component: its pair loadings as a weighted neuron graph, partitioned.

``component_graph`` reshapes a component's pair factor into a symmetric neuron x neuron weight
matrix; ``leiden_communities`` partitions it with leidenalg (weighted modularity, or the
reichardt-bornholdt configuration model with a resolution); ``sbm_communities`` fits the lab's
weighted stochastic block model (``sbm``). Both return one integer label per neuron.
"""
from __future__ import annotations

import igraph as ig
import leidenalg
import numpy as np

from engines.connectome.sbm import fit_sbm
from engines.connectome.tensor import AffinityTensor
from engines.errors import InvalidInputError

METHODS = ("leiden", "sbm")


def component_graph(tensor: AffinityTensor, pair_factor: np.ndarray) -> np.ndarray:
    """Weight matrix of one component (its pair loadings), scaled to a maximum of 1."""
    pair_factor = np.asarray(pair_factor, dtype=float)
    if pair_factor.shape != (len(tensor.pairs),):
        raise InvalidInputError(f"A pair factor needs {len(tensor.pairs)} values, got {pair_factor.shape}.")
    matrix = tensor.pair_matrix(np.maximum(pair_factor, 0.0))
    peak = matrix.max()
    return matrix / peak if peak > 0 else matrix


def leiden_communities(weights: np.ndarray, resolution: float = 1.0, seed: int = 0) -> np.ndarray:
    """Leiden on the weighted graph; resolution 1 is weighted modularity."""
    weights = np.asarray(weights, dtype=float)
    upper = np.triu(np.maximum(weights, 0.0), k=1)
    sources, targets = np.nonzero(upper)
    graph = ig.Graph(n=len(weights), edges=list(zip(sources.tolist(), targets.tolist())))
    graph.es["weight"] = upper[sources, targets].tolist()
    partition = leidenalg.find_partition(graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         resolution_parameter=resolution, n_iterations=-1, seed=seed)
    return np.asarray(partition.membership, dtype=int)


def sbm_communities(weights: np.ndarray, max_blocks: int = 8, distribution: str = "normal",
                    seed: int = 0) -> np.ndarray:
    """Blocks of the weighted stochastic block model with the best ICL."""
    return fit_sbm(weights, max_blocks=max_blocks, distribution=distribution, seed=seed).labels


def detect_communities(weights: np.ndarray, method: str = "leiden", seed: int = 0, **options) -> np.ndarray:
    if method == "leiden":
        return leiden_communities(weights, seed=seed, **options)
    if method == "sbm":
        return sbm_communities(weights, seed=seed, **options)
    raise InvalidInputError(f"Unknown community method '{method}'; choose one of {', '.join(METHODS)}.")


def order_by_community(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Neuron order for display: communities by decreasing strength, neurons by strength inside."""
    strength = np.asarray(weights).sum(axis=1)
    community_strength = {c: strength[labels == c].mean() for c in np.unique(labels)}
    return np.array(sorted(range(len(labels)), key=lambda i: (-community_strength[labels[i]], labels[i], -strength[i])))


def component_communities(tensor: AffinityTensor, pair_factors: np.ndarray, method: str = "leiden",
                          seed: int = 0, **options) -> dict[int, np.ndarray]:
    """Community labels per component from the (n_pairs, rank) pair factor of a fit."""
    return {k: detect_communities(component_graph(tensor, pair_factors[:, k]), method, seed, **options)
            for k in range(pair_factors.shape[1])}
