"""Anatomy on the canonical axis: synaptic connectome, 3D positions, signal-propagation atlas.

All read offline from installed data packages:
- connectome: cect (C. elegans Connectome Toolbox) with ``from_cache=True`` (Cook 2019
  hermaphrodite by default); ``chemical[i, j]`` = synapses from i onto j, ``gap`` symmetric;
- the same anatomy by transmitter class (``transmitter_connectome``), for models that need the
  sign of each neuron's synapses (the reservoir room's C. elegans network);
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
        return partner_table(CANONICAL_NEURONS, self.chemical, self.gap, neuron)


PARTNER_KINDS = {"all": ("chemical out", "chemical in", "gap junction"),
                 "chemical": ("chemical out", "chemical in"), "gap junction": ("gap junction",)}


def partner_table(names, chemical: np.ndarray, gap: np.ndarray, neuron: str,
                  kinds: str = "all") -> pd.DataFrame:
    """Partners of ``neuron`` among ``names`` (the matrices' axis): partner, kind, weight,
    heaviest first; ``kinds`` 'all', 'chemical' or 'gap junction'."""
    names = list(names)
    if neuron not in names:
        raise InvalidInputError(f"unknown neuron {neuron!r}")
    i = names.index(neuron)
    rows = []
    for kind, weights in (("chemical out", chemical[i]), ("chemical in", chemical[:, i]),
                          ("gap junction", gap[i])):
        if kind in PARTNER_KINDS[kinds]:
            rows += [(names[j], kind, float(weights[j])) for j in np.flatnonzero(weights > 0)]
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


# cect's Cook 2019 readers label every chemical synapse "Generic_CS": they hold no transmitter
# identities. cect's OpenWormUnifiedReader cache is the same Cook 2019 hermaphrodite anatomy with
# each chemical synapse relabelled by its presynaptic neuron's transmitter from the neurotransmitter
# atlas of Wang et al. 2024 (eLife 95402, Supplementary File 2, read by cect's Wang2024Reader),
# with raw synapse counts and gap junctions, and without monoamine connections. (cect's
# Wang2024Herm cache has the same labels but counts normalised to 1 and Bentley 2016's monoamine
# connections added, so it cannot weight synapses.)
TRANSMITTER_CONNECTOME = "OpenWormUnifiedReader"
GAP_JUNCTIONS = "Generic_GJ"


@dataclass(frozen=True)
class TransmitterConnectome:
    """The hermaphrodite's neurons (cect's list, in its table's order) and their synapses.

    In that table a neuron whose only transmitters are monoamines, or unknown, has no outgoing
    chemical synapses; one with two classical transmitters has each synapse listed once per
    transmitter.
    """
    neurons: tuple[str, ...]
    chemical: dict[str, np.ndarray]   # transmitter class -> (N, N) synapse counts, pre (row) -> post
    gap: np.ndarray                   # (N, N) gap-junction counts as the table lists them

    def transmitters(self, neuron: str) -> tuple[str, ...]:
        """The classes of ``neuron``'s outgoing chemical synapses (its transmitters)."""
        i = self.neurons.index(neuron)
        return tuple(name for name, counts in self.chemical.items() if counts[i].sum() > 0)

    def transmitter_share(self, transmitter: str) -> np.ndarray:
        """Per neuron, the share of its outgoing chemical synapses in ``transmitter``'s class
        (0 for a neuron without any)."""
        if transmitter not in self.chemical:
            raise InvalidInputError(f"the connectome has no {transmitter!r} synapses; it has {sorted(self.chemical)}")
        total = sum(counts.sum(axis=1) for counts in self.chemical.values())
        return self.chemical[transmitter].sum(axis=1) / np.maximum(total, 1e-12)


@functools.lru_cache(maxsize=1)
def transmitter_connectome() -> TransmitterConnectome:
    """Cook 2019's hermaphrodite neurons with their synapses by transmitter class (cached)."""
    import importlib

    from cect.Cells import is_herm_neuron
    data = importlib.import_module(f"cect.readers.{TRANSMITTER_CONNECTOME}").get_instance(from_cache=True)
    keep = [i for i, name in enumerate(data.nodes) if is_herm_neuron(name)]
    counts = {name: np.asarray(conns)[np.ix_(keep, keep)] for name, conns in data.connections.items()}
    gap = counts.pop(GAP_JUNCTIONS, np.zeros((len(keep), len(keep))))
    return TransmitterConnectome(tuple(data.nodes[i] for i in keep), counts, gap)
