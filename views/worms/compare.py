"""Worms side by side on the neurons they all share, in the same row order."""
from __future__ import annotations

import holoviews as hv

from views.worms.heatmap import heatmap_image, rasterized


def comparison_plots(shared: list[str], per_worm: dict, focus: str | None) -> hv.Layout | hv.Text:
    """One heatmap per worm (rows = shared neurons) and the focus neuron's trace in each."""
    if not per_worm or not shared:
        return hv.Text(0, 0, "pick two or more worms that share identified neurons").opts(height=80)
    heatmaps = [rasterized(heatmap_image(time, values, shared, f"{worm} ({len(shared)} shared neurons)"),
                           shared, height=max(220, min(600, 9 * len(shared))))
                for worm, (time, values) in per_worm.items()]
    plots = list(heatmaps)
    if focus in shared:
        row = shared.index(focus)
        curves = [hv.Curve((time, values[row]), "time", hv.Dimension("activity", label=focus),
                           label=worm) for worm, (time, values) in per_worm.items()]
        plots.append(hv.Overlay(curves).opts(title=f"{focus} in each worm", responsive=True,
                                             height=220, legend_position="top_right"))
    return hv.Layout(plots).cols(1).opts(shared_axes=False)
