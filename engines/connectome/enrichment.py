"""Overlap of functional communities with anatomical and signal-propagation connectivity.

For each community and each connectivity layer (e.g. chemical synapses, gap junctions, the
Randi 2023 signal-propagation atlas), the score is the mean connection weight between ordered
pairs of distinct neurons inside the community. The null shuffles community labels among the
neurons present in both the partition and the layer (community sizes kept), recomputing the
score ``n_shuffles`` times. Reported: observed score, null mean and sd, z = (obs - mean) / sd,
the one-sided permutation p-value (1 + #null >= obs) / (1 + n_shuffles), and Benjamini-Hochberg
q-values across all tests.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError


def _within_means(layer: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Mean weight over ordered pairs i != j inside each community (columns of ``onehot``)."""
    sizes = onehot.sum(axis=0)
    within = np.einsum("ic,ij,jc->c", onehot, layer, onehot)   # diagonal of layer is zero
    return within / np.maximum(sizes * (sizes - 1), 1)


def _align(labels: Mapping[str, int], names: Sequence[str], matrix: np.ndarray):
    """Restrict partition and layer to the neurons both know; zero the layer's diagonal."""
    index = {name: k for k, name in enumerate(names)}
    shared = [n for n in labels if n in index]
    rows = np.array([index[n] for n in shared], dtype=int)
    layer = np.nan_to_num(np.asarray(matrix, dtype=float)[np.ix_(rows, rows)], nan=0.0)
    np.fill_diagonal(layer, 0.0)
    return shared, layer


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(q, 1.0)
    return out


def enrichment(labels: Mapping[str, int], layers: Mapping[str, tuple[Sequence[str], np.ndarray]],
               n_shuffles: int = 1000, min_size: int = 2, seed: int = 0) -> pd.DataFrame:
    """Enrichment of every community (>= ``min_size`` shared neurons) in every layer."""
    if not layers:
        raise InvalidInputError("No connectivity layer was given for the enrichment.")
    rng = np.random.default_rng(seed)
    rows = []
    for layer_name, (names, matrix) in layers.items():
        shared, layer = _align(labels, names, matrix)
        if len(shared) < 2:
            raise InvalidInputError(f"The partition and the '{layer_name}' layer share fewer than 2 neurons.")
        community = np.array([labels[n] for n in shared])
        ids, inverse = np.unique(community, return_inverse=True)
        onehot = np.eye(len(ids))[inverse]
        observed = _within_means(layer, onehot)
        null = np.stack([_within_means(layer, onehot[rng.permutation(len(shared))]) for _ in range(n_shuffles)])
        for c, cid in enumerate(ids):
            size = int(onehot[:, c].sum())
            if size < min_size:
                continue
            sd = null[:, c].std()
            rows.append({"layer": layer_name, "community": int(cid), "size": size,
                         "observed": observed[c], "null_mean": null[:, c].mean(), "null_sd": sd,
                         "z": (observed[c] - null[:, c].mean()) / sd if sd > 0 else 0.0,
                         "p_value": (1 + np.sum(null[:, c] >= observed[c])) / (1 + n_shuffles)})
    table = pd.DataFrame(rows)
    if len(table):
        table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy())
    return table


def connectivity_layers(connectome: str | None = None, atlas_q: float = 0.05,
                        strain: str = "wt") -> dict[str, tuple[Sequence[str], np.ndarray]]:
    """Chemical, gap-junction and signal-propagation layers on the canonical neuron axis.

    Read through ``engines.worms.connectome`` (cect and wormneuroatlas, offline). The atlas
    layer is 1 where the Randi 2023 response of i to stimulation of j has q < ``atlas_q``
    (a functional connection), 0 otherwise or where the pair was never measured.
    """
    from engines.worms import connectome as anatomy
    from engines.worms.model import CANONICAL_NEURONS

    wiring = anatomy.anatomical_connectome(connectome) if connectome else anatomy.anatomical_connectome()
    q_values = anatomy.signal_propagation_atlas(strain, "q")
    atlas = np.where(np.isfinite(q_values) & (q_values < atlas_q), 1.0, 0.0)
    names = list(CANONICAL_NEURONS)
    return {"chemical": (names, wiring.chemical), "gap junction": (names, wiring.gap),
            "signal propagation": (names, atlas)}
