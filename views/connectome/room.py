"""The dynamic-connectome room: controls on the left; what the room shows and a link to its
experiments, progress, the pipeline's stage, the results' key figures and the result tabs (and
the Experiments tab) on the right. ``build_room()`` is what the shell calls. An experiment chosen
from the URL or the home page (``model.experiment``) brings the Experiments tab to the front.

Results are published from the room's background task; every redraw goes through
``views.session.Redraw`` (on the session's loop, latest only), and only the tab on show is
drawn: a tab whose results changed while hidden is drawn when it is opened.
"""
from __future__ import annotations

from functools import partial

import panel as pn

from lab.connectome import ConnectomeRoom
from views.connectome.controls import button, controls, upload_widget
from views.connectome.tabs import (CommunitiesTab, ComponentsTab, EnrichmentTab, ExperimentsTab, ExportTab,
                                   RankTab, TensorTab)
from views.errors import notify_error, notify_info
from views.progress import TaskProgress
from views.session import Redraw
from views.widgets import show_when

DASH = "—"   # a figure not computed yet
INTRO = ("Whole-brain calcium traces become an affinity tensor (time windows × worms × neuron pairs), and "
         "non-negative tensor factorisation splits it into components: which neurons act together, when, and "
         "in which worms. Each component's neuron graph is divided into communities and compared with the "
         "anatomical connectome (Dyballa et al., ICLR 2024).")
COMPONENT_TABS = ("Components", "Communities")
EXPERIMENTS_TAB = 6   # its index in ConnectomeRoomView's tabs (the last)


def metrics_text(model) -> str:
    """The key figures of the results so far, with their units; "—" where not computed yet."""
    tensor, result = model.tensor, model.result
    if tensor is None:
        windows = worms = pairs = observed = DASH
    else:
        n_windows, n_worms, n_pairs = tensor.shape
        windows = f"{n_windows} × {tensor.window_s:g} s every {tensor.step_s:g} s"
        worms, pairs, observed = f"{n_worms}", f"{n_pairs:,} ({len(tensor.neurons)} neurons)", f"{tensor.observed_fraction:.0%}"
    fit = DASH if result is None else f"rank {result.rank}, relative error {result.error:.3f} after {result.n_iter} sweeps"
    recommended = DASH if model.recommended_rank is None else f"{model.recommended_rank}"
    communities = DASH if not model.communities else f"{len(model.communities)} components"
    return (f"**Windows:** {windows} · **Worms:** {worms} · **Neuron pairs:** {pairs} · **Observed:** {observed}  \n"
            f"**NTF:** {fit} · **Recommended rank:** {recommended} · **Communities:** {communities}")


