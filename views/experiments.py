"""A room's Experiments panel: pick a question, predict, run, read the verdict, take it home.

    panel = ExperimentsPanel(room_model, room_experiments("reservoir"))

It draws a ``lab.experiments.session.ExperimentSession``; the figure grows as rows arrive (mean
over seeds with a band of one standard deviation for line figures).
"""
from __future__ import annotations

import functools
import io
import operator

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the backend that .opts() needs)
import pandas as pd
import panel as pn

from lab.experiments.session import NO_PREDICTION, ExperimentSession
from lab.experiments.spec import Experiment, Figure
from lab.room import RoomModel
from views.experiment_anatomy import anatomy_element
from views.progress import TaskProgress
from views.session import Redraw
from views.widgets import param_widget

PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"]
CHOOSE = "(choose an experiment)"


def _empty(message: str) -> hv.Element:
    return hv.Text(0.5, 0.5, message).opts(xaxis=None, yaxis=None, toolbar=None, height=320,
                                           responsive=True)


def figure_element(figure: Figure, table: pd.DataFrame) -> hv.Element:
    """One of the experiment's figures from the rows so far that have its x and y."""
    table = table.dropna(subset=[figure.x, figure.y]) if {figure.x, figure.y} <= set(table.columns) else table[:0]
    if table.empty:
        return _empty("results appear here as the run goes")
    if figure.kind == "anatomy":   # a value per neuron at its atlas position
        return anatomy_element(figure, table)
    style = dict(responsive=True, height=320, xlabel=figure.x_label, ylabel=figure.y_label, show_grid=True)
    if figure.kind == "bar":   # grouped bars of the mean over seeds (and whatever else varies)
        keys = [k for k in (figure.x, figure.group) if k]
        means = table.groupby(keys)[figure.y].mean().reset_index()
        return hv.Bars(means, keys, figure.y).opts(color=figure.group or figure.x, cmap=PALETTE, **style)
    groups = list(dict.fromkeys(table[figure.group])) if figure.group else [None]
    layers = []
    for index, group in enumerate(groups):
        part = table if group is None else table[table[figure.group] == group]
        colour = PALETTE[index % len(PALETTE)]
        label = figure.y if group is None else (str(group) if isinstance(group, str) else f"{figure.group} {group}")
        if figure.kind == "line":
            stats = part.groupby(figure.x)[figure.y].agg(["mean", "std"]).fillna(0.0).reset_index()
            band = hv.Spread((stats[figure.x], stats["mean"], stats["std"])).opts(color=colour, alpha=0.2)
            line = hv.Curve((stats[figure.x], stats["mean"]), label=label).opts(color=colour, line_width=2)
            layers += [band, line * hv.Scatter((stats[figure.x], stats["mean"])).opts(color=colour, size=6)]
        else:
            layers.append(hv.Scatter((part[figure.x], part[figure.y]), label=label).opts(color=colour, size=5,
                                                                                         alpha=0.7))
    # title="": an overlay of one group would be titled with its label
    return hv.Overlay(layers).opts(logx=figure.log_x, legend_position="right", title="", **style)


def figures_element(experiment: Experiment, table: pd.DataFrame) -> hv.Element:
    """All the experiment's figures, one under the other."""
    elements = [figure_element(figure, table) for figure in experiment.figures]
    if len(elements) == 1:
        return elements[0]
    # figures that share dimension names (x, y) would share axes: each keeps its own
    return functools.reduce(operator.add, elements).cols(1).opts(shared_axes=False)


def verdict_text(experiment: Experiment, session: ExperimentSession) -> str:
    verdict = session.verdict
    if verdict is None:
        return ""
    colour = "#2e7d32" if verdict.reproduced else ("#ef6c00" if verdict.untested else "#c62828")
    lines = [f'<b style="color:{colour}">{verdict.word.capitalize()}</b>: {verdict.summary}.',
             f"<br><i>Not tested on these data</i>: {verdict.untested}." if verdict.untested else "",
             f"<br><i>Measured on</i> {session.runs_on}." if session.runs_on else "",
             f"<br><i>Claim</i> ({experiment.claim.source}): {experiment.claim.statement}",
             f"<br><i>Counts as reproduced when</i> {experiment.claim.tolerance}."]
    observed, predicted = experiment.prediction(verdict.observed), experiment.prediction(session.prediction)
    if predicted is not None and observed is not None:
        match = "and so did the run" if predicted.key == observed.key else f"the run shows: {observed.text.lower()}"
        lines.append(f"<br><i>You predicted</i>: {predicted.text.lower()}; {match}.")
    return "".join(lines)


