"""The 2-D view: target | reconstruction (with the units on top) | error map, zoom linked.

Plain Bokeh figures that live as long as the view: a snapshot only replaces the data of their
ColumnDataSources (on the session's event loop), so the user's zoom survives training and a
redraw costs milliseconds. The figures share their ranges: zooming one zooms all. A compared
model gets a second row (its reconstruction and error, same colour scale for both errors).
Panels are shown and hidden, never swapped out of the page.

Units on the reconstruction: NeuRBF's kernels as their half-maximum ellipses; GNF's units,
which live in feature space, as a translucent map of the unit contributing most at each pixel
(``lab.fields.units``). Images are drawn upright (row 0 at the top). The engine's y coordinate
grows with the row index, so kernel positions and shapes are mirrored in y.
"""
from __future__ import annotations

import colorcet
import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, Range1d, Title
from bokeh.palettes import Inferno256, Plasma256, Viridis256
from bokeh.plotting import figure
from bokeh.transform import linear_cmap

MAX_ELLIPSES = 256     # the strongest kernels get outlines; every shown kernel gets a centre dot
FLIP_Y = np.diag([1.0, -1.0])
NO_KERNELS = dict(x=[], y=[], width=[], height=[], angle=[], norm=[])
UNIT_COLOURS = colorcet.glasbey   # 256 distinct colours; unit i gets colour i mod 256
SIZE = 240


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
    if not kernels or kernels.get("kind", "ellipses") != "ellipses" or len(kernels["centres"]) == 0:
        return dict(NO_KERNELS)
    centres = kernels["centres"] @ FLIP_Y
    shapes = FLIP_Y @ kernels["shapes"] @ FLIP_Y
    k = min(MAX_ELLIPSES, len(centres))
    width, height, angle = (np.full(len(centres), np.nan) for _ in range(3))
    width[:k], height[:k], angle[:k] = ellipse_axes(shapes[:k])
    return dict(x=centres[:, 0], y=centres[:, 1], width=width, height=height, angle=angle,
                norm=np.asarray(kernels["weight_norms"], float))


def unit_image(kernels: dict | None) -> np.ndarray | None:
    """GNF's unit map as colour indices, flipped for Bokeh (None when the field has none)."""
    if not kernels or kernels.get("kind") != "units":
        return None
    return (kernels["unit_map"][::-1] % len(UNIT_COLOURS)).astype(np.float32)


def _image_source() -> ColumnDataSource:
    return ColumnDataSource(dict(image=[np.zeros((2, 2), np.uint32)], x=[-1], y=[-1], dw=[2], dh=[2]))


class ImagePanel:
    """One square figure showing an image (optionally with units on top), titled by its name
    and a line of detail."""

    def __init__(self, name: str, x_range, y_range, size: int = SIZE, mapper: LinearColorMapper | None = None,
                 with_units: bool = False, css: str = ""):
        # the frame (the image's area) is square whatever the titles and colour bar take
        self.figure = figure(x_range=x_range, y_range=y_range, frame_width=size, frame_height=size,
                             tools="pan,wheel_zoom,box_zoom,reset", active_scroll="wheel_zoom",
                             toolbar_location="below", min_border=4)
        self.figure.axis.visible = False
        self.figure.grid.visible = False
        self.detail = Title(text="", text_font_style="normal")
        self.name = Title(text=name, text_font_size="13px")
        self.figure.add_layout(self.detail, "above")
        self.figure.add_layout(self.name, "above")
        self.image = _image_source()
        if mapper is None:
            self.figure.image_rgba("image", "x", "y", "dw", "dh", source=self.image)
        else:
            self.figure.image("image", "x", "y", "dw", "dh", source=self.image, color_mapper=mapper)
            self.figure.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
        self.kernels = self.units = None
        self._shown = None  # the image now in the browser: an unchanged one is not sent again
        if with_units:
            self.units = _image_source()
            self.units.data = dict(image=[], x=[], y=[], dw=[], dh=[])
            units_mapper = LinearColorMapper(palette=UNIT_COLOURS, low=-0.5, high=len(UNIT_COLOURS) - 0.5)
            self.figure.image("image", "x", "y", "dw", "dh", source=self.units, color_mapper=units_mapper,
                              global_alpha=0.45)
            self.kernels = ColumnDataSource(dict(NO_KERNELS))  # coloured by weight norm, scaled to those shown
            colour = linear_cmap("norm", Plasma256, low=None, high=None)
            self.figure.ellipse("x", "y", "width", "height", angle="angle", fill_color=None, line_color=colour,
                                line_alpha=0.8, source=self.kernels)
            self.figure.scatter("x", "y", color=colour, size=4, source=self.kernels)
        # a plain box around the figure: what tests find by class, and what is shown or hidden
        self.pane = pn.Column(pn.pane.Bokeh(self.figure), css_classes=["fields-plot", css] if css else ["fields-plot"],
                              margin=0)

    def show(self, image: np.ndarray, name: str, detail: str = "", scalar: bool = False) -> None:
        if self._shown is None or self._shown.shape != image.shape or not np.array_equal(self._shown, image):
            self._shown = image
            data = image[::-1].astype(np.float32) if scalar else rgba(image)
            self.image.data = dict(image=[data], x=[-1], y=[-1], dw=[2], dh=[2])
        self.name.text, self.detail.text = name, detail

    def show_units(self, kernels: dict | None) -> None:
        """NeuRBF ellipses or GNF's unit map on top (None clears both); nothing is sent while
        they stay hidden."""
        ellipses, units = kernel_data(kernels), unit_image(kernels)
        if len(ellipses["x"]) or len(self.kernels.data["x"]):
            self.kernels.data = ellipses
        if units is not None:
            self.units.data = dict(image=[units], x=[-1], y=[-1], dw=[2], dh=[2])
        elif len(self.units.data["image"]):
            self.units.data = dict(image=[], x=[], y=[], dw=[], dh=[])


