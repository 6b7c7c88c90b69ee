"""The dynamic-connectome room: settings on the left, the pipeline's results in tabs."""
from __future__ import annotations

import io
from functools import partial

import panel as pn
from panel.io.state import set_curdoc

from lab.connectome import ConnectomeRoom
from views.connectome import plots
from views.connectome.anatomy import CommunityScene
from views.errors import notify_error, notify_info
from views.progress import TaskProgress

CONTROL_WIDTH = 300
COMMUNITIES_TAB = 3


WIDGET_TYPES = {"tol": pn.widgets.FloatInput, "simulation_seed": pn.widgets.IntInput,
                "ntf_seed": pn.widgets.IntInput}


def _param_widget(model, name: str) -> pn.Param:
    """The parameter's widget (its doc as the tooltip), sized to the controls column."""
    options = {"width": CONTROL_WIDTH - 40}
    if name in WIDGET_TYPES:
        options["type"] = WIDGET_TYPES[name]
    return pn.Param(model.param[name], widgets={name: options}, show_name=False, width=CONTROL_WIDTH - 20)


def _figure(element, css_classes=()) -> pn.Column:
    """A holder for one figure whose kind changes (an empty-state message, then the plot)."""
    return pn.Column(pn.pane.HoloViews(element, sizing_mode="stretch_width"), sizing_mode="stretch_width",
                     css_classes=list(css_classes))


def _replace(holder: pn.Column, element) -> None:
    # A new pane rather than a new .object: swapping the element kind inside a shown HoloViews pane
    # left the browser with references to models it did not know ("reference ... isn't known").
    holder[:] = [pn.pane.HoloViews(element, sizing_mode="stretch_width")]