class ConnectomeRoomView(pn.viewable.Viewer):
    def __init__(self, model: ConnectomeRoom | None = None, **params):
        super().__init__(**params)
        self.model = m = model or ConnectomeRoom()
        self._component = pn.widgets.Select(name="Component", options={}, width=200, visible=False,
                                            css_classes=["connectome-component"])
        self._tabs = [TensorTab(m), RankTab(m), ComponentsTab(m, self._component),
                      CommunitiesTab(m, self._component), EnrichmentTab(m), ExportTab(m), ExperimentsTab(m)]
        # Every tab stays in the page (a VTK pane must never be removed from it); only the tab on
        # show is drawn, so no plot is laid out while hidden (which left them with zero height).
        self.tabs = pn.Tabs(*((tab.title, tab.panel) for tab in self._tabs), dynamic=False,
                            sizing_mode="stretch_width", css_classes=["connectome-tabs"])
        self._stale = set(range(len(self._tabs)))
        self._stage = pn.pane.Markdown("", css_classes=["connectome-stage"], margin=(0, 10))
        self._metrics = pn.pane.Markdown("", css_classes=["connectome-metrics"], margin=(0, 10))
        # One Redraw per tab: a slow tab (the 3D scene) never delays drawing another one.
        self._redraws = [Redraw(partial(self._draw_tab, k)) for k in range(len(self._tabs))]
        for k, tab in enumerate(self._tabs):
            if tab.depends:
                m.param.watch(partial(self._mark_stale, {k}), list(tab.depends))
        components = {k for k, tab in enumerate(self._tabs) if tab.title in COMPONENT_TABS}
        self._component.param.watch(partial(self._mark_stale, components), "value")
        self.tabs.param.watch(lambda event: self._redraws[event.new](), "active")
        m.param.watch(Redraw(self._draw_status, min_interval=0.25),
                      ["stage", "tensor", "result", "recommended_rank", "communities"])
        communities = next(tab for tab in self._tabs if isinstance(tab, CommunitiesTab))
        m.param.watch(Redraw(communities.draw_selection), "selected_neuron")   # a pick redraws only its text
        self._upload = upload_widget()
        self._upload.param.watch(self._read_upload, "value")
        self._layout = self._compose()
        self._draw_status()
        m.param.watch(lambda event: event.new and self.show_experiments(), "experiment")
        if m.experiment:
            self.show_experiments()
        self._draw_tab(self.tabs.active)

    def show_experiments(self) -> None:
        """The Experiments tab to the front (an experiment set from the URL or the home page, or
        the link under the room's introduction)."""
        self.tabs.active = EXPERIMENTS_TAB

    # ---- drawing (on the session's loop) ---------------------------------------------------
    def _mark_stale(self, tabs: set, *_events) -> None:
        self._stale |= tabs
        for k in tabs:
            self._redraws[k]()

    def _draw_tab(self, k: int) -> None:
        """Draw tab ``k`` if it is on show and its results changed since it was last drawn."""
        self._sync_components()
        active = self.tabs.active
        self._component.visible = self._tabs[active].title in COMPONENT_TABS and bool(self._component.options)
        if k == active and k in self._stale:
            self._stale.discard(k)
            try:
                self._tabs[k].draw()
            except Exception as error:  # a figure that cannot be drawn must not take the room down
                notify_error(error)

    def _sync_components(self) -> None:
        """The component chooser lists the components that have communities."""
        options = {f"component {k}": k for k in sorted(self.model.communities)}
        if options != self._component.options:
            value = self._component.value if self._component.value in options.values() else next(iter(options.values()), None)
            self._component.param.update(options=options, value=value)

    def _draw_status(self, *_events) -> None:
        with pn.io.hold():   # stage and figures reach the page in one message, never one without the other
            self._stage.object = self.model.stage
            self._metrics.object = metrics_text(self.model)

    # ---- uploads ---------------------------------------------------------------------------
    def _read_upload(self, _event) -> None:
        upload = self._upload
        if not upload.value:
            return
        names = upload.filename if isinstance(upload.filename, list) else [upload.filename or "upload"]
        data = upload.value if isinstance(upload.value, list) else [upload.value]
        try:
            self.model.load_upload(list(zip(names, data)))
        except Exception as error:  # a bad file leaves the previous upload in place
            notify_error(error)
            return
        uploaded = self.model.uploaded
        notify_info(f"Read {uploaded.label}: {uploaded.n_worms} recording(s); press Build tensor."
                    + (f" {uploaded.note}" if uploaded.note else ""))

    # ---- layout ----------------------------------------------------------------------------
    def _task_buttons(self) -> pn.Row:
        m, task = self.model, self.model.task
        active = lambda *states: lambda state: state in states  # noqa: E731
        return pn.Row(show_when(button("Pause", m.pause, "light"), task, ["state"], active("running")),
                      show_when(button("Resume", m.resume, "light"), task, ["state"], active("paused")),
                      show_when(button("Stop", m.stop, "light"), task, ["state"], active("running", "paused")),
                      button("Reset", m.reset, "light"))

    def _compose(self) -> pn.Row:
        m = self.model
        actions = {name: getattr(m, name) for name in ("build", "factorise", "sweep", "use_recommended_rank")}
        to_experiments = pn.widgets.Button(label="Its experiments: reproduce the paper's claims →", color="light",
                                           css_classes=["connectome-to-experiments"], margin=(0, 10))
        to_experiments.on_click(lambda _event: self.show_experiments())
        main = pn.Column(pn.pane.Markdown(f"## Dynamic connectome\n{INTRO}", css_classes=["room-intro"]),
                         to_experiments,
                         pn.Row(TaskProgress(m.task), self._task_buttons()),
                         pn.Row(self._stage, pn.layout.HSpacer(), self._component, sizing_mode="stretch_width"),
                         self._metrics, self.tabs, sizing_mode="stretch_width")
        return pn.Row(controls(m, actions, self._upload), main, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout


def build_room() -> ConnectomeRoomView:
    model = ConnectomeRoom()
    model.close_with_session()
    return ConnectomeRoomView(model)
