"""The fields room's views without a browser: what they draw and which controls they show."""
import numpy as np
import panel as pn
import pytest
from bokeh.models import Range1d

from lab.fields import FieldsRoom
from views.fields.image_view import MAX_ELLIPSES, ImagePanel, ellipse_axes, kernel_data
from views.fields.room import FieldsRoomView, number


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
    kernels = {"kind": "ellipses", "centres": np.zeros((k, 2)), "shapes": np.tile(np.eye(2), (k, 1, 1)),
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
    assert panel.image.data["image"][0] is sent and panel.name.text == "second"
    panel.show(image * 0.5, "third")
    assert panel.image.data["image"][0] is not sent


def test_metrics_not_computed_yet_read_as_a_dash():
    assert number(float("nan"), ".3g") == number(float("inf"), ".4f") == number(None, ".2f", "dB") == "—"
    assert number(31.234, ".2f", "dB") == "31.23 dB"


@pytest.fixture
def view():
    view = FieldsRoomView(FieldsRoom(image_size=40, batch_size=512))
    yield view
    view.model.close()


def widgets_of(view, name):
    return [w for w in view._layout.select(pn.widgets.Widget) if f"fields-{name}" in w.css_classes]


def test_before_training_the_target_is_drawn_and_the_metrics_are_dashes(view):
    view._draw()
    assert view.image_view.target.pane.visible and view.image_view.target.image.data["image"][0].shape == (40, 40)
    assert not view.image_view.recons[0].pane.visible
    assert "PSNR — ·" in view.metric.object and "nan" not in view.metric.object
    assert view.model.process.worker.pid is None


def test_controls_are_shown_only_for_models_that_take_them(view):
    top_k, = widgets_of(view, "top_k")
    adaptive, = widgets_of(view, "adaptive")
    kernels, = widgets_of(view, "n_kernels")
    assert not top_k.visible and not adaptive.visible and kernels.visible
    view.model.model = "neurbf"
    assert top_k.visible and adaptive.visible
    view.model.model = "siren"
    assert not kernels.visible and widgets_of(view, "width")[0].visible


def test_wide_ranges_get_numeric_inputs_and_labels_carry_units(view):
    for name in ("n_kernels", "seed", "batch_size", "learning_rate", "steps", "parameter_budget"):
        widget, = widgets_of(view, name)
        assert isinstance(widget, (pn.widgets.IntInput, pn.widgets.FloatInput)), name
    assert widgets_of(view, "batch_size")[0].name == "Batch size (samples)"
    assert widgets_of(view, "image_size")[0].name == "Image size (pixels, long side)"


def test_a_budget_locks_the_size_knob_it_sets(view):
    resolution, = widgets_of(view, "grid_resolution")
    assert not resolution.disabled
    view.model.same_budget = True
    assert resolution.disabled


def test_compare_in_2d_draws_both_models_each_with_its_error_map(view):
    view.model.compare_model = "grid_mlp"
    view.model.step(2)
    view._draw()
    iv = view.image_view
    assert all(p.pane.visible for p in iv.recons + iv.errors)
    assert iv.recons[1].name.text == "Dense grids + MLP" and "dB" in iv.recons[1].detail.text
    assert iv.errors[1].image.data["image"][0].shape == (40, 40)
    assert "GNF" in view.metric.object and "Dense grids + MLP" in view.metric.object


@pytest.mark.slow
def test_compare_in_3d_draws_both_surfaces(view):
    view.model.param.update(task="shape", compare_model="grid_mlp", preview_resolution=24, batch_size=2048)
    view.model.step(30)
    view._draw()
    model, rival = view.shape_view.runs
    assert model.surface.n_points > 3 and rival.surface.n_points > 3
    assert rival.surface.points[:, 0].min() > model.surface.points[:, 0].max()  # beside, not on top
    assert view.shape_box.visible and not view.image_box.visible
    view.model.task = "image"
    view._draw()
    assert view.image_box.visible and not view.shape_box.visible


def test_the_upload_note_says_what_each_task_takes_and_the_chooser_offers_it():
    from views.fields.controls import UPLOAD_ACCEPT, target_card
    model = FieldsRoom(image_size=32)
    upload, status = pn.widgets.FileInput(), pn.pane.Markdown()
    card = target_card(model, upload, status)
    note = next(p for p in card.select(pn.pane.Markdown) if "fields-upload-note" in p.css_classes)
    assert "image" in note.object and upload.visible
    model.task = "radiance"
    assert "NeRF-synthetic" in note.object and "mesh" not in note.object and upload.visible
    assert ".zip" in UPLOAD_ACCEPT and ".npz" in UPLOAD_ACCEPT
    model.task = "flatland"
    assert "nothing to upload" in note.object and not upload.visible
