"""Live views of the running reservoir, redrawn from the model's throttled snapshot.

The model publishes ``model.snapshot`` from its live task's thread (which receives the frames
of the simulation process); ``views.session.Redraw`` hands the redraw to the session's event
loop (at most one pending), so that thread never touches Bokeh models and never waits for
drawing. Redraws take at most MAX_LOOP_SHARE of the loop's time, so clicks stay responsive on a
busy machine. Before the network has run, each plot says what it will show (no empty legends).

These four plots are plain Bokeh figures whose ColumnDataSources are replaced each frame:
rebuilding HoloViews elements cost 0.3-0.5 s per frame here (param objects created per
element), far from the 10 frames/s the room needs. The raster of all neurons is rasterised with
datashader's resampler (mean per pixel row) when there are more neurons than pixel rows.

Each redraw of a Bokeh plot costs the browser 10-25 ms here (software canvas, re-measured axes),
and the browser shares the machine's two cores with the simulation. So only the raster is
redrawn every frame; the currents every second frame, histogram and convergence every fifth;
and the time plots share one fixed x range (steps before now) instead of re-fitting it.
"""
from __future__ import annotations

import functools
import threading

import numba
import numpy as np
import panel as pn
from datashader.resampling import resample_2d
from bokeh.models import ColorBar, ColumnDataSource, Label, LinearColorMapper, Range1d
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from lab.reservoir import LiveSnapshot, ReservoirRoom
from views.session import Redraw

RATE_BINS = np.linspace(0.0, 1.0, 26)
RASTER_ROWS = 200        # more neurons than this are aggregated by datashader (mean per pixel row)
CURRENTS_EVERY = 2       # the currents redraw every second frame
SLOW_EVERY = 5           # histogram and convergence redraw every fifth frame
MAX_LOOP_SHARE = 0.6     # redraws may take at most this share of the event loop's time
BADGE_EVERY = 3          # the badge's step counter every third frame (a new regime at once)
E_COLOUR, I_COLOUR = "#c62828", "#1565c0"
REGIME_STYLE = {"silent": "#1565c0", "saturated": "#c62828", "period-2 oscillation": "#ef6c00",
                "asynchronous": "#2e7d32", "runaway": "#000000", "": "#616161"}
CONNECTOME_NEURONS = 302
WAITING = "Press Run or Step to see\n{what}"


def regime_badge(regime: str, step: int) -> str:
    """The regime and the steps simulated so far: the room's one step count."""
    colour = REGIME_STYLE.get(regime, "#616161")
    label = regime or "not running yet"
    return (f'<span class="regime-badge" style="background:{colour};color:white;padding:4px 12px;'
            f'border-radius:12px;font-weight:600">{label}</span>'
            f'<span class="step-count" style="margin-left:12px;color:#555">{step:,} steps</span>')


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


@functools.cache
def compile_resampler() -> threading.Thread:
    """Compile datashader's resampler (once per server, in a thread): the first call takes a
    second or more, which would otherwise stall the first paint or the first live frame."""
    def compile_it() -> None:
        numba.set_num_threads(1)
        resample_2d(np.zeros((RASTER_ROWS + 1, 2), np.float32), 2, RASTER_ROWS, ds_method="mean")
    thread = threading.Thread(target=compile_it, daemon=True, name="reservoir-resampler")
    thread.start()
    return thread


def histogram_sources(data: LiveSnapshot) -> tuple[dict, dict]:
    rates, _ = np.histogram(data.mean_rates, RATE_BINS)
    targets, _ = np.histogram(data.targets, RATE_BINS)
    left, right = RATE_BINS[:-1], RATE_BINS[1:]
    return dict(left=left, right=right, top=rates), dict(left=left, right=right, top=targets)


def _figure(title: str, x_label: str, y_label: str, height: int = 260, **ranges):
    plot = figure(title=title, height=height, sizing_mode="stretch_width", toolbar_location="above",
                  tools="pan,box_zoom,wheel_zoom,reset,save", **ranges)
    plot.xaxis.axis_label, plot.yaxis.axis_label = x_label, y_label
    return plot


def _waiting_note(plot, what: str) -> Label:
    """Text in the plot saying what it will show once the network has run."""
    note = Label(x=70, y=90, x_units="screen", y_units="screen", text=WAITING.format(what=what), name="live-note",
                 text_color="#555", text_font_size="11pt", background_fill_color="white", background_fill_alpha=0.8)
    plot.add_layout(note)
    return note


