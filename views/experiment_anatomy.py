"""An experiment's "anatomy" figure: a value per neuron drawn at the neurons' 3-D atlas positions.

    anatomy_element(figure, table)   # figure.kind == "anatomy"; rows have x, y, z (NaN: no position)

Two projections of the atlas positions (engines.worms.neuron_positions: y runs along the body,
head first; z from ventral to dorsal; x from right to left): a side view (y, z) above a top view
(y, x). Each neuron (``figure.x``) is coloured by the mean of ``figure.y`` over the rows (worms,
seeds) on a diverging scale centred on 0, with a marker per value of ``figure.group`` (its most
frequent one). Neurons without a position (unidentified traces, names the atlas lacks) are listed
under the views, never drawn at the origin.
"""
from __future__ import annotations

import holoviews as hv
import pandas as pd

from lab.experiments.spec import Figure

POSITION = ["x", "y", "z"]
MARKERS = ["circle", "triangle", "square", "diamond"]   # the most frequent group gets circles
SYMBOLS = {"circle": "●", "triangle": "▲", "square": "■", "diamond": "◆"}
CMAP = "RdBu_r"   # negative blue, positive red, 0 white
AXES = {"y": "body axis: head ← atlas y → tail", "z": "ventral ← atlas z → dorsal",
        "x": "right ← atlas x → left"}
LISTED = 40       # unplaced neurons named under the views; more are counted


def per_neuron(figure: Figure, table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """(one row per placed neuron: x, y, z, the mean value and the group; names without a position)."""
    grouped = table.groupby(figure.x, sort=False)
    out = grouped[POSITION].first()
    out[figure.y] = grouped[figure.y].mean()
    if figure.group:
        out[figure.group] = grouped[figure.group].agg(lambda values: values.mode().iloc[0])
    placed = out[POSITION].notna().all(axis=1)
    return out[placed].reset_index(), [str(name) for name in out.index[~placed]]


def _groups(neurons: pd.DataFrame, figure: Figure) -> list:
    return list(neurons[figure.group].value_counts().index) if figure.group else [None]


def _projection(neurons: pd.DataFrame, figure: Figure, across: str, up: str, limit: float) -> hv.Overlay:
    groups, layers = _groups(neurons, figure), []
    for index, group in enumerate(groups):
        part = neurons if group is None else neurons[neurons[figure.group] == group]
        vdims = [figure.y, figure.x] + ([figure.group] if figure.group else [])
        layers.append(hv.Points(part, [across, up], vdims).opts(
            color=figure.y, cmap=CMAP, clim=(-limit, limit), colorbar=index == 0, size=10,
            marker=MARKERS[index % len(MARKERS)], line_color="#444444", tools=["hover"], clabel=figure.y))
    return hv.Overlay(layers).opts(responsive=True, height=260, xlabel=AXES[across], ylabel=AXES[up],
                                   show_grid=True, show_legend=False)


def anatomy_element(figure: Figure, table: pd.DataFrame) -> hv.Layout:
    """Side and top views of the neurons coloured by their mean value; the unplaced listed below."""
    neurons, unplaced = per_neuron(figure, table)
    limit = float(neurons[figure.y].abs().max()) if len(neurons) else 1.0
    limit = limit if limit > 0 else 1.0
    key = ", ".join(f"{SYMBOLS[MARKERS[i % len(MARKERS)]]} {group}" for i, group in enumerate(_groups(neurons, figure))
                    if group is not None)
    side = _projection(neurons, figure, "y", "z", limit).opts(
        title=f"{figure.y_label} at each neuron, side view" + (f" ({key})" if key else ""))
    top = _projection(neurons, figure, "y", "x", limit).opts(title="top view")
    names = ", ".join(unplaced[:LISTED]) + (f" and {len(unplaced) - LISTED} more" if len(unplaced) > LISTED else "")
    note = (f"<b>No atlas position</b> ({len(unplaced)}, not drawn): {names}" if unplaced
            else f"All {len(neurons)} neurons placed at their atlas positions.")
    return (side + top + hv.Div(f'<p class="experiment-unplaced">{note}</p>').opts(height=40)).cols(1)
