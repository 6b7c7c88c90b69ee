"""Activity read off a recording for drawing: values at a time cursor, per-neuron scaling,
correlation with a reference, replay frames on the connectome graph, and 3-D positions.

    k = sample_index(rec.time, 12.5)                     # the sample nearest 12.5 s
    r = correlation_with(rec.traces, rec.trace("AVAL"))  # one Pearson r per column
    frames = replay_frames(rec, connectome_graph(rec.neuron_axis))
    frames.nodes_at(k), frames.edges_at(k)               # what the replay draws at sample k
    table = positions_on_axis(rec.neuron_axis)           # x, y, z per neuron (or class)
    nearest_neuron(table, (x, y, z), max_distance)       # what a 3-D pick at a point means

Replay: each neuron's trace is scaled to [0, 1] by its own minimum and maximum (so every neuron
uses the whole colour range; NaN where the neuron was not recorded or the sample is missing).
An edge's strength at sample k is its synapse count times the presynaptic neuron's scaled
activity; a gap junction conducts both ways, so it takes the mean of its two ends. Missing
activity counts as 0 for edges.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engines.worms.connectome import neuron_positions
from engines.worms.graph import ConnectomeGraph
from engines.worms.model import Recording
from engines.worms.neurons import BILATERAL_CLASS, CANONICAL_NEURONS


def sample_index(time: np.ndarray, t: float) -> int:
    """Index of the sample nearest ``t`` seconds (clipped to the recording)."""
    k = int(np.searchsorted(time, t))
    if k >= len(time):
        return len(time) - 1
    if k > 0 and t - time[k - 1] <= time[k] - t:
        return k - 1
    return k


def scaled_per_neuron(traces: np.ndarray) -> np.ndarray:
    """(T, N) traces scaled column by column to [0, 1] (min -> 0, max -> 1); a flat column
    becomes 0.5 and NaN stays NaN."""
    x = np.asarray(traces, dtype=np.float32)
    finite = np.isfinite(x)
    low = np.where(finite, x, np.inf).min(axis=0)
    high = np.where(finite, x, -np.inf).max(axis=0)
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(span > 0, (x - low) / np.where(span > 0, span, 1), 0.5)
    return np.where(finite, out, np.nan).astype(np.float32)


def correlation_with(traces: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of (T, N) ``traces`` with the (T,) ``reference``,
    over the samples where both are finite; NaN where fewer than 3 such samples or a flat series."""
    x = np.asarray(traces, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)[:, None]
    both = np.isfinite(x) & np.isfinite(y)
    n = both.sum(axis=0)
    xs, ys = np.where(both, x, 0.0), np.where(both, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x, mean_y = xs.sum(axis=0) / n, ys.sum(axis=0) / n
        dx, dy = np.where(both, x - mean_x, 0.0), np.where(both, y - mean_y, 0.0)
        r = (dx * dy).sum(axis=0) / np.sqrt((dx ** 2).sum(axis=0) * (dy ** 2).sum(axis=0))
    r[(n < 3) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0)


@dataclass(frozen=True)
class ReplayFrames:
    """What the connectome replay draws, for every sample of a recording."""
    time: np.ndarray          # (T,) seconds
    nodes: tuple              # the graph's node names
    activity: np.ndarray      # (T, N) float32 in [0, 1]; NaN where not recorded
    recorded: np.ndarray      # (N,) bool
    edges: pd.DataFrame       # pre, post, kind, count (the graph's edges)

    def nodes_at(self, k: int) -> np.ndarray:
        return self.activity[k]

    def edges_at(self, k: int) -> np.ndarray:
        """(E,) synapse count x presynaptic activity (gap junctions: mean of both ends)."""
        now = np.nan_to_num(self.activity[k], nan=0.0)
        pre = self.edges["pre"].to_numpy()
        post = self.edges["post"].to_numpy()
        drive = np.where(self.edges["kind"].to_numpy() == "gap junction",
                         0.5 * (now[pre] + now[post]), now[pre])
        return self.edges["count"].to_numpy() * drive


def replay_frames(recording: Recording, graph: ConnectomeGraph) -> ReplayFrames:
    """Scaled activity of ``recording`` on ``graph``'s nodes (its neuron axis)."""
    slot = graph.index
    activity = np.full((recording.n_time, len(graph.nodes)), np.nan, dtype=np.float32)
    recorded = np.zeros(len(graph.nodes), dtype=bool)
    scaled = scaled_per_neuron(recording.traces)
    for name, column in recording.labelled_columns().items():
        if name in slot:
            activity[:, slot[name]] = scaled[:, column]
            recorded[slot[name]] = True
    return ReplayFrames(recording.time, graph.nodes, activity, recorded, graph.edges)


@functools.lru_cache(maxsize=4)
def _positions_on_axis(axis: tuple[str, ...]) -> pd.DataFrame:
    atlas = neuron_positions()
    if axis == CANONICAL_NEURONS:
        return atlas.dropna()
    return atlas.groupby(BILATERAL_CLASS).mean().reindex(list(axis)).dropna()


def positions_on_axis(axis: tuple[str, ...]) -> pd.DataFrame:
    """x, y, z per neuron of ``axis`` (bilateral classes at their members' mean)."""
    return _positions_on_axis(tuple(axis)).copy()


def nearest_neuron(positions: pd.DataFrame, point, max_distance: float) -> str | None:
    """The neuron whose position (x, y, z columns) lies nearest ``point``, if within
    ``max_distance``; None otherwise (a click beside every neuron picks nothing)."""
    if positions.empty:
        return None
    xyz = positions[["x", "y", "z"]].to_numpy(dtype=float)
    distance = np.linalg.norm(xyz - np.asarray(point, dtype=float)[None, :], axis=1)
    k = int(np.argmin(distance))
    return str(positions.index[k]) if distance[k] <= max_distance else None
