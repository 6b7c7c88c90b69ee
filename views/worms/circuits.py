"""The connectome tabs: activity replayed on the wiring diagram with the path finder, and a
neuron's synaptic partners with their traces."""
from __future__ import annotations

import pandas as pd
import panel as pn

from views.widgets import param_widget
from views.worms.controls import labelled
from views.worms.replay import ReplayCanvas, colouring, encode_frames, graph_data
from views.worms.tab import RoomTab

REPLAY_INTRO = ("The C. elegans wiring (Cook 2019: chemical synapses blue, gap junctions orange) "
                "with sensory, inter- and motor neurons in bands, head to tail left to right. "
                "Neurons light up with their activity at the time cursor (scaled 0-1 per neuron; "
                "grey rings: not recorded); a synapse is drawn by its count x its presynaptic "
                "neuron's activity. Press ▶ above to replay; click a neuron to pick it.")


def path_table(found) -> pd.DataFrame:
    """One row per path: its neurons, the synapses crossed at each hop and their total."""
    return pd.DataFrame({"path": [" → ".join(names) for names, _, _ in found.paths],
                         "synapses per hop": [" + ".join(f"{c:g}" for c in counts) for _, counts, _ in found.paths],
                         "total synapses": [total for _, _, total in found.paths]})


class ReplayTab(RoomTab):
    """The replay canvas following the room's time cursor, and the path finder."""

    def __init__(self, model, channel: str, **params):
        super().__init__(model, **params)
        self.canvas = ReplayCanvas(channel=channel, sizing_mode="stretch_width", height=530,
                                   css_classes=["worm-replay"])
        self.canvas.param.watch(self._clicked, "picked")
        names = dict(options=[], restrict=False, case_sensitive=False, min_characters=1,
                     search_strategy="includes", sizing_mode="fixed", width=150)
        self._names = [param_widget(model, name, pn.widgets.AutocompleteInput, css_classes=[name.replace("_", "-")],
                                    **names) for name in ("path_from", "path_to")]
        hops = param_widget(model, "path_max_hops", sizing_mode="fixed", width=150)
        self.paths = pn.pane.DataFrame(None, index=False, sizing_mode="stretch_width", css_classes=["path-table"])
        self.path_note = pn.pane.Markdown("", css_classes=["path-note"])
        finder = pn.Column(pn.pane.Markdown("**Paths through the connectome** (fewest hops, then most "
                                            "synapses; chemical synapses pre → post, gap junctions both ways)"),
                           pn.Row(*self._names, hops, labelled(param_widget(
                               model, "partner_kind", pn.widgets.RadioButtonGroup, sizing_mode="fixed",
                               width=260))),
                           self.path_note, self.paths, sizing_mode="stretch_width")
        self._layout[:] = [pn.pane.Markdown(REPLAY_INTRO), self.canvas, finder]

    def draw(self) -> None:
        """A new recording: the graph on its axis, every frame, and the colouring."""
        frames, layout = self.model.replay()
        names = list(frames.nodes)
        for widget in self._names:
            widget.options = names
        self.canvas.param.update(**graph_data(frames, layout), **encode_frames(frames))
        self.recolour()
        self.show_paths()

    def recolour(self) -> None:
        m = self.model
        if m.recording is None:
            return
        values, label = m.neuron_values() if m.colour_by == "correlation" else (None, "")
        self.canvas.param.update(**colouring(self.canvas.node_names, m.colour_by, values, label),
                                 marked=list(m.selected), focus=m.focus)

    def show_paths(self) -> None:
        found = self.model.find_paths()
        self.canvas.path = list(found.paths[0][0]) if found.paths else []
        self.paths.object = path_table(found) if found.paths else None
        self.path_note.object = (found.message if not found.paths else
                                 f"{len(found.paths)} best of the {found.hops}-hop paths from "
                                 f"{found.source} to {found.target} (the first is drawn in red)")

    def _clicked(self, event) -> None:
        name = event.new.split("|")[0]
        if name:
            self.model.pick(name)


class PartnersTab(RoomTab):
    """The focus neuron's synaptic partners (table) and the traces of the recorded ones."""

    def __init__(self, model, stacked_plots, **params):
        super().__init__(model, **params)
        self._stacked = stacked_plots
        focus = param_widget(model, "focus", pn.widgets.AutocompleteInput, options=[], restrict=False,
                             case_sensitive=False, search_strategy="includes", min_characters=1,
                             sizing_mode="fixed", width=220)
        self._focus = focus
        controls = pn.Row(focus, labelled(param_widget(model, "partner_kind", pn.widgets.RadioButtonGroup,
                                                       sizing_mode="fixed", width=300)),
                          param_widget(model, "max_partners", sizing_mode="fixed", width=220))
        self.table = pn.pane.DataFrame(None, max_rows=25, index=False, sizing_mode="stretch_width",
                                       css_classes=["partner-table"])
        self.traces = pn.Column(sizing_mode="stretch_width", css_classes=["partner-traces"])
        self.empty = pn.pane.Markdown("", css_classes=["partners-empty"])
        self._layout[:] = [controls, self.empty, pn.Row(pn.Column(self.table, width=380), self.traces,
                                                        sizing_mode="stretch_width")]

    def draw(self) -> None:
        m, rec = self.model, self.model.recording
        self._focus.options = list(rec.neuron_axis)
        if not rec.labelled_columns():
            self.empty.object = m.notice
        elif not m.focus:
            self.empty.object = "Pick a neuron (click it in the heatmap, the 3D view or the replay)."
        else:
            self.empty.object = ""
        if not m.focus:
            self.table.object, self.traces[:] = None, []
            return
        self.table.object = m.partners().rename(columns={"weight": "synapses"})
        traces = {**m.traces([m.focus]), **m.partner_traces()}
        self.traces[:] = self._stacked(traces, f"{m.focus} and partners")