class ExperimentsPanel(pn.viewable.Viewer):
    """The Experiments tab of a room."""

    def __init__(self, room: RoomModel, experiments: list[Experiment], **params):
        super().__init__(**params)
        self.session = ExperimentSession(room, experiments)
        titles = {CHOOSE: ""} | {e.title: e.id for e in experiments}
        self.chooser = pn.widgets.Select(label="Experiment", options=titles, value=room.experiment,
                                         sizing_mode="stretch_width", css_classes=["experiment-choice"])
        self.chooser.param.watch(lambda event: self.session.choose(event.new), "value")
        self.question = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["experiment-question"])
        self.predictions = pn.widgets.RadioBoxGroup(label="Your prediction", options={}, inline=False,
                                                    css_classes=["experiment-prediction"])
        self.predictions.param.watch(lambda event: setattr(self.session, "prediction", event.new or ""), "value")
        self.run_button = pn.widgets.Button(label="Run experiment", color="primary", disabled=True)
        self.run_button.on_click(lambda _event: self.session.run())
        stop = pn.widgets.Button(label="Stop", color="warning")
        stop.on_click(lambda _event: self.session.stop())
        self.download = pn.widgets.FileDownload(callback=self._script, filename="experiment.py",
                                                label="Take it home (Python script)", color="light")
        self.figure = pn.pane.HoloViews(_empty("choose an experiment"), sizing_mode="stretch_width",
                                        css_classes=["experiment-figure"])
        self.verdict = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["experiment-verdict"])
        self.explanation = pn.pane.Markdown("", sizing_mode="stretch_width", visible=False)
        self._layout = pn.Column(
            self.chooser, self.question, "**Before you run it, what do you expect?**", self.predictions,
            pn.Row(self.run_button, stop, param_widget(self.session, "size", width=120, sizing_mode="fixed"),
                   self.download),
            TaskProgress(self.session.task), self.figure, self.verdict, self.explanation,
            sizing_mode="stretch_width", css_classes=["experiments-panel"])
        self._redraw = Redraw(self._draw_results, max_loop_share=0.3)
        self.session.param.watch(self._redraw, ["rows", "verdict"])
        self.session.param.watch(self._prediction_changed, "prediction")
        room.param.watch(lambda _event: self._show_choice(), "experiment")
        self._show_choice()

    def _script(self) -> io.BytesIO:
        experiment = self.session.experiment
        self.download.filename = f"{experiment.id}.py" if experiment else "experiment.py"
        return io.BytesIO(self.session.script().encode())

    def _show_choice(self) -> None:
        experiment = self.session.experiment
        self.chooser.value = experiment.id if experiment else ""
        if experiment is None:
            self.question.object = "Each experiment asks a question a paper answered, runs it here, and " \
                                   "judges from the run whether the paper's claim holds."
            self.predictions.options = {}
        else:
            self.question.object = f"### {experiment.title}\n{experiment.question}"
            self.predictions.options = {p.text: p.key for p in experiment.predictions}
            self.predictions.value = None
            self.explanation.object = f"**Why.** {experiment.explanation}"
        self.download.disabled = experiment is None
        self._prediction_changed()
        self._draw_results()

    def _prediction_changed(self, *_events) -> None:
        self.run_button.disabled = self.session.experiment is None or self.session.prediction == NO_PREDICTION

    def _draw_results(self) -> None:
        experiment = self.session.experiment
        if experiment is None:
            self.figure.object = _empty("choose an experiment")
            self.verdict.object, self.explanation.visible = "", False
            return
        self.figure.object = figures_element(experiment, pd.DataFrame(self.session.rows))
        self.verdict.object = verdict_text(experiment, self.session)
        self.explanation.visible = self.session.verdict is not None

    def __panel__(self):
        return self._layout
