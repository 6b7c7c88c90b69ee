"""The room's result tabs. Each tab says which model results it shows (``depends``) and draws
them in ``draw()``, which the room view calls on the session's loop only while the tab is on
show: a tab that is hidden when its results change is drawn when it is next opened.
"""
from __future__ import annotations

import io

import holoviews as hv
import panel as pn

from lab.experiments.registry import room_experiments
from views.connectome import plots
from views.connectome.anatomy import CommunityScene
from views.errors import notify_error
from views.experiments import ExperimentsPanel



def note(text: str, css_class: str) -> pn.pane.Markdown:
    """An empty state or explanation: HTML text, which wraps instead of being clipped like a plot's."""
    return pn.pane.Markdown(text, css_classes=[css_class], sizing_mode="stretch_width")


def figure(element, css_class: str) -> pn.pane.HoloViews:
    return pn.pane.HoloViews(element, sizing_mode="stretch_width", css_classes=[css_class, "connectome-plot"])


def table(css_class: str, **options) -> pn.widgets.Tabulator:
    """A read-only table whose columns share the tab's width (none cut off on the right), with
    headers wrapped rather than cut."""
    return pn.widgets.Tabulator(None, disabled=True, show_index=False, layout="fit_columns",
                                configuration={"columnDefaults": {"headerWordWrap": True}},
                                sizing_mode="stretch_width", css_classes=[css_class], **options)


class ResultTab:
    title = ""
    depends: tuple[str, ...] = ()

    def __init__(self, model):
        self.model = model
        self.panel = pn.Column(sizing_mode="stretch_width")

    def draw(self) -> None:
        raise NotImplementedError


class TensorTab(ResultTab):
    title = "Tensor"
    depends = ("tensor", "result")

    def draw(self) -> None:
        tensor, result = self.model.tensor, self.model.result
        if tensor is None:
            self.panel[:] = [note("No tensor yet: choose the recordings and press **Build tensor**.",
                                  "connectome-empty")]
            return
        n_windows, n_worms, n_pairs = tensor.shape
        summary = note(f"**{self.model.recordings_label}** · {n_windows} windows of {tensor.window_s:g} s every "
                       f"{tensor.step_s:g} s × {n_worms} worms × {n_pairs:,} pairs of {len(tensor.neurons)} neurons · "
                       f"affinity: {tensor.affinity} · observed: {tensor.observed_fraction:.0%}",
                       "connectome-summary")
        coverage = figure(plots.worm_coverage_bars(tensor.worm_names, tensor.mask.mean(axis=(0, 2))),
                          "connectome-coverage-plot")
        fit = (figure(plots.ntf_error_curve(result.errors), "connectome-error-plot") if result is not None
               and result.errors else note("No factorisation yet: press **Factorise**.", "connectome-empty"))
        self.panel[:] = [summary, pn.Row(coverage, fit, sizing_mode="stretch_width")]


class RankTab(ResultTab):
    title = "Rank selection"
    depends = ("sweep_summary", "recommendation")

    def draw(self) -> None:
        m = self.model
        if m.sweep_summary is None:
            self.panel[:] = [note("No rank sweep yet: build the tensor, then press **Sweep ranks**. Each rank is fitted "
                                  "from several seeds; the recommended rank is the largest whose fits are trilinear "
                                  "(core consistency ≥ 50%) and agree between restarts (factor match score ≥ 0.85).",
                                  "connectome-empty")]
            return
        figures = [figure(panel, "connectome-rank-plot")
                   for panel in plots.rank_selection(m.sweep_summary, m.sweep_fits, m.recommended_rank)]
        self.panel[:] = [note(f"**Recommended:** {m.recommendation}", "connectome-recommendation"),
                         pn.Row(*figures, sizing_mode="stretch_width")]


