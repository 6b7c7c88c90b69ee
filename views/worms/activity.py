"""The Activity tab: the heatmap of every neuron (with the correlation strip beside it when the
room colours neurons by correlation), then the picked neurons' traces and the behaviour, all on
one time axis with the time cursor drawn across them."""
from __future__ import annotations

from functools import partial

import holoviews as hv
import numpy as np
import panel as pn

from views.worms.heatmap import LiveHeatmap
from views.worms.replay import CORRELATION_PALETTE
from views.worms.tab import RoomTab
from views.worms.traces import stacked


def cursor(model) -> hv.DynamicMap:
    """A vertical line at the model's time cursor (one per plot: streams are per plot)."""
    stream = hv.streams.Params(parameterized=model, parameters=["time_s"])
    return hv.DynamicMap(lambda time_s: hv.VLine(time_s).opts(color="#e6550d", line_width=1.5),
                         streams=[stream])


def track_pane(plot) -> pn.pane.HoloViews:
    return pn.pane.HoloViews(plot, linked_axes=True, sizing_mode="stretch_width", margin=(0, 5))


def correlation_strip(values: np.ndarray, names: list[str], label: str, height: int) -> hv.Image:
    """One column of r values beside the heatmap, in its row order (row 0 on top)."""
    n = len(names)
    image = hv.Image(values[:, None], bounds=(-0.5, -0.5, 0.5, n - 0.5), kdims=["column", "row"],
                     vdims=[hv.Dimension("r", label=label)])
    return image.opts(cmap=CORRELATION_PALETTE, clim=(-1, 1), colorbar=True, width=120, height=height,
                      xaxis=None, yaxis=None, title="r", tools=["hover"], toolbar=None,
                      ylim=(-0.5, n - 0.5))


class ActivityTab(RoomTab):
    """Heatmap, correlation strip, traces and behaviour."""

    def __init__(self, model, height: int = 420, **params):
        super().__init__(model, **params)
        self._height = height
        self.heatmap = LiveHeatmap(height=height)
        self.heatmap.tap.add_subscriber(self._tapped)
        self.heatmap_pane = pn.pane.HoloViews(None, linked_axes=True, sizing_mode="stretch_width",
                                              css_classes=["worm-heatmap"])
        self.strip = pn.pane.HoloViews(None, visible=False, width=130, css_classes=["worm-correlation"])
        self.traces = pn.Column(sizing_mode="stretch_width", css_classes=["worm-traces"])
        self._layout[:] = [pn.Row(self.heatmap_pane, self.strip, sizing_mode="stretch_width"), self.traces]

    def draw(self) -> None:
        m, rec = self.model, self.model.recording
        time, values, names = m.heatmap_rows()
        title = f"{rec.name}: all neurons ({m.activity_unit})" + (" · SIMULATED" if rec.simulated else "")
        self.heatmap.show(time, values, names, title, m.activity_unit)
        if self.heatmap_pane.object is None:
            self.heatmap_pane.object = self.heatmap.dmap * cursor(m)
        self.redraw_strip()
        self.redraw_traces()

    def redraw_strip(self) -> None:
        m = self.model
        showing = m.recording is not None and m.colour_by == "correlation"
        self.strip.visible = showing
        if showing:
            correlations = m.correlations()
            values = correlations.reindex(self.heatmap.names).to_numpy(dtype=float)
            self.strip.object = correlation_strip(values, self.heatmap.names, f"r with {m.reference}",
                                                  self._height)

    def redraw_traces(self) -> None:
        m = self.model
        if m.recording is not None:
            self.traces[:] = self.stacked(m.traces(m.selected), "neurons", behaviour=True)

    def stacked(self, traces: dict, title: str, behaviour: bool = False) -> list:
        """Track panes for ``traces`` (and the behaviour), each with the time cursor."""
        m, rec = self.model, self.model.recording
        plots = stacked(rec.time, traces, m.behaviour() if behaviour else {}, m.events(),
                        partial(cursor, m), rec.simulated, title=title)
        return [track_pane(p) for p in plots]

    def _tapped(self, x=None, y=None) -> None:
        neuron = self.heatmap.row_at(y)
        if neuron is not None and not neuron.startswith("#"):
            self.model.pick(neuron)

