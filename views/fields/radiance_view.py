"""The radiance views: a novel view from the camera the user moves, the held-out view beside its
ground truth and error; in flatland, the true and learned density planes with the chosen ray, its
samples and what happens along it (transmittance, weights).

Built from the 2-D view's ``ImagePanel`` (plain Bokeh figures whose data a snapshot replaces), so
a redraw costs milliseconds and the user's zoom survives training. Both views are shown and
hidden with their task, never swapped out of the page.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Inferno256, Viridis256
from bokeh.plotting import figure

from lab.fields.model import FieldsRoom
from views.fields.controls import widget
from views.fields.image_view import SIZE, ImagePanel

FLATLAND_EXTENT = 2.8   # the plane's plots reach past the box [-1, 1]^2 to the cameras (radius 2.6)


def square() -> tuple[Range1d, Range1d]:
    return Range1d(-1, 1), Range1d(-1, 1)


class NovelView:
    """Radiance: the novel view of each run, the model's held-out view, its ground truth and error."""

    def __init__(self, model: FieldsRoom):
        sliders = {"width": 220, "sizing_mode": "fixed"}
        self.camera = pn.Row(*(widget(model, name, **sliders) for name in ("azimuth", "elevation", "held_out_view")))
        self.novel = [ImagePanel("novel view", *square(), css=f"fields-novel-{i}") for i in range(2)]
        self.error_mapper = LinearColorMapper(palette=Inferno256, low=0, high=0.1)
        held_range = square()   # held-out view, truth and error zoom together
        self.held = ImagePanel("held-out view", *held_range, css="fields-held-out")
        self.truth = ImagePanel("ground truth", *held_range, css="fields-held-truth")
        self.error = ImagePanel("|error|", *held_range, mapper=self.error_mapper)
        self.pane = pn.Column(self.camera, pn.Row(*(p.pane for p in self.novel)),
                              pn.Row(self.held.pane, self.truth.pane, self.error.pane),
                              sizing_mode="stretch_width", css_classes=["fields-radiance"])

    def draw(self, names: list[str], shots: list) -> None:
        for index, panel in enumerate(self.novel):
            shot = shots[index] if index < len(shots) else None
            panel.pane.visible = shot is not None
            if shot is not None:
                panel.show(shot.novel, f"novel view · {names[index]}",
                           f"azimuth {shot.azimuth:g}°, elevation {shot.elevation:g}° · step {shot.step:,}")
        shot = shots[0] if shots else None
        for panel in (self.held, self.truth, self.error):
            panel.pane.visible = shot is not None
        if shot is not None:
            detail = f"view {shot.held_index} · {shot.psnr:.2f} dB · step {shot.held_step:,}"
            self.held.show(shot.held_out, f"held-out view · {names[0]}", detail)
            self.truth.show(shot.truth, "ground truth", f"view {shot.held_index}")
            self.error_mapper.high = max(float(shot.error.max()), 1e-3)
            self.error.show(shot.error, "|error|", "mean over channels", scalar=True)


class FlatlandView:
    """Flatland: the true and the learned density over the plane, the chosen ray on the learned
    one (its samples coloured by weight), and transmittance and weights along it."""

    def __init__(self, model: FieldsRoom):
        self.choice = pn.Row(*(widget(model, name, width=220, sizing_mode="fixed") for name in ("flatland_camera", "flatland_pixel")))
        self.mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)   # both densities: one scale
        ranges = Range1d(-FLATLAND_EXTENT, FLATLAND_EXTENT), Range1d(-FLATLAND_EXTENT, FLATLAND_EXTENT)
        self.truth = ImagePanel("true density", *ranges, mapper=self.mapper, css="fields-flatland-truth")
        self.learned = ImagePanel("learned density", *ranges, mapper=self.mapper, css="fields-flatland-density")
        self.cameras = ColumnDataSource(dict(x=[], y=[]))
        self.ray = ColumnDataSource(dict(x=[], y=[]))
        self.samples = ColumnDataSource(dict(x=[], y=[], weight=[]))
        for panel in (self.truth, self.learned):
            panel.figure.scatter("x", "y", source=self.cameras, size=5, color="#ef6c00", marker="triangle")
        fig = self.learned.figure
        fig.line("x", "y", source=self.ray, color="white", line_width=1.5)
        fig.scatter("x", "y", source=self.samples, size=4, color="#e53935", alpha="weight")
        self.along = ColumnDataSource(dict(t=[], transmittance=[], weights=[]))
        self.along_figure = figure(frame_width=SIZE, frame_height=SIZE, x_axis_label="distance along the ray",
                                   tools="pan,wheel_zoom,reset", toolbar_location="below", title="along the ray")
        self.along_figure.line("t", "transmittance", source=self.along, color="#1565c0", line_width=2,
                               legend_label="transmittance")
        self.along_figure.line("t", "weights", source=self.along, color="#c62828", line_width=2,
                               legend_label="weight (normalised)")
        self.along_figure.legend.location = "top_right"
        self.pane = pn.Column(self.choice, pn.Row(self.truth.pane, self.learned.pane,
                                                  pn.Column(pn.pane.Bokeh(self.along_figure), css_classes=["fields-flatland-ray"], margin=0)),
                              sizing_mode="stretch_width", css_classes=["fields-flatland"])

    def draw(self, names: list[str], shots: list) -> None:
        shot = shots[0] if shots else None
        for panel in (self.truth, self.learned):
            panel.pane.visible = shot is not None
        if shot is None:
            return
        state = shot.state
        self.mapper.high = max(float(state["true_density"].max()), 1e-3)
        # plane rows follow y upwards; ImagePanel draws row 0 at the top, so the rows go in reversed
        self.truth.show(state["true_density"][::-1], "true density", "the blobs the cameras see", scalar=True)
        self.learned.show(state["density"][::-1], f"learned density · {names[0]}",
                          f"error {100 * shot.density_error:.1f}% of the range · step {shot.step:,}", scalar=True)
        cameras = np.asarray(state["cameras"]).reshape(-1, 2)
        self.cameras.data = dict(x=cameras[:, 0], y=cameras[:, 1])
        ray = state["ray"]
        ends = [ray["origin"] + ray[end] * ray["direction"] for end in ("near", "far")]
        self.ray.data = dict(x=[e[0] for e in ends], y=[e[1] for e in ends])
        samples = state["samples"]
        points, weights = np.asarray(samples["points"]).reshape(-1, 2), np.asarray(samples["weights"]).ravel()
        scale = max(float(weights.max()), 1e-6)
        self.samples.data = dict(x=points[:, 0], y=points[:, 1], weight=weights / scale)
        self.along.data = dict(t=np.asarray(samples["t"]).ravel(), transmittance=np.asarray(samples["transmittance"]).ravel(),
                               weights=weights / scale)
