"""Metric and loss curves against training wall time, one line per run.

Bokeh figures that live as long as the view; each snapshot streams one new row per run
(``ColumnDataSource.stream``), so only the new points travel to the browser. (hv.streams.Buffer
was tried first: inside the lab's shell a room's panes are also rendered into a root the page
discards, and a stream-driven DynamicMap then updates only that first, invisible plot.)
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

COLOURS = ("#1f77b4", "#d62728")
MAX_POINTS = 5000


def _empty() -> dict:
    return dict(time=[], step=[], metric=[], log_loss=[])


class Curves:
    """PSNR (images) or IoU (shapes) and log10 loss, one line per run."""

    def __init__(self):
        self.sources = [ColumnDataSource(_empty()) for _ in COLOURS]
        self.metric_figure = self._figure("PSNR (dB)", "metric")
        self.loss_figure = self._figure("log10 loss", "log_loss")
        self._legend_items = {id(f): list(f.legend.items) for f in (self.metric_figure, self.loss_figure)}
        self.metric_pane = pn.pane.Bokeh(self.metric_figure, sizing_mode="stretch_width", height=240)
        self.loss_pane = pn.pane.Bokeh(self.loss_figure, sizing_mode="stretch_width", height=240)
        self._last_step = [-1, -1]

    def _figure(self, label: str, column: str):
        fig = figure(height=240, sizing_mode="stretch_width", x_axis_label="training time (s)",
                     y_axis_label=label, tools="pan,wheel_zoom,box_zoom,reset", toolbar_location="above")
        for index, source in enumerate(self.sources):
            fig.line("time", column, source=source, color=COLOURS[index], line_width=2,
                     legend_label=("model", "rival")[index])
            # markers too: a short run (a few Steps) has one or two points, which a line alone never shows
            fig.scatter("time", column, source=source, color=COLOURS[index], size=4,
                        legend_label=("model", "rival")[index])
        fig.add_tools(HoverTool(tooltips=[("step", "@step"), (label, f"@{column}"), ("time", "@time s")]))
        fig.legend.location = "bottom_right" if column == "metric" else "top_right"
        return fig

    def clear(self, metric_label: str, names: list[str]) -> None:
        self.metric_figure.yaxis.axis_label = metric_label
        for fig in (self.metric_figure, self.loss_figure):
            fig.legend.items = [item for item in self._legend_items[id(fig)][:len(names)]]
            for item, name in zip(fig.legend.items, names):
                item.label = {"value": name}
        for source in self.sources:
            source.data = _empty()
        self._last_step = [-1, -1]

    def add(self, index: int, step: int, time: float, metric: float, loss: float) -> None:
        if step <= self._last_step[index]:
            return  # a repeated snapshot (e.g. a slice change) adds no point
        self._last_step[index] = step
        row = dict(time=[time], step=[step], metric=[metric], log_loss=[float(np.log10(max(loss, 1e-12)))])
        self.sources[index].stream(row, rollover=MAX_POINTS)
