"""The recording against the connectome: a neuron's synaptic partners, activity replayed on
the wiring diagram, neurons coloured by correlation with a reference, and paths between two
neurons. The computation lives in engines.worms (graph.py, activity.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import param

from engines.errors import InvalidInputError
from engines.worms import (EDGE_KINDS, PathSearch, ReplayFrames, band_layout, connectome_graph,
                           correlation_with, replay_frames, shortest_paths)
from lab.worms.selection import Selection

COLOUR_BY = ("activity", "correlation")


class Circuits(Selection):
    """Partners, replay, correlation colouring and paths for the recording on show."""

    partner_kind = param.Selector(default="all", objects=list(EDGE_KINDS), label="Synapses",
                                  doc="Which synapses count as partners (and paths may follow).")
    max_partners = param.Integer(default=6, bounds=(1, 30), label="Partner traces",
                                 doc="Partner traces to show at most.")
    colour_by = param.Selector(default="activity", objects=list(COLOUR_BY), label="Colour neurons by",
                               doc="Activity at the time cursor, or correlation (Pearson r) of each "
                                   "neuron's trace with the reference over the whole recording.")
    reference = param.String(default="velocity", label="Reference",
                             doc="A neuron name or a behaviour (velocity, head_angle) to correlate with.")
    path_from = param.String(default="", label="From", doc="First neuron of a path query.")
    path_to = param.String(default="", label="To", doc="Last neuron of a path query.")
    path_max_hops = param.Integer(default=3, bounds=(1, 6), label="Max hops",
                                  doc="Longest path searched, in synapses crossed.")

    def graph(self):
        """The connectome on this recording's axis (neurons, or classes after a merge)."""
        return connectome_graph(tuple(self._require_recording().neuron_axis))

    def partners(self, neuron: str | None = None) -> pd.DataFrame:
        """Synaptic partners of ``neuron`` (or the focus) with whether this worm recorded them."""
        rec = self._require_recording()
        neuron = neuron or self.focus
        if not neuron:
            return pd.DataFrame(columns=["partner", "kind", "weight", "recorded"])
        table = self.graph().partners(neuron, self.partner_kind)
        table["recorded"] = table["partner"].isin(rec.labelled_columns())
        return table

    def partner_traces(self) -> dict[str, np.ndarray]:
        """Traces of the focus neuron's heaviest recorded partners (at most max_partners)."""
        table = self.partners()
        recorded = list(dict.fromkeys(table.loc[table["recorded"], "partner"]))
        return self.traces(recorded[:self.max_partners])

    # ---- replay ------------------------------------------------------------------------------
    def replay(self) -> tuple[ReplayFrames, pd.DataFrame]:
        """Replay frames of the recording on the connectome and the graph's stable layout."""
        rec = self._require_recording()
        graph = self.graph()
        return replay_frames(rec, graph), band_layout(graph.nodes)

    # ---- colouring by correlation ------------------------------------------------------------
    def reference_options(self) -> list[str]:
        """What ``reference`` may name: behaviour tracks of this recording, then its neurons."""
        rec = self._require_recording()
        return list(self.behaviour()) + sorted(rec.labelled_columns())

    def reference_series(self) -> np.ndarray:
        rec = self._require_recording()
        behaviour = self.behaviour()
        if self.reference in behaviour:
            return behaviour[self.reference]
        name = self.reference.strip().upper()
        if name in rec.labelled_columns():
            return rec.trace(name)
        raise InvalidInputError(f"{rec.name}: no behaviour or identified neuron called "
                                f"{self.reference!r} to correlate with")

    def correlations(self) -> pd.Series:
        """Pearson r of every trace column with the reference, by row name ('#col' unlabelled)."""
        rec = self._require_recording()
        r = correlation_with(rec.traces, self.reference_series())
        return pd.Series(r, index=[name or f"#{c}" for c, name in enumerate(rec.labels)], dtype=float)

    def neuron_values(self) -> tuple[pd.Series, str]:
        """What the neurons are coloured by now, by name, and its label (with units)."""
        if self.colour_by == "correlation":
            return self.correlations(), f"r with {self.reference}"
        return self.activity_at(), f"activity ({self.activity_unit}) at the cursor"

    # ---- paths ---------------------------------------------------------------------------------
    def find_paths(self) -> PathSearch:
        """Paths from path_from to path_to (fewest hops, then most synapses) on this axis."""
        source, target = self.path_from.strip().upper(), self.path_to.strip().upper()
        if not source or not target:
            return PathSearch(source, target, None, message="name two neurons to find paths between them")
        return shortest_paths(self.graph(), source, target, self.path_max_hops, self.partner_kind)