class LiveViews(pn.viewable.Viewer):
    """Raster, E/I currents, rate histogram and convergence, following ``model.snapshot``; and
    ``badge``, the regime and step count (placed by the room above its tabs)."""

    def __init__(self, model: ReservoirRoom, **params):
        super().__init__(**params)
        self._model = model
        self.frames = 0
        self._raster_source = ColumnDataSource(dict(image=[np.zeros((1, 2), np.uint8)], x=[0], y=[0], dw=[1], dh=[1]))
        self._currents_source = ColumnDataSource(dict(t=[], e_pop=[], i_pop=[], e_one=[], i_one=[]))
        self._rates_source = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._targets_source = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._error_source = ColumnDataSource(dict(t=[], error=[]))
        self._time_range = Range1d(-model.window, 0)     # shared by the raster, currents and convergence
        self._neuron_range = Range1d(0, CONNECTOME_NEURONS if model.topology == "C. elegans" else model.n)
        self._fitted: tuple[int, int] | None = None      # (N, window) the ranges were set for
        self.badge = pn.pane.HTML(regime_badge("", 0), margin=(10, 10))
        self._badge_regime = ""
        self._notes, self._legends = [], []
        self._plots = self._make_plots()
        compile_resampler()
        self._redraw = Redraw(self.redraw, max_loop_share=MAX_LOOP_SHARE)
        model.param.watch(self._redraw, "snapshot")
        self.redraw()

    def _make_plots(self):
        raster = _figure("Rates of all neurons", "steps before now", "neuron", height=300,
                         x_range=self._time_range, y_range=self._neuron_range)
        levels = LinearColorMapper(palette=Viridis256, low=0, high=255)   # the image holds rate * 255
        raster.image("image", x="x", y="y", dw="dw", dh="dh", source=self._raster_source, color_mapper=levels)
        rates = LinearColorMapper(palette=Viridis256, low=0.0, high=1.0)
        raster.add_layout(ColorBar(color_mapper=rates, title="rate (0-1)"), "right")
        raster.grid.visible = False   # hidden by the image anyway, yet drawn (and styled) every frame
        currents = _figure("E and I input currents", "steps before now", "input current (a.u.)",
                           x_range=self._time_range)
        for column, colour, dash, label in (("e_pop", E_COLOUR, "solid", "E, population"),
                                            ("i_pop", I_COLOUR, "solid", "I, population"),
                                            ("e_one", E_COLOUR, "dashed", "E, chosen neuron"),
                                            ("i_one", I_COLOUR, "dashed", "I, chosen neuron")):
            currents.line("t", column, source=self._currents_source, color=colour, line_dash=dash,
                          alpha=1.0 if dash == "solid" else 0.6, legend_label=label)
        currents.legend.location = "top_left"
        currents.legend.background_fill_alpha = 0.5
        currents.legend.label_text_font_size = "8pt"
        histogram = _figure("Firing rates against targets", "firing rate (0-1)", "neurons")
        histogram.quad(left="left", right="right", top="top", bottom=0, source=self._rates_source,
                       color="#6a1b9a", alpha=0.6, legend_label="mean rate (window)")
        histogram.quad(left="left", right="right", top="top", bottom=0, source=self._targets_source,
                       fill_alpha=0.0, line_color="#2e7d32", line_width=2, legend_label="target rho")
        convergence = _figure("Distance to the target rates", "steps before now", "mean |r - rho| (0-1)",
                              x_range=self._time_range)
        convergence.line("t", "error", source=self._error_source, color="#2e7d32")
        for plot, name, what in ((raster, "raster", "every neuron's rate"),
                                 (currents, "currents", "the E and I input currents"),
                                 (histogram, "histogram", "rates against their targets"),
                                 (convergence, "convergence", "the distance to the targets")):
            self._notes.append(_waiting_note(plot, what))
            plot.css_classes = [f"live-{name}"]   # for tests and page styles
        self._legends = [currents.legend[0], histogram.legend[0]]
        for legend in self._legends:   # a legend of lines not drawn yet read as an empty plot
            legend.visible = False
            legend.name = "live-legend"   # for tests: the analysis tab's legends are always shown
        return raster, currents, histogram, convergence

    # --- frames ---------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the latest snapshot (on the session's loop: ``Redraw`` calls it there)."""
        data = self._model.snapshot
        ran = data is not None and len(data.times) > 0
        if ran == self._notes[0].visible:   # first data, or a new network at rest
            for note in self._notes:
                note.visible = not ran
            for legend in self._legends:
                legend.visible = ran
        if data is None:
            return
        # a frame that stays on screen (paused, stepped by hand) shows everything
        due = lambda every: not self._model.running or self.frames % every == 0
        with pn.io.hold():
            self._draw_raster(data)
            if due(BADGE_EVERY) or data.regime != self._badge_regime:
                self.badge.object = regime_badge(data.regime, data.step)
                self._badge_regime = data.regime
            if due(CURRENTS_EVERY):
                self._currents_source.data = dict(
                    t=data.times - data.step, e_pop=data.exc_population, i_pop=data.inh_population,
                    e_one=data.exc_neuron, i_one=data.inh_neuron)
            if due(SLOW_EVERY):
                self._rates_source.data, self._targets_source.data = histogram_sources(data)
                self._error_source.data = dict(t=data.times - data.step, error=data.target_error)
        self.frames += 1

    def _draw_raster(self, data: LiveSnapshot) -> None:
        n, width = data.rates.shape[1], max(len(data.times), 2)
        if (n, self._model.window) != self._fitted:   # ranges follow the network and the window,
            self._fitted = (n, self._model.window)      # not each frame's data (zooms are kept)
            self._time_range.update(start=-self._model.window, end=0)
            self._neuron_range.update(start=0, end=n)
        self._raster_source.data = dict(image=[raster_image(data)], x=[-width], y=[0], dw=[width], dh=[n])

    def __panel__(self):
        raster, currents, histogram, convergence = self._plots
        pane = lambda plot: pn.pane.Bokeh(plot, sizing_mode="stretch_width")
        return pn.Column(pane(raster), pn.Row(pane(currents), pane(histogram), sizing_mode="stretch_width"),
                         pane(convergence), sizing_mode="stretch_width")
