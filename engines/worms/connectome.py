"""Anatomy on the canonical axis: synaptic connectome, 3D positions, signal-propagation atlas.

All read offline from installed data packages:
- connectome: cect (C. elegans Connectome Toolbox) with ``from_cache=True`` (Cook 2019
  hermaphrodite by default); ``chemical[i, j]`` = synapses from i onto j, ``gap`` symmetric;
- positions: wormneuroatlas's data/anatlas_neuron_positions.txt (first line the names, then
  x y z rows), read directly because NeuroAtlas() calls a web service when constructed;
- signal propagation: Randi et al. 2023 atlas (wormneuroatlas's funatlas.h5),
  ``atlas[i, j]`` = mean dF/F response of i when j is stimulated (NaN where never measured).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import h5py
import numpy as np
import pandas as pd

from engines.errors import EngineError, InvalidInputError
from engines.worms.neurons import CANONICAL_NEURONS, NEURON_INDEX, normalise_name

DEFAULT_CONNECTOME = "Cook2019Herm"


@dataclass(frozen=True)
class Connectome:
    name: str
    chemical: np.ndarray   # (300, 300) synapse counts/weights, pre (row) -> post (column)
    gap: np.ndarray        # (300, 300) gap-junction weights, symmetric

    def partners(self, neuron: str) -> pd.DataFrame:
        """Synaptic partners of ``neuron``: columns partner, kind, weight; heaviest first.

        kind is 'chemical out' (neuron -> partner), 'chemical in' or 'gap junction'.
        """
        if neuron not in NEURON_INDEX:
            raise InvalidInputError(f"unknown neuron {neuron!r}")
        i = NEURON_INDEX[neuron]
        rows = []
        for kind, weights in (("chemical out", self.chemical[i]), ("chemical in", self.chemical[:, i]),
                              ("gap junction", self.gap[i])):
            for j in np.flatnonzero(weights > 0):
                rows.append((CANONICAL_NEURONS[j], kind, float(weights[j])))
        table = pd.DataFrame(rows, columns=["partner", "kind", "weight"])
        return table.sort_values(["weight", "partner"], ascending=[False, True], ignore_index=True)


def _data_file(package: str, name: str):
    try:
        return resources.files(package) / "data" / name
    except ModuleNotFoundError:
        raise EngineError(f"the data package {package!r} is not installed") from None


@functools.lru_cache(maxsize=4)
def anatomical_connectome(name: str = DEFAULT_CONNECTOME) -> Connectome:
    """The named cect connectome projected on the canonical 300-neuron axis (cached)."""
    from cect.Utils import get_connectome_dataset
    dataset = get_connectome_dataset(name, from_cache=True)
    if dataset is None:
        raise InvalidInputError(f"cect has no cached connectome named {name!r}")
    slots = [NEURON_INDEX.get(normalise_name(n)[0]) for n in dataset.nodes]
    keep = np.array([s is not None for s in slots])
    idx = np.array([s for s in slots if s is not None])
    out = {}
    for kind, key in (("chemical", "CS"), ("gap", "GJ")):
        matrix = np.zeros((len(CANONICAL_NEURONS),) * 2)
        for synclass, conn in dataset.connections.items():
            if synclass.endswith(key):
                matrix[np.ix_(idx, idx)] += np.asarray(conn)[np.ix_(keep, keep)]
        out[kind] = matrix
    gap = np.maximum(out["gap"], out["gap"].T)  # some tables list each junction one way only
    return Connectome(name=name, chemical=out["chemical"], gap=gap)


@functools.lru_cache(maxsize=1)
def neuron_positions() -> pd.DataFrame:
    """x, y, z (wormneuroatlas's units) per canonical neuron, NaN where the atlas has none.

    The file lists PVCL twice; the first entry is kept.
    """
    path = _data_file("wormneuroatlas", "anatlas_neuron_positions.txt")
    with path.open() as f:
        names = f.readline().lstrip("#").split()
    xyz = np.loadtxt(str(path))
    table = pd.DataFrame(np.nan, index=pd.Index(CANONICAL_NEURONS, name="neuron"),
                         columns=["x", "y", "z"])
    seen = set()
    for name, row in zip(names, xyz):
        canonical = normalise_name(name)[0]
        if canonical is not None and canonical not in seen:
            table.loc[canonical] = row
            seen.add(canonical)
    return table


@functools.lru_cache(maxsize=4)
def signal_propagation_atlas(strain: str = "wt", quantity: str = "dFF") -> np.ndarray:
    """Randi 2023 atlas (300, 300) on the canonical axis: [i, j] = response of i to j.

    ``quantity``: 'dFF' (mean response), 'q' or 'q_eq' (false-discovery q-values).
    """
    path = _data_file("wormneuroatlas", "funatlas.h5")
    with h5py.File(str(path), "r") as f:
        if f"{strain}/{quantity}" not in f:
            raise InvalidInputError(f"the atlas has no {strain}/{quantity}")
        ids = [normalise_name(x.decode())[0] for x in f["neuron_ids"][()]]
        values = f[f"{strain}/{quantity}"][()]
    slots = np.array([NEURON_INDEX[n] if n else -1 for n in ids])
    ok = slots >= 0
    out = np.full((len(CANONICAL_NEURONS),) * 2, np.nan)
    out[np.ix_(slots[ok], slots[ok])] = values[np.ix_(ok, ok)]
    return out
