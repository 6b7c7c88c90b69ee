"""Worms side by side on the neurons they all share, in the same row order."""
from __future__ import annotations

import holoviews as hv

from engines.worms import HeatmapPyramid
from views.worms.heatmap import colour_range, row_ticks

WIDTH_PX = 900   # each worm's heatmap is aggregated once to this many columns


def worm_heatmap(time, values, shared: list[str], title: str, unit: str) -> hv.Image:
    """(shared x T) values as a fixed image, row 0 on top, at most WIDTH_PX columns."""
    n = len(shared)
    extent = (float(time[0]), float(time[-1]))
    pixels = HeatmapPyramid(values[::-1].T, time).aggregate(extent, (-0.5, n - 0.5), width=WIDTH_PX,
                                                            height=max(n, 2))
    image = hv.Image((pixels["time"].values, pixels["neuron"].values, pixels.values),
                     kdims=["time", "row"], vdims=[unit])
    return image.opts(cmap="viridis", colorbar=True, responsive=True, clim=colour_range(values),
                      height=max(220, min(600, 9 * n)), yticks=row_ticks(shared), title=title,
                      xlabel="time (s)", ylabel="neuron", fontsize={"yticks": 7}, tools=["hover"])


def comparison_plots(shared: list[str], per_worm: dict, focus: str | None,
                     unit: str = "activity") -> hv.Layout | hv.Text:
    """One heatmap per worm (rows = shared neurons) and the focus neuron's trace in each."""
    if not per_worm or not shared:
        return hv.Text(0, 0, "pick two or more worms that share identified neurons").opts(height=80)
    plots = [worm_heatmap(time, values, shared, f"{worm} ({len(shared)} shared neurons)", unit)
             for worm, (time, values) in per_worm.items()]
    if focus in shared:
        row = shared.index(focus)
        curves = [hv.Curve((time, values[row]), hv.Dimension("time", label="time (s)"),
                           hv.Dimension("activity", label=f"{focus} ({unit})"), label=worm)
                  for worm, (time, values) in per_worm.items()]
        plots.append(hv.Overlay(curves).opts(title=f"{focus} in each worm", responsive=True,
                                             height=220, legend_position="top_right"))
    return hv.Layout(plots).cols(1).opts(shared_axes=False)
