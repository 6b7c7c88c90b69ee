"""The fields room's 2-D view without a browser: kernel ellipses and what a redraw sends."""
import numpy as np
from bokeh.models import Range1d

from views.fields.image_view import MAX_ELLIPSES, ImagePanel, ellipse_axes, kernel_data


def test_ellipses_are_the_half_maximum_outlines_of_the_kernels():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(6, 2, 2))
    shapes = factors @ factors.transpose(0, 2, 1) + 0.1 * np.eye(2)
    widths, heights, angles = ellipse_axes(shapes)
    t = np.linspace(0, 2 * np.pi, 9)
    for shape, width, height, angle in zip(shapes, widths, heights, angles):
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        outline = rotation @ np.stack([width / 2 * np.cos(t), height / 2 * np.sin(t)])  # as Bokeh draws it
        assert np.allclose(np.einsum("it,ij,jt->t", outline, shape, outline), 1.0)


def test_kernel_rows_are_numeric_columns_with_outlines_for_the_strongest_only():
    k = MAX_ELLIPSES + 10
    kernels = {"centres": np.zeros((k, 2)), "shapes": np.tile(np.eye(2), (k, 1, 1)),
               "weight_norms": np.linspace(1, 0, k)}
    data = kernel_data(kernels)
    assert all(isinstance(column, np.ndarray) and len(column) == k for column in data.values())
    assert np.isfinite(data["width"][:MAX_ELLIPSES]).all() and np.isnan(data["width"][MAX_ELLIPSES:]).all()
    assert all(len(column) == 0 for column in kernel_data(None).values())


def test_an_unchanged_image_is_not_sent_again():
    panel = ImagePanel("target", Range1d(-1, 1), Range1d(-1, 1), 100)
    image = np.random.default_rng(1).random((8, 8))
    panel.show(image, "first")
    sent = panel.image.data["image"][0]
    panel.show(image.copy(), "second")
    assert panel.image.data["image"][0] is sent and panel.figure.title.text == "second"
    panel.show(image * 0.5, "third")
    assert panel.image.data["image"][0] is not sent
