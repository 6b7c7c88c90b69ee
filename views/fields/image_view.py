"""The 2-D view: target | reconstruction (with kernels) | error map, zoom linked across them.

Plain Bokeh figures that live as long as the view: a snapshot only replaces the data of their
ColumnDataSources (on the session's event loop), so the user's zoom survives training and a
redraw costs milliseconds. (Rebuilding HoloViews plots at every snapshot took seconds per
redraw on a loaded 2-core machine and stalled the page.) The figures share their ranges:
zooming one zooms all.

Images are drawn upright (row 0 at the top). The engine's y coordinate grows with the row
index, so kernel positions and shapes are mirrored in y to sit on the pixels they cover.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Inferno256, Plasma256, Viridis256
from bokeh.plotting import figure
from bokeh.transform import linear_cmap

from lab.fields.run import MODELS

MAX_ELLIPSES = 256     # the strongest kernels get outlines; every shown kernel gets a centre dot
FLIP_Y = np.diag([1.0, -1.0])
NO_KERNELS = dict(x=[], y=[], width=[], height=[], angle=[], norm=[])


def rgba(image: np.ndarray) -> np.ndarray:
    """(H, W) grey or (H, W, 3) colour in [0, 1] -> (H, W) uint32 RGBA, flipped for Bokeh."""
    pixels = np.clip(image, 0, 1)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    bytes_ = (pixels[::-1] * 255).round().astype(np.uint8)
    alpha = np.full(bytes_.shape[:2] + (1,), 255, np.uint8)
    return np.ascontiguousarray(np.concatenate([bytes_, alpha], axis=2)).view(np.uint32)[..., 0]


def ellipse_axes(shapes: np.ndarray):
    """Half-maximum ellipses {x : (x - c)^T S (x - c) = 1} of each kernel as Bokeh draws them:
    full width along the first principal axis, full height along the second, and the first
    axis's angle in radians."""
    eigenvalues, eigenvectors = np.linalg.eigh(shapes)
    radii = 1.0 / np.sqrt(np.clip(eigenvalues, 1e-6, None))                     # (K, 2)
    angle = np.arctan2(eigenvectors[:, 1, 0], eigenvectors[:, 0, 0])
    return 2 * radii[:, 0], 2 * radii[:, 1], angle


def kernel_data(kernels: dict | None) -> dict:
    """One row per kernel in plot coordinates: centre, ellipse (NaN beyond the MAX_ELLIPSES
    strongest, so only their outlines are drawn) and weight norm. Plain numeric columns: each
    travels to the browser as one binary buffer, whatever the number of kernels."""
    if not kernels or len(kernels["centres"]) == 0:
        return dict(NO_KERNELS)
    centres = kernels["centres"] @ FLIP_Y
    shapes = FLIP_Y @ kernels["shapes"] @ FLIP_Y
    k = min(MAX_ELLIPSES, len(centres))
    width, height, angle = (np.full(len(centres), np.nan) for _ in range(3))
    width[:k], height[:k], angle[:k] = ellipse_axes(shapes[:k])
    return dict(x=centres[:, 0], y=centres[:, 1], width=width, height=height, angle=angle,
                norm=np.asarray(kernels["weight_norms"], float))


class ImagePanel:
    """One square figure showing an image, optionally with kernels on top."""

    def __init__(self, title: str, x_range, y_range, size: int, with_kernels: bool = False,
                 mapper: LinearColorMapper | None = None):
        self.figure = figure(title=title, x_range=x_range, y_range=y_range, width=size, height=size,
                             tools="pan,wheel_zoom,box_zoom,reset", active_scroll="wheel_zoom",
                             toolbar_location="above", match_aspect=True)
        self.figure.axis.visible = False
        self.figure.grid.visible = False
        self.image = ColumnDataSource(dict(image=[np.zeros((2, 2), np.uint32)], x=[-1], y=[-1], dw=[2], dh=[2]))
        if mapper is None:
            self.figure.image_rgba("image", "x", "y", "dw", "dh", source=self.image)
        else:
            self.figure.image("image", "x", "y", "dw", "dh", source=self.image, color_mapper=mapper)
            self.figure.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
        self.kernels = None
        self._shown = None  # the image now in the browser: an unchanged one is not sent again
        if with_kernels:  # coloured by weight norm, scaled to the norms shown (low/high None)
            self.kernels = ColumnDataSource(dict(NO_KERNELS))
            colour = linear_cmap("norm", Plasma256, low=None, high=None)
            self.figure.ellipse("x", "y", "width", "height", angle="angle", fill_color=None, line_color=colour,
                                line_alpha=0.8, source=self.kernels)
            self.figure.scatter("x", "y", color=colour, size=4, source=self.kernels)

    def show(self, image: np.ndarray, title: str, kernels: dict | None = None, scalar: bool = False) -> None:
        if self._shown is None or self._shown.shape != image.shape or not np.array_equal(self._shown, image):
            self._shown = image
            data = image[::-1].astype(np.float32) if scalar else rgba(image)
            self.image.data = dict(image=[data], x=[-1], y=[-1], dw=[2], dh=[2])
        self.figure.title.text = title
        if self.kernels is not None:
            self.kernels.data = kernel_data(kernels)


