"""The connectome as a graph on a recording's neuron axis: nodes, edges, a stable layout, paths.

    graph = connectome_graph(CANONICAL_NEURONS)          # or CANONICAL_CLASSES after a merge
    graph.edges                                          # pre, post, kind, count (one row each)
    layout = band_layout(graph.nodes)                    # x, y, band: sensory / inter / motor
    found = shortest_paths(graph, "ASHL", "AVBL", max_hops=3, kinds="all")
    found.paths                                          # [(names, counts per hop, total), ...]

Edges come from the anatomical connectome (cect, Cook 2019 by default): a chemical edge runs
from the presynaptic to the postsynaptic neuron; a gap junction is listed once (pre < post in
node order) and conducts both ways. ``count`` is the connectome's weight (Cook 2019: number of
EM serial sections showing the synapse), summed over left/right members on the class axis.
Neuron types (sensory, inter, motor) are Cook 2019's, as cect lists them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engines.errors import InvalidInputError
from engines.worms.connectome import (DEFAULT_CONNECTOME, PARTNER_KINDS, anatomical_connectome,
                                      neuron_positions, partner_table)
from engines.worms.neurons import BILATERAL_CLASS, CANONICAL_NEURONS, NEURON_INDEX

BANDS = ("sensory", "inter", "motor")
EDGE_KINDS = tuple(PARTNER_KINDS)   # all, chemical, gap junction


@functools.lru_cache(maxsize=1)
def neuron_types() -> pd.Series:
    """Canonical neuron -> 'sensory', 'inter' or 'motor' (Cook 2019's classification in cect)."""
    import cect.Cells as cells
    kinds = {}
    for band, members in (("sensory", cells.SENSORY_NEURONS_COOK), ("inter", cells.INTERNEURONS_COOK),
                          ("motor", cells.MOTORNEURONS_COOK)):
        kinds.update({name: band for name in members if name in NEURON_INDEX and name not in kinds})
    return pd.Series({name: kinds.get(name, "inter") for name in CANONICAL_NEURONS}, name="band")


def _axis_matrix(matrix: np.ndarray, nodes: tuple[str, ...]) -> np.ndarray:
    """A (300, 300) canonical matrix summed onto ``nodes`` (neurons or bilateral classes)."""
    if tuple(nodes) == CANONICAL_NEURONS:
        return matrix
    slot = {name: k for k, name in enumerate(nodes)}
    member_slot = np.array([slot.get(BILATERAL_CLASS[n], -1) for n in CANONICAL_NEURONS])
    if (member_slot < 0).any():
        raise InvalidInputError("the graph's nodes must be the canonical neurons or their classes")
    out = np.zeros((len(nodes), len(nodes)))
    np.add.at(out, (member_slot[:, None], member_slot[None, :]), matrix)
    np.fill_diagonal(out, 0.0)  # AVAL -> AVAR is not a connection of AVA onto itself
    return out


@dataclass(frozen=True)
class ConnectomeGraph:
    """Nodes (a neuron axis) and the synapses between them, chemical and electrical."""
    nodes: tuple[str, ...]
    chemical: np.ndarray      # (N, N) counts, pre (row) -> post (column)
    gap: np.ndarray           # (N, N) symmetric counts
    name: str = DEFAULT_CONNECTOME
    index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "index", {name: k for k, name in enumerate(self.nodes)})

    @property
    def edges(self) -> pd.DataFrame:
        """One row per connection: pre, post (node indices), kind, count; chemical first."""
        rows = []
        for kind, matrix in (("chemical", self.chemical), ("gap junction", np.triu(self.gap, 1))):
            pre, post = np.nonzero(matrix > 0)
            rows.append(pd.DataFrame({"pre": pre, "post": post, "kind": kind,
                                      "count": matrix[pre, post]}))
        return pd.concat(rows, ignore_index=True)

    def partners(self, neuron: str, kinds: str = "all") -> pd.DataFrame:
        """partner, kind ('chemical out', 'chemical in', 'gap junction'), weight; heaviest first."""
        return partner_table(self.nodes, self.chemical, self.gap, neuron, kinds)

    def weights(self, kinds: str = "all") -> np.ndarray:
        """(N, N) counts along which a signal can pass from row to column for ``kinds``."""
        if kinds not in EDGE_KINDS:
            raise InvalidInputError(f"unknown synapse kind {kinds!r}; choose one of {EDGE_KINDS}")
        chemical = self.chemical if kinds in ("all", "chemical") else 0.0
        gap = self.gap if kinds in ("all", "gap junction") else 0.0
        return np.asarray(chemical + gap, dtype=float)


@functools.lru_cache(maxsize=4)
def connectome_graph(nodes: tuple[str, ...] = CANONICAL_NEURONS,
                     name: str = DEFAULT_CONNECTOME) -> ConnectomeGraph:
    """The named connectome on ``nodes`` (cached per axis)."""
    conn = anatomical_connectome(name)
    return ConnectomeGraph(nodes=tuple(nodes), chemical=_axis_matrix(conn.chemical, nodes),
                           gap=_axis_matrix(conn.gap, nodes), name=name)


