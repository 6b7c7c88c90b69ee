"""Stacked traces of picked neurons and behaviour tracks, sharing one time axis with the heatmap;
behaviour and stimulus intervals are shaded."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd

EVENT_COLOURS = {"behaviour": "#d62728", "stimulus": "#1f77b4"}
# Behaviour as the Flavell lab records it (Atanas et al. 2023); the simulation uses the same units.
BEHAVIOUR_UNITS = {"velocity": "velocity (mm/s)", "head_angle": "head angle (rad)",
                   "pumping": "pumping (Hz)", "angular_velocity": "angular velocity (rad/s)",
                   "worm_curvature": "body curvature (rad)"}


TRACK_HEIGHT = 90


def event_spans(events: pd.DataFrame) -> hv.Overlay | None:
    """Shaded intervals: reversals in red, stimulus pulses in blue."""
    overlays = []
    for kind, group in events.groupby("kind"):
        colour = EVENT_COLOURS.get(kind, "#7f7f7f")
        spans = hv.VSpans((group["start_s"].to_numpy(), group["end_s"].to_numpy()),
                          kdims=["time", "time_end"])
        overlays.append(spans.opts(color=colour, alpha=0.12, line_width=0))
    return hv.Overlay(overlays) if overlays else None


def display_scaled(values: np.ndarray) -> np.ndarray:
    """A trace squeezed into [0, 0.85] by its 1st-99th percentiles, for stacking."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    low, high = np.percentile(finite, [1, 99])
    return 0.85 * (values - low) / (high - low if high > low else 1.0)


def stacked_plot(time: np.ndarray, series: dict, spans, cursor, title: str, ylabel: str,
                 colours=None, xaxis: str | None = "bottom") -> hv.DynamicMap | hv.Overlay:
    """Series stacked in one figure, first on top, each scaled to its own range; the y ticks
    name them. One figure (not one per trace) keeps opening a recording fast."""
    names = list(series)
    n = len(names)
    ydim = hv.Dimension(f"stack_{ylabel}", label=ylabel)
    curves = []
    for i, name in enumerate(names):
        offset = n - 1 - i
        colour = colours[i % len(colours)] if colours else "#444444"
        curves.append(hv.Curve((time, display_scaled(np.asarray(series[name], float)) + offset),
                               kdims=["time"], vdims=[ydim], label=name).opts(color=colour, line_width=1.1))
    overlay = hv.Overlay(curves)
    if spans is not None:
        overlay = overlay * spans
    ticks = [(n - 1 - i + 0.42, name) for i, name in enumerate(names)]
    return (overlay * cursor()).opts(
        title=title, responsive=True, height=max(140, 34 * n + 70), yticks=ticks, ylabel="",
        xlabel="time (s)", xaxis=xaxis, show_legend=False, ylim=(-0.2, n), show_grid=True)


def stacked(time: np.ndarray, traces: dict, behaviour: dict, events: pd.DataFrame, cursor,
            simulated: bool, title: str = "neurons") -> list:
    """Two figures: the picked neurons' traces, then the behaviour tracks, with reversals and
    stimuli shaded. ``cursor()`` makes the time-cursor overlay (a plot owns its streams)."""
    spans = event_spans(events) if len(events) else None
    suffix = " (simulated)" if simulated else ""
    plots = []
    if traces:
        plots.append(stacked_plot(time, traces, spans, cursor, title + suffix + " · each trace "
                                  "scaled to its own range", "neurons",
                                  hv.Cycle.default_cycles["default_colors"],
                                  xaxis="bottom" if not behaviour else None))
    if behaviour:
        named = {BEHAVIOUR_UNITS.get(k, k): v for k, v in behaviour.items()}
        plots.append(stacked_plot(time, named, spans, cursor, "behaviour" + suffix +
                                  " · red: reversals, blue: stimuli", "behaviour"))
    return plots
