"""HoloViews figures of the connectome room; each takes plain data and returns one element."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh backend, so .opts() works in a served room)
import numpy as np
import pandas as pd

STIMULUS_COLOURS = ["#f4a261", "#2a9d8f", "#e9c46a", "#8ab17d", "#e76f51"]
COMMUNITY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                     "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def community_colour(community: int) -> str:
    """The same colour for a community in the graph and in the 3D scene."""
    return COMMUNITY_COLOURS[int(community) % len(COMMUNITY_COLOURS)]


def ntf_error_curve(data) -> hv.Curve:
    """The relative error after each sweep of the factorisation."""
    errors = list(data)
    frame = pd.DataFrame({"sweep": np.arange(1, len(errors) + 1), "error": errors})
    return hv.Curve(frame, ("sweep", "HALS sweep"), ("error", "relative error")).opts(
        title="NTF relative error (observed entries)", height=240, responsive=True,
        tools=["hover"], color="#2f4f73")


def worm_coverage_bars(worm_names, observed_fraction) -> hv.Bars:
    data = pd.DataFrame({"worm": list(worm_names), "observed": observed_fraction})
    return hv.Bars(data, "worm", ("observed", "fraction of pairs observed")).opts(
        title="Observed pairs per worm (rest masked)", height=240, responsive=True,
        xrotation=45, ylim=(0, 1), tools=["hover"], color="#6c8ebf")


RANK_PANELS = (("error", "Reconstruction error", "relative error"),
               ("core_consistency", "Core consistency", "core consistency (%)"),
               ("factor_match_score", "Restart agreement", "factor match score"))


def rank_selection(summary: pd.DataFrame, fits: pd.DataFrame, recommended: int | None) -> list[hv.Overlay]:
    """Error, core consistency and factor match score against rank, each its own figure (one
    Layout of three responsive plots collapsed to zero height in the page); restarts as grey dots."""
    panels = []
    for column, title, label in RANK_PANELS:
        curve = hv.Curve(summary, "rank", (column, label)).opts(color="#2f4f73")
        overlay = curve * hv.Scatter(summary, "rank", (column, label)).opts(size=7, color="#2f4f73", tools=["hover"])
        if column in fits:
            overlay = overlay * hv.Scatter(fits, "rank", (column, label)).opts(size=5, color="#999999", alpha=0.7)
        if recommended is not None:
            overlay = overlay * hv.VLine(recommended).opts(color="#c62828", line_dash="dashed")
        ranks = list(summary["rank"])
        panels.append(overlay.opts(title=title, height=280, min_width=220, responsive=True, xticks=ranks,
                                   xlim=(min(ranks) - 0.5, max(ranks) + 0.5), xlabel="rank (components)",
                                   ylabel=label))
    return panels


def affinity_matrix(matrix: np.ndarray, names: list[str], labels: np.ndarray, title: str) -> hv.Overlay:
    """Neuron x neuron affinity ordered by community, community blocks outlined.

    An Image rather than a categorical HeatMap: a few thousand categorical cells per card made
    the page slow to draw. Hover gives the row and column number in the community order.
    """
    n = len(names)
    image = hv.Image(matrix, bounds=(0, 0, n, n), kdims=["column", "row"],
                     vdims=[("affinity", "affinity (component max 1)")]).opts(
        cmap="viridis", tools=["hover"], colorbar=True, xaxis=None, yaxis=None)
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, n]
    boxes = hv.Rectangles([(s, n - e, e, n - s) for s, e in zip(starts, ends)]).opts(
        fill_alpha=0, line_color="white", line_width=1.5)
    return (image * boxes).opts(title=title, height=300, responsive=True)


def temporal_profile(centres_s, profile, epochs: pd.DataFrame, reversal) -> hv.Overlay:
    """The component's loading over time, over stimulus bands and the fraction of worms reversing."""
    profile = np.asarray(profile) / (np.max(profile) or 1.0)
    layers = []
    for k, (label, rows) in enumerate(epochs.groupby("label", sort=True)):
        colour = STIMULUS_COLOURS[k % len(STIMULUS_COLOURS)]
        layers.append(hv.VSpans((rows.start_s.to_numpy(), rows.end_s.to_numpy())).opts(color=colour, alpha=0.25))
        layers.append(hv.Curve(([centres_s[0]], [np.nan]), "time (s)", "loading", label=label)
                      .opts(color=colour, line_width=8))   # the legend entry of the bands
    reversal = np.asarray(reversal, dtype=float)
    if reversal.size and np.isfinite(reversal).any():
        layers.append(hv.Area((centres_s, reversal), "time (s)", "loading", label="reversing")
                      .opts(color="#999999", alpha=0.35, line_alpha=0))
    layers.append(hv.Curve((centres_s, profile), "time (s)", "loading", label="component").opts(
        color="#2f4f73", line_width=2, tools=["hover"], ylim=(0, 1.05)))
    return hv.Overlay(layers).opts(title="Temporal profile", height=260, responsive=True, xlabel="time (s)",
                                   ylabel="loading (peak 1)", legend_position="top", legend_cols=4,
                                   legend_opts={"label_text_font_size": "8pt"})


def worm_loadings(worm_names, loadings) -> hv.Bars:
    data = pd.DataFrame({"worm": list(worm_names), "loading": loadings})
    return hv.Bars(data, "worm", ("loading", "loading (unit-norm column)")).opts(
        title="Worm loadings", height=220, responsive=True, xrotation=45, tools=["hover"], color="#6c8ebf")


def _tap_selects_points_only(plot, _element) -> None:
    """A tap selects a neuron's point, never its name (a selected name fades all the others)."""
    from bokeh.models import TapTool
    for tool in plot.state.select(type=TapTool):
        tool.renderers = [plot.handles["glyph_renderer"]]


def community_graph(nodes: pd.DataFrame, edges: pd.DataFrame, title: str) -> tuple[hv.Overlay, hv.Points]:
    """The component's strongest edges and its neurons, named and coloured by community, and the
    neurons' Points (a tap on one selects it: attach a Selection1D stream to them; HoloViews'
    Graph has no selection to attach one to)."""
    nodes = nodes.assign(colour=[community_colour(c) for c in nodes.community])
    graph_nodes = hv.Nodes(nodes, ["x", "y", "index"], ["neuron", "community", "colour"])
    graph = hv.Graph((edges, graph_nodes), ["source", "target"], ["weight"]).opts(
        node_size=0, edge_alpha=0.35, edge_line_width=hv.dim("weight") * 3, xaxis=None, yaxis=None)
    neurons = hv.Points(nodes, ["x", "y"], ["neuron", "community", "colour"]).opts(
        color="colour", size=11, line_color="#333", tools=["hover", "tap"], nonselection_alpha=0.35,
        selection_line_color="black", selection_line_width=2,
        hover_tooltips=[("neuron", "@neuron"), ("community", "@community")], hooks=[_tap_selects_points_only])
    labels = hv.Labels(nodes, ["x", "y"], "neuron").opts(text_font_size="7pt", yoffset=0.04, text_color="#333")
    return (graph * neurons * labels).opts(title=title, height=460, responsive=True), neurons
