"""The fields room's radiance tasks without a browser: the blobs scene and flatland train in the
room's worker, the novel view follows the camera, and the room goes back to images unharmed."""
import time

import numpy as np
import pytest
import torch

from lab.fields import FieldsRoom
from lab.fields.radiance_run import FlatlandSnapshot, RadianceSnapshot
from lab.fields.targets import BLOBS
from tests.lab.polling import wait_for

torch.set_num_threads(1)


def train(room, timeout=240):
    room.train()
    wait_for(lambda: not room.background.is_alive, timeout)
    assert room.background.state == "finished", room.background.error


@pytest.fixture
def blobs():
    room = FieldsRoom(task="radiance", scene_source=BLOBS, scene_size=24, scene_views=16, preview_size=32, steps=150)
    yield room
    room.close()


def test_the_blobs_scene_learns_and_its_novel_view_follows_the_camera(blobs):
    assert blobs.kind == "radiance" and blobs.target_name == BLOBS and blobs.target.true_density is not None
    blobs.step(1)
    first = blobs.snapshot
    assert isinstance(first, RadianceSnapshot) and first.novel.shape == (32, 32, 3)
    assert first.held_out.shape == first.truth.shape == (24, 24, 3)
    train(blobs)
    time.sleep(3.1)   # the held-out view is rendered again at most every HELD_OUT_INTERVAL while training
    blobs.step(1)
    trained = blobs.snapshot
    assert trained.step == 152 and trained.held_step == 152
    assert trained.psnr > first.psnr + 5, (first.psnr, trained.psnr)
    assert np.isfinite(trained.novel).all() and trained.novel.std() > 0.01   # a picture, not a flat colour
    blobs.azimuth = trained.azimuth + 90    # idle: the room renders the new camera at once
    wait_for(lambda: blobs.snapshot.azimuth == trained.azimuth + 90, 60)
    moved = blobs.snapshot
    assert moved.step == trained.step and not np.allclose(moved.novel, trained.novel, atol=1e-3)
    assert blobs.frustums().shape == (16, 5, 3) and blobs.novel_camera().shape == (5, 3)
    assert blobs.orbit_animation("gif")[:6] in (b"GIF87a", b"GIF89a")


def test_flatland_learns_its_density_and_draws_the_chosen_ray():
    room = FieldsRoom(task="flatland", steps=200, flatland_camera=3, flatland_pixel=40)
    try:
        room.step(1)
        first = room.snapshot
        assert isinstance(first, FlatlandSnapshot) and (first.camera, first.pixel) == (3, 40)
        train(room)
        trained = room.snapshot
        assert trained.step == 201 and trained.psnr > first.psnr + 5, (first.psnr, trained.psnr)
        assert trained.density_error < first.density_error
        samples = trained.state["samples"]
        assert samples["transmittance"][0] == pytest.approx(1.0) and np.all(np.diff(samples["transmittance"]) <= 1e-6)
        checkpoint = room.checkpoint_bytes()
        room.reset()
        room.load_checkpoint(checkpoint, "flatland.pt")
        assert room.kind == "flatland" and room.snapshot.step == trained.step
        assert room.snapshot.psnr == pytest.approx(trained.psnr, abs=0.01)
    finally:
        room.close()


def test_after_a_radiance_scene_the_image_task_trains_as_before(blobs):
    blobs.step(2)
    blobs.param.update(task="image", image_size=32, batch_size=256)
    assert blobs.kind == "image" and blobs.snapshot is None
    blobs.step(5)
    assert blobs.snapshot.step == 5 and blobs.snapshot.reconstruction.shape[:2] == (32, 32)
