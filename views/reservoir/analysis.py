"""Eigenvalues in the complex plane, and the trained readout's MC_k curve or prediction.

Each is one Bokeh figure whose data sources and title follow the model's results (a figure
replaced per result let the browser meet updates of models it had dropped).

Both are computed in the model's analysis task (the page stays responsive). The eigenvalues are
computed when their tab is shown (at the network's state then), when asked, and, while the tab
is open, when a setting changes; the readout when asked. Until then their figures read "—".
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Label, Range1d
from bokeh.plotting import figure

from lab.reservoir import ReservoirRoom, Spectrum, TaskResult
from lab.reservoir.settings import with_role
from views.session import Redraw
from views.widgets import param_widget

CIRCLE = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
NOT_YET = "—"


def spectrum_title(spectrum: Spectrum | None) -> str:
    if spectrum is None:
        return "Eigenvalues (none computed yet)"
    return (f"Eigenvalues at step {spectrum.step:,}: radius W {spectrum.weights_radius:.2f}, "
            f"Jacobian {spectrum.jacobian_radius:.2f}")


class SpectrumPlot:
    """Eigenvalues of W and of the Jacobian in the complex plane, with the unit circle and the E-I
    outlier: one Bokeh figure whose sources and title follow each new spectrum (replacing the
    figure each time made the browser meet updates of models it had already dropped)."""

    def __init__(self):
        self._ranges = Range1d(-1.15, 1.15), Range1d(-1.15, 1.15)   # equal axes keep the circle round
        self.figure = figure(title=spectrum_title(None), frame_width=420, frame_height=420, x_range=self._ranges[0],
                             y_range=self._ranges[1], tools="pan,box_zoom,wheel_zoom,reset,save",
                             toolbar_location="above", css_classes=["spectrum-plot"])
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = "Re", "Im"
        self.figure.line(CIRCLE.real, CIRCLE.imag, color="grey", line_dash="dotted", legend_label="unit circle")
        self._sources = {name: ColumnDataSource(dict(re=[], im=[])) for name in ("W", "Jacobian", "outlier")}
        for name, colour, size, marker in (("W", "#6a1b9a", 6, "circle"), ("Jacobian", "#ef6c00", 6, "circle"),
                                           ("outlier", "#c62828", 18, "star")):
            self.figure.scatter("re", "im", source=self._sources[name], color=colour, size=size, marker=marker,
                                alpha=0.7, legend_label="E-I outlier" if name == "outlier" else name)
        self.figure.add_layout(self.figure.legend[0], "right")

    def update(self, spectrum: Spectrum | None) -> None:
        empty = np.zeros(0)
        values = {"W": spectrum.weights, "Jacobian": spectrum.jacobian,
                  "outlier": np.array([spectrum.outlier])} if spectrum is not None else dict.fromkeys(self._sources, empty)
        for name, source in self._sources.items():
            source.data = dict(re=values[name].real, im=values[name].imag)
        lim = 1.15 * max(1.0, spectrum.weights_radius, spectrum.jacobian_radius) if spectrum is not None else 1.15
        for axis in self._ranges:
            axis.update(start=-lim, end=lim)
        self.figure.title.text = spectrum_title(spectrum)


def spectrum_figures(spectrum: Spectrum | None, computing: bool) -> str:
    if spectrum is None:
        radii = f"spectral radius of W {NOT_YET} · of the Jacobian {NOT_YET} · E-I outlier {NOT_YET}"
    else:
        radii = (f"spectral radius of W {spectrum.weights_radius:.3f} · of the Jacobian "
                 f"{spectrum.jacobian_radius:.3f} · E-I outlier {spectrum.outlier.real:.3f} "
                 f"(at step {spectrum.step:,})")
    return radii + (" · computing …" if computing else "")


def task_title(result: TaskResult | None) -> str:
    if result is None:
        return "Train a readout to see its score"
    return f"{result.task}: {result.metric} = {result.value:.3g}  (g = {result.balance:g}, adaptation {result.adaptation})"


class TaskPlot:
    """The trained readout: its MC_k curve (memory capacity) or its prediction against the target
    (NARMA-10, Mackey-Glass), in one Bokeh figure whose sources, labels and title follow each result."""

    def __init__(self):
        self.figure = figure(title=task_title(None), height=320, sizing_mode="stretch_width", toolbar_location="above",
                             tools="pan,box_zoom,wheel_zoom,reset,save", css_classes=["task-plot"])
        self._curve = ColumnDataSource(dict(x=[], y=[]))
        self._series = ColumnDataSource(dict(x=[], target=[], prediction=[]))
        self.figure.line("x", "y", source=self._curve, color="#6a1b9a", line_width=2, legend_label="MC_k")
        self.figure.line("x", "target", source=self._series, color="black", legend_label="target")
        self.figure.line("x", "prediction", source=self._series, color="#ef6c00", line_dash="dashed",
                         legend_label="prediction")
        self.figure.legend.location = "top_right"
        # an empty frame reads as a broken plot: say what will be drawn here
        self._note = Label(x=70, y=120, x_units="screen", y_units="screen", name="task-note",
                           text="Press Train readout to see its memory curve\nor its prediction against the target",
                           text_color="#555", text_font_size="11pt")
        self.figure.add_layout(self._note)
        self.update(None)

    def update(self, result: TaskResult | None) -> None:
        memory = result is not None and result.memory_curve is not None
        series = result is not None and not memory
        empty = np.zeros(0)
        k = np.arange(1, len(result.memory_curve) + 1) if memory else empty
        self._curve.data = dict(x=k, y=result.memory_curve if memory else empty)
        t = np.arange(len(result.target)) if series else empty
        self._series.data = dict(x=t, target=result.target if series else empty,
                                 prediction=result.prediction if series else empty)
        self.figure.xaxis.axis_label = "test step" if series else "delay k (steps)"
        self.figure.yaxis.axis_label = "value" if series else "MC_k (r^2)"
        curve, target, prediction = self.figure.legend[0].items   # only the lines on show are listed
        curve.visible, target.visible, prediction.visible = memory, series, series
        self.figure.legend.visible = result is not None
        self._note.visible = result is None
        self.figure.title.text = task_title(result)


def task_figures(result: TaskResult | None, task: str, computing: bool) -> str:
    if result is None:
        text = f"{task}: {'MC' if task == 'memory capacity' else 'NRMSE'} {NOT_YET}"
    else:
        text = f"{result.task}: {result.metric} = {result.value:.3g} (g = {result.balance:g}, adaptation {result.adaptation})"
    return text + (" · training …" if computing else "")


class SpectrumPanel(pn.viewable.Viewer):
    """The Eigenvalues tab; ``shown()`` when the tab comes into view computes them afresh."""

    def __init__(self, model: ReservoirRoom, **params):
        super().__init__(**params)
        self._model, self._visible = model, False
        button = pn.widgets.Button(label="Compute eigenvalues", color="primary", width=170)
        button.on_click(lambda _event: model.request("spectrum"))
        self._follow = pn.widgets.Checkbox(label="recompute when a setting changes", value=True)
        self._figures = pn.pane.Markdown(spectrum_figures(None, False), css_classes=["spectrum-figures"], margin=(0, 10))
        self._plot = SpectrumPlot()
        self._drawn: Spectrum | None = None
        self._layout = pn.Column(pn.Row(button, self._follow), self._figures, pn.pane.Bokeh(self._plot.figure),
                                 sizing_mode="stretch_width")
        redraw = Redraw(self._draw)
        model.param.watch(redraw, "spectrum")
        model.param.watch(redraw, "analysing")
        model.param.watch(self._on_setting, with_role(type(model), "structure", "live"))

    def shown(self, visible: bool) -> None:
        self._visible = visible
        if visible:
            self._model.request("spectrum")

    def _on_setting(self, *_events) -> None:
        if self._visible and self._follow.value:
            self._model.request("spectrum")

    def _draw(self) -> None:
        spectrum = self._model.spectrum
        self._figures.object = spectrum_figures(spectrum, self._model.analysing == "spectrum")
        if spectrum is not self._drawn:
            self._plot.update(spectrum)
            self._drawn = spectrum

    def __panel__(self):
        return self._layout


class TaskPanel(pn.viewable.Viewer):
    """The Task tab: choose a task, train a ridge readout on the network as it is now."""

    def __init__(self, model: ReservoirRoom, **params):
        super().__init__(**params)
        self._model = model
        task = param_widget(model, "task", pn.widgets.RadioButtonGroup, sizing_mode="fixed")
        button = pn.widgets.Button(label="Train readout", color="primary", width=140)
        button.on_click(lambda _event: model.request("train"))
        note = pn.pane.Markdown("The readout is a ridge regression on the network as it is now "
                                "(adaptation frozen while the task's input drives it).", margin=(0, 10))
        self._figures = pn.pane.Markdown("", css_classes=["task-figures"], margin=(0, 10))
        self._plot = TaskPlot()
        self._drawn: TaskResult | None = None
        self._layout = pn.Column(pn.Row(task, button), note, self._figures,
                                 pn.pane.Bokeh(self._plot.figure, sizing_mode="stretch_width"), sizing_mode="stretch_width")
        redraw = Redraw(self._draw)
        model.param.watch(redraw, ["task_result", "task", "analysing"])
        self._draw()

    def _draw(self) -> None:
        result = self._model.task_result
        self._figures.object = task_figures(result, self._model.task, self._model.analysing == "train")
        if result is not self._drawn:
            self._plot.update(result)
            self._drawn = result

    def __panel__(self):
        return self._layout
