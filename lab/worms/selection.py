"""Neurons and time: which neurons are picked, the heatmap's row order, the one time cursor, and
what the views read off the recording at them (rows, traces, behaviour, activity, positions)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import param

from engines.errors import InvalidInputError
from engines.worms import (ORDERS, nearest_neuron, order_by_clustering, order_by_connectome,
                           order_by_name, positions_on_axis, sample_index, search_neurons)
from lab.worms.recording import RecordingOnShow

BEHAVIOUR_KEYS = ("velocity", "head_angle", "angular_velocity", "pumping", "worm_curvature")


class Selection(RecordingOnShow):
    """Picked neurons, the focus neuron, the row order and the time cursor."""

    order = param.Selector(default="name", objects=list(ORDERS), label="Order rows by",
                           doc="Heatmap rows by name, by activity clustering, or by connectome "
                               "position (Fiedler vector of the anatomical wiring).")
    selected = param.List(default=[], item_type=str, label="Traces shown",
                          doc="Neurons whose traces are stacked under the heatmap.")
    query = param.String(default="", label="Find neuron (name or class)",
                         doc="Search neurons by name or class (AVA, RIM, VB...).")
    time_s = param.Number(default=0.0, bounds=(0, None), label="Time (s)",
                          doc="The time cursor in seconds: every view shows this moment.")
    focus = param.String(default="", label="Neuron",
                         doc="The neuron last picked: its partners are listed, its name shown in 3D.")
    matches = param.List(default=[], constant=True, doc="Neurons matching the query.")

    # ---- neurons ---------------------------------------------------------------------------
    @param.depends("query", watch=True)
    def _update_matches(self) -> None:
        rec = self.recording
        names = sorted(rec.labelled_columns()) if rec is not None else []
        self._publish(matches=search_neurons(self.query, names) if self.query.strip() else [])

    def add_neuron(self, name: str) -> None:
        """Stack ``name``'s trace (any spelling; InvalidInputError if this worm lacks it)."""
        rec = self._require_recording()
        neuron = name.strip().upper()
        if neuron not in rec.labelled_columns():
            found = search_neurons(neuron, sorted(rec.labelled_columns()))
            if not found:
                raise InvalidInputError(f"{rec.name}: no identified neuron matches {name!r}")
            neuron = found[0]
        with param.parameterized.batch_call_watchers(self):
            if neuron not in self.selected:
                self.selected = self.selected + [neuron]
            self.focus = neuron

    def remove_neuron(self, name: str) -> None:
        self.selected = [n for n in self.selected if n != name]

    def pick(self, name: str) -> None:
        """A neuron picked in a view (3D, graph, heatmap): focus it everywhere and, when this
        worm recorded it, add its trace. A neuron it did not record is still focused (its
        partners are listed) but has no trace to add."""
        rec = self._require_recording()
        if name in rec.labelled_columns():
            self.add_neuron(name)
        elif name in rec.neuron_axis:
            self.focus = name
        else:
            raise InvalidInputError(f"{name!r} is not a neuron of this recording's axis")

    def pick_at(self, point, max_distance: float) -> str | None:
        """Pick the neuron at a 3-D ``point`` (anatomical units), if one lies within reach."""
        name = nearest_neuron(self.positions(), point, max_distance)
        if name is not None:
            self.pick(name)
        return name

    # ---- what the views read ------------------------------------------------------------------
    def row_order(self) -> np.ndarray:
        rec = self._require_recording()
        if self.order == "clustering":
            return order_by_clustering(rec.traces)
        if self.order == "connectome":
            return order_by_connectome(rec.labels, rec.neuron_axis)
        return order_by_name(rec.labels)

    def heatmap_rows(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(time, (rows x T) values, row names) in the chosen order; unlabelled as '#col'."""
        rec = self._require_recording()
        order = self.row_order()
        names = [rec.labels[c] or f"#{c}" for c in order]
        return rec.time, rec.traces[:, order].T, names

    def traces(self, neurons: list[str]) -> dict[str, np.ndarray]:
        rec = self._require_recording()
        columns = rec.labelled_columns()
        return {n: rec.traces[:, columns[n]] for n in neurons if n in columns}

    def behaviour(self) -> dict[str, np.ndarray]:
        """Behaviour tracks worth plotting (velocity, head angle, pumping...), in that order."""
        rec = self._require_recording()
        return {k: np.asarray(rec.behaviour[k], float) for k in BEHAVIOUR_KEYS if k in rec.behaviour
                and np.ndim(rec.behaviour[k]) == 1}

    def events(self) -> pd.DataFrame:
        return self._require_recording().events

    def cursor_index(self) -> int:
        """The sample nearest the time cursor."""
        return sample_index(self._require_recording().time, self.time_s)

    def activity_at(self, time_s: float | None = None) -> pd.Series:
        """Activity of every identified neuron at the cursor (nearest sample), by name."""
        rec = self._require_recording()
        k = sample_index(rec.time, self.time_s if time_s is None else time_s)
        columns = rec.labelled_columns()
        return pd.Series({n: float(rec.traces[k, c]) for n, c in columns.items()}, dtype=float)

    def positions(self) -> pd.DataFrame:
        """Anatomical x, y, z of the neurons on this recording's axis (classes at their members'
        mean), with 'recorded' and 'activity' (at the cursor) columns."""
        rec = self._require_recording()
        table = positions_on_axis(rec.neuron_axis)
        activity = self.activity_at()
        table["recorded"] = table.index.isin(activity.index)
        table["activity"] = activity.reindex(table.index).to_numpy()
        return table

    def unplaced(self) -> list[str]:
        """Trace columns with no neuron identity (shown as '#col'): they have no position."""
        rec = self._require_recording()
        return [f"#{c}" for c, name in enumerate(rec.labels) if name is None]
