"""Eigenvalues in the complex plane, and the trained readout's MC_k curve or prediction."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the backend that .opts() needs)
import numpy as np
import panel as pn

from lab.reservoir import ReservoirRoom, Spectrum, TaskResult

CIRCLE = np.exp(1j * np.linspace(0, 2 * np.pi, 200))


def spectrum_plot(spectrum: Spectrum | None) -> hv.Overlay:
    circle = hv.Curve((CIRCLE.real, CIRCLE.imag), "Re", "Im", label="unit circle").opts(color="grey", line_dash="dotted")
    if spectrum is None:
        return circle.opts(title="Eigenvalues (press 'Eigenvalues')", frame_width=420, frame_height=420)
    points = lambda values, label, colour, size: hv.Points((values.real, values.imag), ["Re", "Im"], label=label).opts(
        color=colour, size=size, alpha=0.7)
    outlier = spectrum.outlier
    lim = 1.15 * max(1.0, spectrum.weights_radius, spectrum.jacobian_radius)  # equal axes keep the circle round
    title = (f"Eigenvalues at step {spectrum.step}: radius W {spectrum.weights_radius:.2f}, "
             f"Jacobian {spectrum.jacobian_radius:.2f}")
    return (circle * points(spectrum.weights, "W", "#6a1b9a", 4) * points(spectrum.jacobian, "Jacobian", "#ef6c00", 4)
            * points(np.array([outlier]), f"E-I outlier {outlier.real:.2f}", "#c62828", 14).opts(marker="star")
            ).opts(title=title, xlim=(-lim, lim), ylim=(-lim, lim), frame_width=420, frame_height=420,
                   legend_position="right", show_grid=True)


def task_plot(result: TaskResult | None) -> hv.Element:
    if result is None:
        return hv.Curve([], "k", "r^2").opts(title="Train a readout to see its score", responsive=True, height=320)
    title = (f"{result.task}: {result.metric} = {result.value:.3g}  "
             f"(g = {result.balance:g}, adaptation {result.adaptation})")
    if result.memory_curve is not None:
        k = np.arange(1, len(result.memory_curve) + 1)
        return hv.Curve((k, result.memory_curve), "delay k", "MC_k").opts(
            title=title, responsive=True, height=320, ylim=(0, 1.05), color="#6a1b9a")
    t = np.arange(len(result.target))
    return (hv.Curve((t, result.target), "test step", "value", label="target").opts(color="black")
            * hv.Curve((t, result.prediction), "test step", "value", label="prediction").opts(color="#ef6c00", line_dash="dashed")
            ).opts(title=title, responsive=True, height=320, legend_position="top_right")


def spectrum_panel(model: ReservoirRoom) -> pn.viewable.Viewable:
    button = pn.widgets.Button(label="Eigenvalues", color="primary", width=140)
    button.on_click(lambda _event: model.compute_spectrum())
    auto = pn.widgets.Checkbox(label="recompute when parameters change", value=True)

    def on_change(*_events):
        if auto.value:
            model.compute_spectrum()
    model.param.watch(on_change, ["balance", "gain", "adaptation", "n", "frac_excitatory", "in_degree",
                                  "topology", "seed", "targets", "target_rate", "target_low", "target_high"])
    plot = pn.pane.HoloViews(pn.bind(spectrum_plot, model.param.spectrum))
    return pn.Column(pn.Row(button, auto), plot, sizing_mode="stretch_width")


def task_panel(model: ReservoirRoom) -> pn.viewable.Viewable:
    task = pn.widgets.RadioButtonGroup.from_param(model.param.task, label="Task")
    button = pn.widgets.Button(label="Train readout", color="primary", width=140)
    button.on_click(lambda _event: model.train())
    note = pn.pane.Markdown("The readout is a ridge regression on the network as it is now "
                            "(adaptation frozen while the task's input drives it).", margin=(0, 10))
    plot = pn.pane.HoloViews(pn.bind(task_plot, model.param.task_result), sizing_mode="stretch_width")
    return pn.Column(pn.Row(task, button), note, plot, sizing_mode="stretch_width")
