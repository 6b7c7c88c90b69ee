"""The balance sweep: its settings, progress, performance-vs-g plot, regime map and table."""
from __future__ import annotations

import io

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the backend that .opts() needs)
import pandas as pd
import panel as pn

from lab.reservoir import ReservoirRoom
from views.progress import TaskProgress

CONDITION_COLOURS = {False: "#616161", True: "#2e7d32"}
REGIME_COLOURS = {"silent": "#1565c0", "saturated": "#c62828", "period-2 oscillation": "#ef6c00",
                  "asynchronous": "#2e7d32", "runaway": "#000000"}


def performance_plot(summary: pd.DataFrame | None) -> hv.Overlay:
    empty = hv.Curve([], "balance g", "score").opts(title="Run a sweep to see performance against balance",
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
        return hv.Points([], ["balance g", "condition"]).opts(title="Regime map", responsive=True, height=200)
    points = [hv.Points(group, ["balance", "condition"], label=regime).opts(color=REGIME_COLOURS.get(regime, "grey"),
                                                                          size=18, marker="square")
              for regime, group in regimes.groupby("regime")]
    return hv.Overlay(points).opts(title="Regime map (first seed)", responsive=True, height=200,
                                   legend_position="right", xlabel="balance g", ylabel="")


def sweep_panel(model: ReservoirRoom) -> pn.viewable.Viewable:
    balances = pn.widgets.LiteralInput.from_param(model.param.sweep_balances, label="Balances g (a list)")
    seeds = pn.widgets.IntSlider.from_param(model.param.sweep_seeds, label="Seeds")
    conditions = pn.widgets.CheckButtonGroup.from_param(model.param.sweep_conditions, label="Conditions")
    start = pn.widgets.Button(label="Run sweep", color="primary", width=120)
    start.on_click(lambda _event: model.start_sweep())
    stop = pn.widgets.Button(label="Stop sweep", color="warning", width=120)
    stop.on_click(lambda _event: model.stop_sweep())
    download = pn.widgets.FileDownload(callback=lambda: io.BytesIO(model.sweep_csv()), filename="reservoir_sweep.csv",
                                       label="Download CSV", width=160)
    note = pn.pane.Markdown("Uses the task chosen in the Task tab, the network settings on the left and a "
                            "random network per seed; 'adaptive' runs the local rule first.", margin=(0, 10))
    table = pn.pane.DataFrame(model.param.sweep_table, max_rows=12, sizing_mode="stretch_width", index=False)
    return pn.Column(
        pn.Row(balances, seeds, conditions), pn.Row(start, stop, download), note, TaskProgress(model.sweep),
        pn.pane.HoloViews(pn.bind(performance_plot, model.param.sweep_summary), sizing_mode="stretch_width",
                          css_classes=["sweep-plot"]),
        pn.pane.HoloViews(pn.bind(regime_plot, model.param.sweep_regimes), sizing_mode="stretch_width"),
        table, sizing_mode="stretch_width")