class ComponentsTab(ResultTab):
    title = "Components"
    depends = ("result", "communities")

    def __init__(self, model, component: pn.widgets.Select):
        super().__init__(model)
        self.component = component
        self.overview = table("component-overview", height=200)

    def draw(self) -> None:
        m, k = self.model, self.component.value
        if m.result is None or not m.communities or k not in m.communities:
            self.panel[:] = [note("No components yet: factorise the tensor.", "connectome-empty")]
            return
        summary = m.component_summary()
        self.overview.value = summary.rename(columns={"stimulus_r": "stimulus r"}).round(3)
        row = summary.set_index("component").loc[k]
        follows = f" · follows {row.stimulus} (r = {row.stimulus_r:.2f})" if row.stimulus else ""
        matrix, names, labels = m.component_matrix(k)
        tensor, result = m.tensor, m.result
        card = pn.Card(pn.Row(
            figure(plots.affinity_matrix(matrix, names, labels, "Affinity, ordered by community"), "component-plot"),
            pn.Column(figure(plots.temporal_profile(tensor.window_centre_s, result.factors[0][:, k],
                                                    m.stimulus_epochs(), m.reversal_fraction()), "component-plot"),
                      figure(plots.worm_loadings(tensor.worm_names, result.factors[1][:, k]), "component-plot"),
                      sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            title=f"Component {k} · weight {row.weight:.1f} · {row.communities} communities{follows}",
            collapsed=False, sizing_mode="stretch_width", css_classes=["component-card"])
        self.panel[:] = [self.overview, card]


def selection_text(selected: dict | None, k: int) -> str:
    """What the lab knows of the picked neuron: its community, its ties here, its synapses."""
    if selected is None:
        return "Click a neuron in the graph to select it: its community, its strongest ties in this component " \
               "and its synaptic partners are listed here."
    ties = ", ".join(f"{row.partner} ({row.weight:.2f}{'' if row['same community'] else ', community ' + str(row.community)})"
                     for _, row in selected["ties"].iterrows()) or "none"
    synapses = selected["synapses"].head(8)
    partners = ", ".join(f"{row.partner} ({row.kind}, {row.weight:g})" for _, row in synapses.iterrows()) or "none"
    return (f"**{selected['neuron']}** · community {selected['community']} of component {k}  \n"
            f"Strongest ties in this component (weight, strongest = 1): {ties}  \n"
            f"Synaptic partners (Cook 2019, synapse count): {partners}")


class CommunitiesTab(ResultTab):
    """The graph is redrawn in its holder; the 3D scene's VTK pane is made once and kept in the page
    (removing a VTK pane from a shown page throws in vtk.js: 'reading getInteractor'). A tap on a
    node selects that neuron (``model.selected_neuron``); only the selection text follows it."""
    title = "Communities"
    depends = ("communities",)

    def __init__(self, model, component: pn.widgets.Select):
        super().__init__(model)
        self.component = component
        self.scene = CommunityScene()
        self.graph = pn.Column(sizing_mode="stretch_width")
        self.selection = note("", "community-selection")
        self.caption = note("Anatomical positions, coloured by community (grey: neurons not analysed; lateral and "
                            "dorsoventral axes stretched ×3)", "community-scene-caption")
        self.panel[:] = [self.graph, self.selection, self.caption, self.scene.pane]

    def draw(self) -> None:
        m, k = self.model, self.component.value
        shown = bool(m.communities) and k in m.communities
        self.caption.visible = self.scene.pane.visible = self.selection.visible = shown
        if not shown:
            self.graph[:] = [note("No communities yet: factorise the tensor.", "connectome-empty")]
            return
        nodes, edges = m.community_graph(k)
        overlay, neurons = plots.community_graph(nodes, edges, f"Component {k}: strongest 10% of edges")
        taps = hv.streams.Selection1D(source=neurons)
        taps.add_subscriber(lambda index: self._select(nodes, index))
        self.graph[:] = [figure(overlay, "community-graph")]
        self.draw_selection()
        from engines.worms import neuron_positions
        self.scene.show(neuron_positions(), m.neuron_positions(), m.communities[k])

    def _select(self, nodes, index: list[int]) -> None:
        if index:
            self.model.selected_neuron = str(nodes.neuron.iloc[index[0]])

    def draw_selection(self, *_events) -> None:
        k = self.component.value
        if k in self.model.communities:
            self.selection.object = selection_text(self.model.selected_in(k), k)


class EnrichmentTab(ResultTab):
    title = "Enrichment"
    depends = ("enrichment_table", "enrichment_note")
    COLUMNS = {"size": "size (neurons)", "observed": "observed (mean weight)", "null_mean": "null mean",
               "p_value": "p", "q_value": "q"}

    def __init__(self, model):
        super().__init__(model)
        self.table = table("enrichment-table", pagination="local", page_size=12, widths={"component": 105, "community": 105, "layer": 170})

    def draw(self) -> None:
        m = self.model
        explanation = note("Mean connection weight inside each community against label shuffles (sizes kept); "
                           "p: permutation p-value, q: Benjamini-Hochberg across all rows.", "enrichment-explanation")
        if m.enrichment_table is None or not len(m.enrichment_table):
            self.panel[:] = [explanation, note(m.enrichment_note or "No enrichment yet: factorise the tensor.",
                                               "connectome-empty")]
            return
        self.table.value = m.enrichment_table.rename(columns=self.COLUMNS).round(
            {"observed (mean weight)": 4, "null mean": 4, "z": 2, "p": 4, "q": 4})
        self.panel[:] = [explanation, note(m.enrichment_note, "enrichment-note"), self.table]


class ExportTab(ResultTab):
    title = "Export"
    depends = ("result", "communities", "enrichment_table", "produced_by")

    def __init__(self, model):
        super().__init__(model)
        self.download = pn.widgets.FileDownload(callback=self._zip, filename="connectome_export.zip",
                                                label="Download factors, partitions, enrichment and settings (zip)",
                                                button_type="primary", width=460, css_classes=["connectome-download"])

    def _zip(self):
        try:
            return io.BytesIO(self.model.export_zip())
        except Exception as error:  # nothing to export: say so instead of a broken download
            notify_error(error)
            return None

    def draw(self) -> None:
        result = self.model.result
        if result is None:
            self.panel[:] = [note("Nothing to export yet: factorise the tensor first.", "connectome-empty")]
            return
        self.panel[:] = [note(f"The rank-{result.rank} fit's factors as NPZ and CSV, partitions and enrichment as "
                              "CSV, and `connectome_settings.json`: every setting that produced them, the results' "
                              "sizes and the library versions.", "export-explanation"), self.download]


class ExperimentsTab(ResultTab):
    """The room's experiments (lab/experiments/connectome.py): built when first shown, then kept
    (it shows the experiment's own run, none of the room's results)."""
    title = "Experiments"

    def __init__(self, model):
        super().__init__(model)
        self.experiments: ExperimentsPanel | None = None

    def draw(self) -> None:
        if self.experiments is None:
            self.experiments = ExperimentsPanel(self.model, room_experiments("connectome"))
            self.panel[:] = [self.experiments]
