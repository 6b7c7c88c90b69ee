"""Live views of the running reservoir, redrawn from the model's throttled snapshot.

The simulation thread publishes ``model.snapshot``; the redraw is handed to the session's
event loop (at most one pending), so the thread never touches Bokeh models and never waits for
drawing. Redraws take at most half of the loop's time, so clicks stay responsive on a busy
machine.

These four plots are plain Bokeh figures whose ColumnDataSources are replaced each frame:
rebuilding HoloViews elements cost 0.3-0.5 s per frame here (param objects created per
element), far from the 10 frames/s the room needs. The raster of all neurons is rasterised with
datashader's resampler (mean per pixel row) when there are more neurons than pixel rows.
"""
from __future__ import annotations

import time

import numba
import numpy as np
import panel as pn
from datashader.resampling import resample_2d
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper
from bokeh.palettes import Viridis256
from bokeh.plotting import figure
from panel.io.state import set_curdoc

from lab.reservoir import LiveSnapshot, ReservoirRoom

RATE_BINS = np.linspace(0.0, 1.0, 26)
RASTER_ROWS = 200        # more neurons than this are aggregated by datashader (mean per pixel row)
SLOW_EVERY = 3           # histogram and convergence redraw every third frame
MAX_LOOP_SHARE = 0.6     # redraws may take at most this share of the event loop's time
E_COLOUR, I_COLOUR = "#c62828", "#1565c0"


def raster_image(data: LiveSnapshot) -> np.ndarray:
    """(rows, W) image of rates as 0..255 (one level per palette colour), neuron 0 at the bottom.

    Many neurons are rasterised by datashader; bytes instead of floats make a frame 4x smaller.
    """
    rates = data.rates.T   # (N, W)
    n, width = rates.shape
    if width < 2:   # nothing simulated yet: an empty (dark) picture; Bokeh cannot draw width 0
        return np.zeros((min(n, RASTER_ROWS), 2), dtype=np.uint8)
    if n > RASTER_ROWS:
        # datashader's resampler, on one thread: its parallel kernel took 20-30 ms per frame on
        # this busy 2-core machine, against 1 ms on one thread (numba's setting is per thread)
        numba.set_num_threads(1)
        rates = resample_2d(np.ascontiguousarray(rates, dtype=np.float32), width, RASTER_ROWS, ds_method="mean")
    return np.round(np.clip(rates, 0.0, 1.0) * 255).astype(np.uint8)


def histogram_sources(data: LiveSnapshot) -> tuple[dict, dict]:
    rates, _ = np.histogram(data.mean_rates, RATE_BINS)
    targets, _ = np.histogram(data.targets, RATE_BINS)
    left, right = RATE_BINS[:-1], RATE_BINS[1:]
    return dict(left=left, right=right, top=rates), dict(left=left, right=right, top=targets)


def _figure(title: str, x_label: str, y_label: str, height: int = 260):
    plot = figure(title=title, height=height, sizing_mode="stretch_width", toolbar_location="above",
                  tools="pan,box_zoom,wheel_zoom,reset,save")
    plot.xaxis.axis_label, plot.yaxis.axis_label = x_label, y_label
    return plot