class ImageView:
    """Target, reconstruction and error of the trained model (and of its rival when comparing)."""

    def __init__(self, size: int = 260):
        self.show_kernels = pn.widgets.Checkbox(label="Show RBF kernels", value=True)
        self.show_init_weights = pn.widgets.Checkbox(label="Show k-means initialisation weights", value=False)
        x_range, y_range = Range1d(-1, 1), Range1d(-1, 1)  # shared: linked zoom
        self.error_mapper = LinearColorMapper(palette=Inferno256, low=0, high=0.1)
        self.weight_mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)
        self.target = ImagePanel("target", x_range, y_range, size)
        self.weights = ImagePanel("k-means initialisation weights", x_range, y_range, size,
                                  mapper=self.weight_mapper)
        self.recon = ImagePanel("reconstruction", x_range, y_range, size, with_kernels=True)
        self.error = ImagePanel("|error|", x_range, y_range, size + 60, mapper=self.error_mapper)
        self.rival = ImagePanel("rival", x_range, y_range, size, with_kernels=True)
        self.panes = {name: pn.pane.Bokeh(panel.figure) for name, panel in
                      dict(target=self.target, weights=self.weights, recon=self.recon,
                           error=self.error, rival=self.rival).items()}
        self.pane = pn.Row(self.panes["target"], self.panes["recon"], self.panes["error"])
        self._size = size
        self._latest = (None, None)
        self._names = ("", "", "")
        self.show_kernels.param.watch(lambda _e: self.draw(*self._latest), "value")
        self.show_init_weights.param.watch(lambda _e: self.draw(*self._latest), "value")

    def set_names(self, target_name: str, model_key: str, rival_key: str) -> None:
        self._names = (target_name, model_key, rival_key)

    def draw(self, shot, rival=None) -> None:
        if shot is None:
            return
        self._latest = (shot, rival)
        target_name, model_key, rival_key = self._names
        weights = self.show_init_weights.value
        wanted = ["weights" if weights else "target", "recon", "error"] + (["rival"] if rival is not None else [])
        if [p for p in self.pane.objects] != [self.panes[name] for name in wanted]:
            self.pane[:] = [self.panes[name] for name in wanted]  # swapping panes, not toggling visibility
        if weights:
            values = shot.init_weights if shot.init_weights is not None else np.zeros_like(shot.error)
            self.weight_mapper.high = max(float(values.max()), 1e-6)
            title = "k-means weights (|∇ image|)" if shot.init_weights is not None else "k-means weights: NeuRBF only"
            self.weights.show(values, title, scalar=True)
        else:
            self.target.show(shot.target, f"target · {target_name}")
        self._show_recon(self.recon, shot, model_key)
        self.error_mapper.high = max(float(shot.error.max()), 1e-3)
        self.error.show(shot.error, "|error| (mean over channels)", scalar=True)
        self._resize(self._size if rival is None else int(self._size * 0.7))  # four fit a row
        if rival is not None:
            self._show_recon(self.rival, rival, rival_key)

    def _resize(self, size: int) -> None:
        for name, panel in (("target", self.target), ("weights", self.weights), ("recon", self.recon),
                            ("rival", self.rival), ("error", self.error)):
            width = size + 60 if name == "error" else size  # the error map has a colour bar
            if panel.figure.width != width:
                panel.figure.width, panel.figure.height = width, size

    def _show_recon(self, panel: ImagePanel, shot, model_key: str) -> None:
        model = MODELS.get(model_key, model_key).split(" (")[0]
        kernels = shot.kernels if self.show_kernels.value else None
        panel.show(shot.reconstruction, f"{model} · {shot.psnr:.2f} dB · step {shot.step:,}", kernels)