class ImageView:
    """Target, reconstruction and error of the model (and of its rival when comparing)."""

    def __init__(self):
        self.show_kernels = pn.widgets.Checkbox(label="Show the RBF units over the reconstruction", value=False)
        self.show_init_weights = pn.widgets.Checkbox(label="Show k-means initialisation weights (NeuRBF)",
                                                     value=False)
        x_range, y_range = Range1d(-1, 1), Range1d(-1, 1)  # shared: linked zoom
        self.error_mapper = LinearColorMapper(palette=Inferno256, low=0, high=0.1)  # both errors: one scale
        self.weight_mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)
        self.target = ImagePanel("target", x_range, y_range, css="fields-target")
        self.weights = ImagePanel("k-means weights", x_range, y_range, mapper=self.weight_mapper)
        self.recons = [ImagePanel("reconstruction", x_range, y_range, with_units=True, css=f"fields-recon-{i}")
                       for i in range(2)]
        self.errors = [ImagePanel("|error|", x_range, y_range, mapper=self.error_mapper, css=f"fields-error-{i}")
                       for i in range(2)]
        self.hint = pn.pane.Markdown("", width=SIZE * 2, css_classes=["fields-hint"])
        self.indent = pn.Spacer(width=SIZE + 18)  # the compared model's row starts under the model's
        self.pane = pn.Column(pn.Row(self.target.pane, self.weights.pane, self.hint, self.recons[0].pane,
                                     self.errors[0].pane),
                              pn.Row(self.indent, self.recons[1].pane, self.errors[1].pane),
                              sizing_mode="stretch_width")
        self._latest = None
        for box in (self.show_kernels, self.show_init_weights):
            box.param.watch(lambda _e: self._latest and self.draw(*self._latest), "value")

    def draw(self, target: np.ndarray, target_name: str, names: list[str], shots: list, hint: str = "") -> None:
        """``target`` (H, W[, 3]); ``names`` and ``shots`` per run (a shot None: not trained yet)."""
        self._latest = (target, target_name, names, shots, hint)
        weights = self.show_init_weights.value and shots and shots[0] is not None and shots[0].init_weights is not None
        self.target.pane.visible, self.weights.pane.visible = not weights, bool(weights)
        if weights:
            self.weight_mapper.high = max(float(shots[0].init_weights.max()), 1e-6)
            self.weights.show(shots[0].init_weights, "k-means weights", "|∇ image| (NeuRBF's initialisation)",
                              scalar=True)
        else:
            self.target.show(target, "target", target_name)
        errors = [s.error for s in shots if s is not None]
        self.error_mapper.high = max([float(e.max()) for e in errors] + [1e-3])
        for index, (recon, error) in enumerate(zip(self.recons, self.errors)):
            shot = shots[index] if index < len(shots) else None
            recon.pane.visible = error.pane.visible = shot is not None
            if shot is not None:
                detail = f"{shot.psnr:.2f} dB · step {shot.step:,}"
                recon.show(shot.reconstruction, names[index], detail)
                recon.show_units(shot.kernels if self.show_kernels.value else None)
                error.show(shot.error, f"|error| · {names[index]}", "mean over channels", scalar=True)
        self.hint.object, self.hint.visible = hint, bool(hint)
        self.indent.visible = self.recons[1].pane.visible