def band_layout(nodes: tuple[str, ...], rows_per_band: int = 3) -> pd.DataFrame:
    """x, y and band per node (a copy of the cached layout); see ``_band_layout``."""
    return _band_layout(tuple(nodes), rows_per_band).copy()


@functools.lru_cache(maxsize=4)
def _band_layout(nodes: tuple[str, ...], rows_per_band: int) -> pd.DataFrame:
    """A stable 2-D layout: sensory, inter and motor neurons in three horizontal bands (top to
    bottom), each band ordered head to tail by anatomical position and spread evenly across
    the width (x in [0, 1]); within a band neighbours alternate between ``rows_per_band`` rows
    so names do not collide. Classes sit where their members do."""
    types = neuron_types()
    members = pd.Series({n: [m for m in CANONICAL_NEURONS if BILATERAL_CLASS[m] == n or m == n]
                         for n in nodes})
    along_body = neuron_positions()["y"]
    table = pd.DataFrame({"band": [types[m[0]] for m in members],
                          "body": [float(along_body[m].mean()) for m in members]},
                         index=pd.Index(nodes, name="neuron"))
    table["x"], table["y"] = np.nan, np.nan
    for k, band in enumerate(BANDS):
        inside = table.index[table["band"] == band]
        order = table.loc[inside].sort_values(["body"], kind="stable").index
        count = max(len(order) - 1, 1)
        table.loc[order, "x"] = np.arange(len(order)) / count
        row = np.arange(len(order)) % rows_per_band
        table.loc[order, "y"] = (len(BANDS) - 1 - k) + 0.22 * (row - (rows_per_band - 1) / 2)
    return table[["x", "y", "band"]]


@dataclass(frozen=True)
class PathSearch:
    """The answer to a path query: the best paths (fewest hops, then the largest total synapse
    count), or a message saying why there is none."""
    source: str
    target: str
    hops: int | None
    paths: list = field(default_factory=list)   # [(names, counts per hop, total), ...] best first
    message: str = ""


def _hop_distances(weights: np.ndarray, start: int, max_hops: int) -> np.ndarray:
    """Breadth-first hop counts from ``start`` along weights > 0 (inf beyond ``max_hops``)."""
    adjacency = weights > 0
    distance = np.full(len(weights), np.inf)
    distance[start] = 0
    frontier = np.zeros(len(weights), dtype=bool)
    frontier[start] = True
    for hop in range(1, max_hops + 1):
        reached = adjacency[frontier].any(axis=0) & ~np.isfinite(distance)
        if not reached.any():
            break
        distance[reached] = hop
        frontier = reached
    return distance


def shortest_paths(graph: ConnectomeGraph, source: str, target: str, max_hops: int = 4,
                   kinds: str = "all", best: int = 5) -> PathSearch:
    """Paths from ``source`` to ``target`` with the fewest hops (at most ``max_hops``); among
    those, the ``best`` with the largest total synapse count. Chemical synapses are followed
    from pre to post, gap junctions both ways. Exact: every shortest path is considered (the
    k best are kept per node while walking the shortest-path layers)."""
    unknown = [n for n in (source, target) if n not in graph.index]
    if unknown:
        return PathSearch(source, target, None, message=f"{', '.join(unknown)}: not a neuron of the "
                          f"{'class' if len(graph.nodes) < len(CANONICAL_NEURONS) else 'neuron'} axis")
    if source == target:
        return PathSearch(source, target, 0, [((source,), (), 0.0)], "the same neuron")
    weights = graph.weights(kinds)
    s, t = graph.index[source], graph.index[target]
    from_source = _hop_distances(weights, s, max_hops)
    if not np.isfinite(from_source[t]):
        return PathSearch(source, target, None, message=f"{source} and {target} are not connected "
                          f"within {max_hops} hops ({kinds} synapses)")
    hops = int(from_source[t])
    to_target = _hop_distances(weights.T, t, hops)
    on_path = np.isfinite(from_source) & np.isfinite(to_target) & (from_source + to_target == hops)
    partial = {s: [(0.0, (s,))]}
    for layer in range(1, hops + 1):
        for v in np.flatnonzero(on_path & (from_source == layer)):
            options = [(total + weights[u, v], path + (int(v),))
                       for u in np.flatnonzero(on_path & (from_source == layer - 1) & (weights[:, v] > 0))
                       for total, path in partial.get(int(u), [])]
            options.sort(key=lambda item: (-item[0], [graph.nodes[k] for k in item[1]]))
            partial[int(v)] = options[:best]
    found = [(tuple(graph.nodes[k] for k in path),
              tuple(float(weights[a, b]) for a, b in zip(path, path[1:])), float(total))
             for total, path in partial.get(t, [])]
    return PathSearch(source, target, hops, found)
