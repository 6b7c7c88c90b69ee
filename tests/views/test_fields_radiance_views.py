"""The fields room's radiance views without a browser: its exports (shown for radiance only, a
valid orbit GIF), and the 3-D view's cameras and density surface extracted on demand."""
import base64
import io

import panel as pn
import pytest
import torch
from PIL import Image

from engines.fields.radiance.export import mp4_available
from lab.fields import FieldsRoom
from lab.fields.radiance import ORBIT_FRAMES
from lab.fields.targets import BLOBS
from views.fields.controls import Download, downloads
from views.fields.room import FieldsRoomView

torch.set_num_threads(1)
RADIANCE_EXPORTS = {"fields-export-orbit-gif", "fields-export-density-ply"}


@pytest.fixture
def blobs():
    room = FieldsRoom(task="radiance", scene_source=BLOBS, scene_size=24, scene_views=16, preview_size=32,
                      full_resolution=48)
    yield room
    room.close()


def shown_exports(column: pn.Column) -> set[str]:
    return {w.css_classes[0] for w in column.select(Download) if w.visible}


def transfer(button: Download) -> bytes | None:
    """Press a download as the browser does; the file it sends (None: refused)."""
    button.data = None
    button._clicks += 1
    return base64.b64decode(button.data.split(",", 1)[1]) if button.data else None


def test_radiance_exports_are_shown_for_the_radiance_task_only():
    model = FieldsRoom(image_size=32)
    column = downloads(model)
    assert not shown_exports(column) & RADIANCE_EXPORTS
    model.task = "radiance"
    shown = shown_exports(column)
    assert RADIANCE_EXPORTS <= shown and "fields-export-png" not in shown and "fields-export-ply" not in shown
    assert ("fields-export-orbit-mp4" in shown) == mp4_available()   # offered only where it can be written
    for task in ("shape", "flatland"):
        model.task = task
        assert not shown_exports(column) & RADIANCE_EXPORTS


def test_radiance_exports_before_training_are_refused_without_a_traceback(blobs, caplog):
    buttons = {w.css_classes[0]: w for w in downloads(blobs).select(Download)}
    for name in RADIANCE_EXPORTS:
        assert transfer(buttons[name]) is None
    assert "press Train or Step first" in caplog.text and "Traceback" not in caplog.text


def test_the_orbit_gif_download_is_an_animation_of_the_orbit(blobs):
    blobs.step(20)
    button = next(w for w in downloads(blobs).select(Download) if "fields-export-orbit-gif" in w.css_classes)
    gif = Image.open(io.BytesIO(transfer(button)))
    assert gif.format == "GIF" and gif.n_frames == ORBIT_FRAMES and gif.size == (32, 32)
    gif.seek(ORBIT_FRAMES // 4)
    quarter = gif.convert("RGB").tobytes()
    gif.seek(0)
    assert quarter != gif.convert("RGB").tobytes()   # the camera goes round: the frames differ


def test_the_3d_view_draws_the_cameras_and_the_density_surface_extracted_on_demand(blobs):
    view = FieldsRoomView(blobs)
    scene = view.shape_view.radiance
    assert view.shape_box.visible and not view.shape_view.controls.visible   # shape's checkboxes are not radiance's
    assert scene.cameras.n_lines == 16 * 8 and scene.novel.n_lines == 8      # 8 edges per pyramid
    assert "No density surface yet" in view.shape_view.caption.object
    view.density.extract()                        # nothing trained: refused, said, nothing drawn
    view.density.join(30)
    assert blobs.density_surface is None and scene.surface.n_points == 3
    before = scene.novel.points.copy()
    blobs.azimuth += 90                           # the novel camera moves round
    assert abs(scene.novel.points - before).max() > 1
    blobs.step(150)
    view.density.extract()
    view.density.join(60)
    assert scene.surface.n_points > 100 and "at step 150: " in view.shape_view.caption.object
    ply = next(w for w in downloads(blobs).select(Download) if "fields-export-density-ply" in w.css_classes)
    assert transfer(ply)[:3] == b"ply"
    bounds = scene.surface.bounds                 # the blobs sit inside the box [-1, 1]^3
    assert -1 <= min(bounds) and max(bounds) <= 1
    blobs.reset()
    assert blobs.density_surface is None