class ConnectomeView(pn.viewable.Viewer):
    def __init__(self, model: ConnectomeRoom | None = None, **params):
        super().__init__(**params)
        self.model = model or ConnectomeRoom()
        self._progress = TaskProgress(self.model.task)
        self._stage = pn.pane.Markdown("", css_classes=["connectome-stage"], margin=(0, 10))
        self._summary = pn.pane.Markdown("Press **Build tensor** to start.", css_classes=["connectome-summary"])
        self._error_plot = _figure(plots.ntf_error_curve([]))
        self._coverage_plot = _figure(plots.empty_state("no tensor yet"))
        self._rank_plot = _figure(plots.empty_state("run the rank sweep"), css_classes=["connectome-rank-plot"])
        self._recommendation = pn.pane.Markdown("", css_classes=["connectome-recommendation"])
        self._card = pn.Column(pn.pane.Markdown("No components yet."), sizing_mode="stretch_width")
        self._overview = pn.widgets.Tabulator(None, disabled=True, show_index=False, height=215,
                                              layout="fit_data_stretch", sizing_mode="stretch_width",
                                              css_classes=["component-overview"])
        self._component = pn.widgets.Select(label="Component", options=[], width=200)
        self._graph = _figure(plots.empty_state("no communities yet"))
        self._scene = CommunityScene()
        self._enrichment = pn.widgets.Tabulator(None, disabled=True, pagination="local", page_size=12,
                                                layout="fit_data_stretch",
                                                sizing_mode="stretch_width", show_index=False)
        self._enrichment_note = pn.pane.Markdown("")
        self._doc = pn.state.curdoc   # the session whose page this view draws
        self._tabs: pn.Tabs | None = None
        self._scene_shows = None      # (result, component) the 3D scene shows
        self._component.param.watch(self._show_component, "value")
        for callback, names in ((self._on_stage, "stage"), (self._on_tensor, "tensor"),
                                (self._on_result, "result"), (self._on_communities, "communities"),
                                (self._on_enrichment, ["enrichment_table", "enrichment_note"]),
                                (self._on_sweep, ["sweep_summary", "recommendation"])):
            self.model.param.watch(partial(self._in_session, callback), names)

    def _in_session(self, callback, *events) -> None:
        """Run a watcher on the session's event loop: results are published from the task's thread,
        and replacing whole plots from there leaves the browser with references it does not know."""
        if self._doc is None or self._doc.session_context is None:
            callback(*events)
            return
        with set_curdoc(self._doc):
            pn.state.execute(partial(callback, *events), schedule=True)

    # ---- controls ----------------------------------------------------------------------------
    def _controls(self) -> pn.Column:
        m = self.model
        widgets = {name: _param_widget(m, name)
                   for name in ("source", "n_worms", "duration_s", "simulation_seed", "path", "affinity",
                                "window_s", "step_s", "min_worm_fraction", "rank", "max_iter", "tol",
                                "ntf_seed", "factorise_after_build", "sweep_ranks", "n_restarts", "executor",
                                "community_method", "resolution", "max_blocks", "n_shuffles")}
        upload = pn.widgets.FileInput(accept=".h5,.hdf5,.nwb,.mat,.csv,.npz,.parquet,.pkl,.pickle",
                                      width=CONTROL_WIDTH - 30)
        upload.param.watch(lambda event: self._upload(upload), "value")
        simulated = pn.Column(widgets["n_worms"], widgets["duration_s"], widgets["simulation_seed"],
                              visible=pn.bind(lambda s: s == "simulated", m.param.source))
        on_disk = pn.Column(widgets["path"], visible=pn.bind(lambda s: s == "file or folder", m.param.source))
        uploaded = pn.Column(upload, visible=pn.bind(lambda s: s == "upload", m.param.source))
        leiden = pn.Column(widgets["resolution"], visible=pn.bind(lambda s: s == "leiden", m.param.community_method))
        sbm = pn.Column(widgets["max_blocks"], visible=pn.bind(lambda s: s == "sbm", m.param.community_method))
        return pn.Column(
            "### Recordings", widgets["source"], simulated, on_disk, uploaded,
            "### Affinity", widgets["affinity"], widgets["window_s"], widgets["step_s"], widgets["min_worm_fraction"],
            self._button("Build tensor", m.build, "primary"),
            "### Factorisation", widgets["rank"], widgets["max_iter"], widgets["tol"], widgets["ntf_seed"],
            widgets["factorise_after_build"], self._button("Factorise", m.factorise, "primary"),
            "### Rank sweep", widgets["sweep_ranks"], widgets["n_restarts"], widgets["executor"],
            self._button("Sweep ranks", m.sweep, "primary"),
            self._button("Use recommended rank", m.use_recommended_rank, "light"),
            "### Communities", widgets["community_method"], leiden, sbm, widgets["n_shuffles"],
            width=CONTROL_WIDTH, css_classes=["connectome-controls"])

    def _button(self, label, action, color):
        button = pn.widgets.Button(label=label, color=color, margin=(8, 10))
        button.on_click(lambda _event: action())
        return button

    def _upload(self, upload) -> None:
        if upload.value is None:
            return
        try:
            self.model.load_upload(upload.value, upload.filename or "upload")
        except Exception as err:  # a bad file must not leave the upload half-applied
            notify_error(err)
            return
        notify_info(f"Read {self.model.uploaded_label}; press Build tensor.")

    def _task_buttons(self) -> pn.Row:
        m = self.model
        return pn.Row(self._button("Pause", m.pause, "light"), self._button("Resume", m.resume, "light"),
                      self._button("Stop", m.stop, "light"), self._button("Reset", m.reset, "light"))

    # ---- watchers (may run in the task's thread: only set pane objects) ------------------------
    def _on_stage(self, event) -> None:
        self._stage.object = event.new

    def _on_tensor(self, event) -> None:
        tensor = event.new
        if tensor is None:
            return
        n_windows, n_worms, n_pairs = tensor.shape
        self._summary.object = (
            f"**{self.model.recordings_label}** · {n_windows} windows of {tensor.window_s:g} s every "
            f"{tensor.step_s:g} s × {n_worms} worms × {n_pairs:,} pairs of {len(tensor.neurons)} neurons · "
            f"affinity: {tensor.affinity} · observed: {tensor.observed_fraction:.0%}")
        observed = tensor.mask.mean(axis=(0, 2))
        _replace(self._coverage_plot, plots.worm_coverage_bars(tensor.worm_names, observed))

    def _on_result(self, event) -> None:
        if event.new is not None and event.new.errors:
            _replace(self._error_plot, plots.ntf_error_curve(event.new.errors))

    def _on_communities(self, event) -> None:
        if not event.new or self.model.result is None:
            return
        summary = self.model.component_summary()
        self._overview.value = summary.round(3)
        self._component.options = {f"component {k}": k for k in range(self.model.result.rank)}
        if self._component.value == 0:
            self._show_component()
        self._component.value = 0

    def _show_component(self, *_events) -> None:
        """One component card and its communities (all cards at once took seconds to draw)."""
        k = self._component.value
        if k is None or self.model.result is None or k not in self.model.communities:
            return
        self._card[:] = [self._component_card(k)]
        self._show_community(k)

    def _component_card(self, k: int) -> pn.Card:
        m, tensor, result = self.model, self.model.tensor, self.model.result
        summary = m.component_summary().set_index("component").loc[k]
        matrix, names, labels = m.component_matrix(k)
        title = (f"Component {k} · weight {summary.weight:.1f} · {summary.communities} communities"
                 + (f" · follows {summary.stimulus} (r = {summary.stimulus_r:.2f})" if summary.stimulus else ""))
        figures = pn.Row(
            pn.pane.HoloViews(plots.affinity_matrix(matrix, names, labels, "Affinity, ordered by community"),
                              sizing_mode="stretch_width"),
            pn.Column(pn.pane.HoloViews(plots.temporal_profile(tensor.window_centre_s, result.factors[0][:, k],
                                                               m.stimulus_epochs(), m.reversal_fraction()),
                                        sizing_mode="stretch_width"),
                      pn.pane.HoloViews(plots.worm_loadings(tensor.worm_names, result.factors[1][:, k]),
                                        sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
        return pn.Card(figures, title=title, collapsed=False, sizing_mode="stretch_width",
                       css_classes=["component-card"])

    def _show_community(self, k: int) -> None:
        nodes, edges = self.model.community_graph(k)
        _replace(self._graph, plots.community_graph(nodes, edges, f"Component {k}: strongest 10% of edges"))
        self._scene_shows = None          # drawn when the Communities tab is on show (see below)
        self._show_scene()

    def _show_scene(self, *_events) -> None:
        """The 3D scene is synced only while its tab is visible: syncing a VTK pane in a hidden tab
        (or while results stream in) left the browser with model references it did not know."""
        m, k = self.model, self._component.value
        if self._tabs.active != COMMUNITIES_TAB or k is None or k not in m.communities:
            return
        shown = (id(m.result), k)
        if self._scene_shows == shown:
            return
        from engines.worms import neuron_positions
        self._scene.show(neuron_positions(), m.neuron_positions(), m.communities[k])
        self._scene_shows = shown

    def _on_enrichment(self, *_events) -> None:
        table = self.model.enrichment_table
        self._enrichment.value = table.round(4) if table is not None else None
        self._enrichment_note.object = self.model.enrichment_note

    def _on_sweep(self, *_events) -> None:
        m = self.model
        if m.sweep_summary is None:
            return
        _replace(self._rank_plot, plots.rank_selection(m.sweep_summary, m.sweep_fits, m.recommended_rank))
        self._recommendation.object = f"**Recommended:** {m.recommendation}"

    # ---- layout ------------------------------------------------------------------------------
    def _export(self):
        return io.BytesIO(self.model.export_zip())

    def __panel__(self):
        download = pn.widgets.FileDownload(callback=self._export, filename="connectome_export.zip",
                                           label="Download factors, partitions and enrichment (zip)",
                                           color="primary", width=420)
        tabs = self._tabs = pn.Tabs(
            ("Tensor", pn.Column(self._summary, pn.Row(self._coverage_plot, self._error_plot,
                                                       sizing_mode="stretch_width"))),
            ("Rank selection", pn.Column(self._recommendation, self._rank_plot, sizing_mode="stretch_width")),
            ("Components", pn.Column(self._overview, self._card, sizing_mode="stretch_width")),
            ("Communities", pn.Column(pn.Row(self._graph, sizing_mode="stretch_width"),
                                      "Anatomical positions, coloured by community (grey: neurons not analysed; lateral and "
                                      "dorsoventral axes stretched ×3)", self._scene.pane,
                                      sizing_mode="stretch_width")),
            ("Enrichment", pn.Column(pn.pane.Markdown(
                "Mean connection weight inside each community against label shuffles (sizes kept); "
                "p: permutation p-value, q: Benjamini-Hochberg across all rows."),
                self._enrichment_note, self._enrichment, sizing_mode="stretch_width")),
            ("Export", pn.Column(pn.pane.Markdown("Factors as NPZ and CSV, partitions and enrichment as CSV."),
                                 download)),
            sizing_mode="stretch_width", dynamic=False)
        tabs.param.watch(self._show_scene, "active")
        main = pn.Column("## Dynamic connectome", pn.Row(self._progress, self._task_buttons()),
                         pn.Row(self._stage, pn.layout.HSpacer(), self._component, sizing_mode="stretch_width"),
                         tabs, sizing_mode="stretch_width")
        return pn.Row(self._controls(), main, sizing_mode="stretch_width")


def build_room() -> pn.viewable.Viewable:
    return ConnectomeView()
