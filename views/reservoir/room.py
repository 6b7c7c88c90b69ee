"""The reservoir room: two sentences on what it shows and a link to its experiments; controls on
the left; the regime and step count, then Live, Eigenvalues, Task, Sweep and Experiments in tabs.
Opening it builds no network and computes nothing: the network is built at the first Run or
Step. The other tabs' content is built once the browser has drawn the room (views/session.py
FirstPaint), or when its tab is shown first if that is sooner, and computes nothing until asked
or shown. An experiment chosen from
the URL or the home page (``model.experiment``) brings the Experiments tab to the front.

A tab's content, once built, stays in the page when another tab is shown (the tabs are not
``dynamic``): with dynamic tabs, a result published while its tab was hidden re-rendered a
detached pane, and Panel 1.9.4 then rewrote the page's shared stylesheets to its CDN (requests
to cdn.holoviz.org, which an offline class cannot reach). Building a tab in the same callback
that shows it, then drawing a result into it a moment later, sometimes left the browser with
updates of models it never received ("reference ... isn't known"): so they are built early.
"""
from __future__ import annotations

import panel as pn

from lab.experiments.registry import room_experiments
from lab.reservoir import ReservoirRoom
from views.experiments import ExperimentsPanel
from views.progress import TaskProgress
from views.reservoir.analysis import SpectrumPanel, TaskPanel
from views.reservoir.controls import controls
from views.reservoir.live import LiveViews
from views.reservoir.sweep import SweepPanel
from views.session import FirstPaint

INTRO = ("## Reservoir: excitation, inhibition and adaptation\n"
         "Rate neurons obeying Dale's law, on a random graph or the C. elegans connectome. Move the balance g "
         "and watch the regime change; switch adaptation on mid-run and watch each neuron settle toward its "
         "target rate.")
TABS = ("Live", "Eigenvalues", "Task", "Sweep", "Experiments")
EXPERIMENTS_TAB = TABS.index("Experiments")


def experiments_panel(model: ReservoirRoom) -> ExperimentsPanel:
    return ExperimentsPanel(model, room_experiments("reservoir"))


class ReservoirRoomView(pn.viewable.Viewer):
    """Renders a ``ReservoirRoom``; it keeps nothing but presentation state."""

    def __init__(self, model: ReservoirRoom | None = None, **params):
        super().__init__(**params)
        self.model = model or ReservoirRoom()
        self.live = LiveViews(self.model)
        self._makers = {"Eigenvalues": SpectrumPanel, "Task": TaskPanel, "Sweep": SweepPanel,
                        "Experiments": experiments_panel}
        self.panels: dict[str, pn.viewable.Viewer] = {"Live": self.live}
        self._holders = {name: pn.Column(sizing_mode="stretch_width") for name in self._makers}
        self.tabs = pn.Tabs(("Live", self.live), *self._holders.items(), sizing_mode="stretch_width")
        self.tabs.param.watch(self._on_tab, "active")
        self.model.param.watch(lambda _event: self._show_experiment(), "experiment")
        self._show_experiment()
        first_paint = FirstPaint()
        first_paint.then(self._build_tabs)
        message = pn.pane.Markdown(self.model.param.message, margin=(0, 10), styles={"color": "#555"},
                                   css_classes=["reservoir-message"])
        status = pn.Row(self.live.badge, TaskProgress(self.model.live, show_steps=False), sizing_mode="stretch_width")
        main = pn.Column(status, message, self.tabs, sizing_mode="stretch_width")
        to_experiments = pn.widgets.Button(label="Its experiments: reproduce the papers' claims →", color="light",
                                           css_classes=["reservoir-to-experiments"], margin=(0, 10))
        to_experiments.on_click(lambda _event: setattr(self.tabs, "active", EXPERIMENTS_TAB))
        self._layout = pn.Column(pn.pane.Markdown(INTRO, sizing_mode="stretch_width", margin=(5, 10, 0, 10)),
                                 to_experiments, pn.Row(controls(self.model), main, sizing_mode="stretch_width"),
                                 first_paint, sizing_mode="stretch_width")

    def _build_tabs(self) -> None:
        for name in self._makers:
            self._build(name)

    def _build(self, name: str) -> None:
        if name not in self.panels:
            self.panels[name] = self._makers[name](self.model)
            self._holders[name][:] = [self.panels[name]]

    def _show_experiment(self) -> None:
        """An experiment set from the URL or the home page: its tab to the front."""
        if self.model.experiment:
            self._build("Experiments")
            self.tabs.active = EXPERIMENTS_TAB

    def _on_tab(self, event) -> None:
        shown = TABS[event.new]
        self._build(shown)
        for name, panel in self.panels.items():
            if hasattr(panel, "shown"):
                panel.shown(name == shown)

    def __panel__(self):
        return self._layout


def build_room() -> ReservoirRoomView:
    model = ReservoirRoom()
    model.close_with_session()
    return ReservoirRoomView(model)
