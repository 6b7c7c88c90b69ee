"""The balance sweep: its settings, progress, performance-vs-g plot, regime map and table.

The model publishes the sweep's rows and results from its sweep task's thread; ``Redraw`` draws
them on the session's loop."""
from __future__ import annotations

import io

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the backend that .opts() needs)
import pandas as pd
import panel as pn

from lab.reservoir import ReservoirRoom
from views.progress import TaskProgress
from views.session import Redraw
from views.widgets import param_widget

CONDITION_COLOURS = {False: "#616161", True: "#2e7d32"}
REGIME_COLOURS = {"silent": "#1565c0", "saturated": "#c62828", "period-2 oscillation": "#ef6c00",
                  "asynchronous": "#2e7d32", "runaway": "#000000"}


def performance_plot(summary: pd.DataFrame | None) -> hv.Overlay:
    empty = hv.Curve([], "balance g", "score").opts(title="Run a sweep to see performance against balance g",
                                                     responsive=True, height=320)
    if summary is None or summary.empty:
        return empty
    layers = [empty]
    for adaptive, group in summary.groupby("adaptive"):
        group = group.sort_values("balance")
        std = group["std"].fillna(0.0)
        label = "adaptive" if adaptive else "static"
        colour = CONDITION_COLOURS[bool(adaptive)]
        layers.append(hv.Spread((group["balance"], group["mean"], std), "balance g", ["score", "std"]).opts(
            color=colour, alpha=0.2))
        layers.append(hv.Curve((group["balance"], group["mean"]), "balance g", "score", label=label).opts(color=colour)
                      * hv.Scatter((group["balance"], group["mean"]), "balance g", "score").opts(color=colour, size=6))
    metric = summary["metric"].iloc[0]
    task = summary["task"].iloc[0]
    return hv.Overlay(layers).opts(title=f"{task}: {metric} against balance (mean ± std over seeds)",
                                   legend_position="top_right", ylabel=metric, padding=0.1)


def regime_plot(regimes: pd.DataFrame | None) -> hv.Element:
    if regimes is None or regimes.empty:
        return hv.Points([], ["balance g", "condition"]).opts(title="Regime map (run a sweep to see it)", responsive=True, height=200)
    points = [hv.Points(group, ["balance", "condition"], label=regime).opts(color=REGIME_COLOURS.get(regime, "grey"),
                                                                          size=18, marker="square")
              for regime, group in regimes.groupby("regime")]
    return hv.Overlay(points).opts(title="Regime map (first seed)", responsive=True, height=200,
                                   legend_position="right", xlabel="balance g", ylabel="")


def best_figures(summary: pd.DataFrame | None) -> str:
    """The best mean score of each condition, or "—" before a sweep has finished."""
    if summary is None or summary.empty:
        return "best static: — · best adaptive: —"
    lower_is_better = summary["metric"].iloc[0] == "NRMSE"
    parts = []
    for adaptive, label in ((False, "static"), (True, "adaptive")):
        group = summary[summary["adaptive"] == adaptive]
        if group.empty:
            parts.append(f"best {label}: —")
            continue
        best = group.loc[group["mean"].idxmin() if lower_is_better else group["mean"].idxmax()]
        parts.append(f"best {label}: {best['metric']} {best['mean']:.3g} at g = {best['balance']:g}")
    return " · ".join(parts)


class SweepPanel(pn.viewable.Viewer):
    """Settings, Run / Stop, progress, performance against g, the regime map, the table, CSV."""

    def __init__(self, model: ReservoirRoom, **params):
        super().__init__(**params)
        self._model = model
        balances = param_widget(model, "sweep_balances", sizing_mode="fixed", width=260)
        seeds = param_widget(model, "sweep_seeds", sizing_mode="fixed", width=200, css_classes=["reservoir-sweep-seeds"])
        conditions = param_widget(model, "sweep_conditions", pn.widgets.CheckButtonGroup, sizing_mode="fixed",
                                  css_classes=["reservoir-sweep-conditions"])
        start = pn.widgets.Button(label="Run sweep", color="primary", width=120)
        start.on_click(lambda _event: model.start_sweep())
        stop = pn.widgets.Button(label="Stop sweep", color="warning", width=120)
        stop.on_click(lambda _event: model.stop_sweep())
        download = pn.widgets.FileDownload(callback=lambda: io.BytesIO(model.sweep_csv()),
                                           filename="reservoir_sweep.csv", label="Download CSV", width=160)
        note = pn.pane.Markdown("Uses the task chosen in the Task tab, the network settings on the left and a "
                                "random network per seed; 'adaptive' runs the local rule first.", margin=(0, 10))
        self._figures = pn.pane.Markdown(best_figures(None), css_classes=["sweep-figures"], margin=(0, 10))
        self._performance = pn.pane.HoloViews(performance_plot(None), sizing_mode="stretch_width",
                                              css_classes=["sweep-plot"])
        self._regimes = pn.pane.HoloViews(regime_plot(None), sizing_mode="stretch_width", css_classes=["regime-plot"])
        self._table = pn.pane.DataFrame(model.sweep_table, max_rows=12, sizing_mode="stretch_width", index=False)
        self._layout = pn.Column(
            pn.Row(balances, seeds, conditions), pn.Row(start, stop, download), note, TaskProgress(model.sweep),
            self._figures, self._performance, self._regimes, self._table, sizing_mode="stretch_width")
        model.param.watch(Redraw(self._draw_table), "sweep_table")
        model.param.watch(Redraw(self._draw_results), ["sweep_summary", "sweep_regimes"])

    def _draw_table(self) -> None:
        self._table.object = self._model.sweep_table

    def _draw_results(self) -> None:
        summary = self._model.sweep_summary
        self._figures.object = best_figures(summary)
        self._performance.object = performance_plot(summary)
        self._regimes.object = regime_plot(self._model.sweep_regimes)

    def __panel__(self):
        return self._layout