class LiveViews(pn.viewable.Viewer):
    """Raster, E/I currents, rate histogram and convergence, following ``model.snapshot``."""

    def __init__(self, model: ReservoirRoom, **params):
        super().__init__(**params)
        self._model = model
        self._doc = pn.state.curdoc
        self._pending = False
        self._next_allowed = 0.0
        self.frames = 0
        self._raster_source = ColumnDataSource(dict(image=[np.zeros((1, 2), np.uint8)], x=[0], y=[0], dw=[1], dh=[1]))
        self._currents_source = ColumnDataSource(dict(t=[], e_pop=[], i_pop=[], e_one=[], i_one=[]))
        self._rates_source = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._targets_source = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._error_source = ColumnDataSource(dict(t=[], error=[]))
        self._plots = self._make_plots()
        model.param.watch(self._schedule, "snapshot")
        self.redraw()

    def _make_plots(self):
        raster = _figure("Rates of all neurons", "steps before now", "neuron", height=300)
        levels = LinearColorMapper(palette=Viridis256, low=0, high=255)   # the image holds rate * 255
        raster.image("image", x="x", y="y", dw="dw", dh="dh", source=self._raster_source, color_mapper=levels)
        rates = LinearColorMapper(palette=Viridis256, low=0.0, high=1.0)
        raster.add_layout(ColorBar(color_mapper=rates, title="rate"), "right")
        raster.x_range.range_padding = raster.y_range.range_padding = 0
        currents = _figure("E and I input currents", "step", "input current")
        for column, colour, dash, label in (("e_pop", E_COLOUR, "solid", "E, population"),
                                            ("i_pop", I_COLOUR, "solid", "I, population"),
                                            ("e_one", E_COLOUR, "dashed", "E, chosen neuron"),
                                            ("i_one", I_COLOUR, "dashed", "I, chosen neuron")):
            currents.line("t", column, source=self._currents_source, color=colour, line_dash=dash,
                          alpha=1.0 if dash == "solid" else 0.6, legend_label=label)
        currents.legend.location = "top_left"
        currents.legend.background_fill_alpha = 0.5
        currents.legend.label_text_font_size = "8pt"
        histogram = _figure("Firing rates against targets", "rate", "neurons")
        histogram.quad(left="left", right="right", top="top", bottom=0, source=self._rates_source,
                       color="#6a1b9a", alpha=0.6, legend_label="mean rate (window)")
        histogram.quad(left="left", right="right", top="top", bottom=0, source=self._targets_source,
                       fill_alpha=0.0, line_color="#2e7d32", line_width=2, legend_label="target rho")
        convergence = _figure("Distance to the target rates", "step", "mean |r - rho|")
        convergence.line("t", "error", source=self._error_source, color="#2e7d32")
        return raster, currents, histogram, convergence

    # --- frames ---------------------------------------------------------------------------
    def _schedule(self, _event=None) -> None:
        """Called in the simulation thread: queue one redraw on the session's event loop."""
        if self._pending or time.perf_counter() < self._next_allowed:
            return
        self._pending = True
        if self._doc is not None and self._doc.session_context is not None:
            self._doc.add_next_tick_callback(self._redraw_in_session)
        else:
            self.redraw()

    def _redraw_in_session(self) -> None:
        with set_curdoc(self._doc):
            self.redraw()

    def redraw(self) -> None:
        started = time.perf_counter()
        self._pending = False
        data = self._model.snapshot
        if data is None:
            return
        image = raster_image(data)
        n, width = data.rates.shape[1], max(len(data.times), 2)
        with pn.io.hold():
            self._raster_source.data = dict(image=[image], x=[-width], y=[0], dw=[width], dh=[n])
            self._currents_source.data = dict(t=data.times, e_pop=data.exc_population, i_pop=data.inh_population,
                                              e_one=data.exc_neuron, i_one=data.inh_neuron)
            if self.frames % SLOW_EVERY == 0:
                self._rates_source.data, self._targets_source.data = histogram_sources(data)
                self._error_source.data = dict(t=data.times, error=data.target_error)
        self.frames += 1
        spent = time.perf_counter() - started
        self._next_allowed = time.perf_counter() + spent * (1 - MAX_LOOP_SHARE) / MAX_LOOP_SHARE

    def __panel__(self):
        raster, currents, histogram, convergence = self._plots
        pane = lambda plot: pn.pane.Bokeh(plot, sizing_mode="stretch_width")
        return pn.Column(pane(raster), pn.Row(pane(currents), pane(histogram), sizing_mode="stretch_width"),
                         pane(convergence), sizing_mode="stretch_width")
