"""A radiance field learns a small scene, under the fields Trainer's contract."""
import numpy as np
import pytest
import torch

from engines.errors import DivergenceError, InvalidInputError
from engines.fields.radiance import (BlobScene, RadianceTrainer, RenderSettings, blob_dataset,
                                     build_radiance_field, sphere_cameras)
from engines.fields.radiance.flatland import flatland_scene, flatland_state, flatland_trainer
from engines.fields.radiance.metrics import field_error


@pytest.fixture(scope="module")
def blobs():
    return blob_dataset(n_train=16, n_test=3, size=24, n_blobs=3, n_samples=192)


def small_trainer(data, name="gnf", **kwargs):
    model = build_radiance_field(name, param_budget=60_000, seed=0)
    kwargs.setdefault("settings", RenderSettings(n_samples=32))
    return RadianceTrainer(model, data, batch_rays=512, total_steps=60, seed=0, **kwargs)


def test_blob_scene_views_show_the_blobs(blobs):
    assert blobs.train.images.shape == (16, 24, 24, 3) and blobs.test.images.shape == (3, 24, 24, 3)
    assert blobs.train.images.max() > 0.3 and blobs.train.images.min() < 0.05   # colour on black
    assert np.isfinite(blobs.train.depths).any() and not np.isfinite(blobs.train.depths).all()
    exact = field_error(BlobScene(3, 3, 0), blobs.true_density, 3, res=16)
    assert exact["density_mae"] == 0 and exact["density_correlation"] == pytest.approx(1.0)


def test_a_small_scene_learns_past_a_psnr_bar(blobs):
    trainer = small_trainer(blobs)
    before = trainer.evaluate()
    trainer.step(60)  # ~30 dB after 60 steps of 512 rays (a few CPU seconds)
    after = trainer.evaluate()
    assert after["psnr"] > 25 and after["psnr"] > before["psnr"] + 8
    assert after["density_mae_share"] < before["density_mae_share"]
    assert np.isfinite(after["depth_mae"]) and after["depth_coverage"] > 0.5


def test_the_trainer_contract_views_and_checkpoints(blobs, tmp_path):
    trainer = small_trainer(blobs)
    trainer.step(20)
    shot = trainer.snapshot(preview_res=16)
    assert shot.step == 20 and shot.preview.shape == (16, 16, 3) and "train_psnr" in shot.metrics
    view = trainer.render_view(azimuth=45, elevation=10, size=12)
    assert view["rgb"].shape == (12, 12, 3) and view["depth"].shape == (12, 12)
    held = trainer.held_out_view(1)
    assert held["error"].shape == (24, 24) and held["truth"] is not None and np.isfinite(held["psnr"])
    assert trainer.train_frustums().shape == (16, 5, 3)
    path = tmp_path / "radiance.pt"
    trainer.save(path)
    again = small_trainer(blobs)
    again.load(path)
    assert again.step_count == 20
    assert torch.equal(again.occupancy.mask, trainer.occupancy.mask)
    assert np.allclose(again.render_view(45, 10, 12)["rgb"], view["rgb"], atol=1e-6)
    with pytest.raises(InvalidInputError):
        small_trainer(blobs, name="grid_mlp").load(path)


def test_an_orbit_exports_as_a_gif_and_as_mp4_where_ffmpeg_is_installed(blobs, tmp_path):
    import imageio.v3 as iio
    from engines.fields.radiance.export import export_animation, mp4_available, orbit_frames
    trainer = small_trainer(blobs)
    trainer.step(10)
    frames = orbit_frames(trainer, n_frames=4, size=12)
    assert frames.shape == (4, 12, 12, 3) and frames.dtype == np.uint8
    export_animation(frames, tmp_path / "orbit.gif")
    assert iio.imread(tmp_path / "orbit.gif", index=None).shape[0] == 4
    if mp4_available():
        export_animation(frames, tmp_path / "orbit.mp4")
        assert (tmp_path / "orbit.mp4").read_bytes()[4:8] == b"ftyp"
    else:
        with pytest.raises(InvalidInputError, match="imageio-ffmpeg"):
            export_animation(frames, tmp_path / "orbit.mp4")
        assert not (tmp_path / "orbit.mp4").exists()


def test_a_diverging_run_is_restored_and_says_so(blobs):
    trainer = small_trainer(blobs)
    trainer.step(30)
    good = {k: v.clone() for k, v in trainer.field.state_dict().items()}
    with torch.no_grad():
        for p in trainer.field.parameters():  # a NaN density must not hide as culled empty space
            p.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="restored"):
        trainer.step(1)
    restored = trainer.field.state_dict()
    assert trainer.step_count == 25 and all(torch.isfinite(v).all() for v in restored.values())
    assert all(torch.equal(restored[k], good[k]) or trainer.step_count < 30 for k in good)


def test_density_isosurface_wraps_the_blobs(blobs):
    """The isosurface at half the learned density at the densest blob's centre surrounds that
    centre, in world coordinates, with normals pointing away from it (levels are relative to what
    the field has learned, so the test does not hang on how far 60 steps got)."""
    trainer = small_trainer(blobs)
    trainer.step(60)
    scene = BlobScene(3, 3, 0)
    centre = scene.centres[scene.peaks.argmax()]
    with torch.no_grad():
        learned = float(trainer.field.density(trainer.box.to_unit(centre[None]))[0])
    volume = trainer.density_volume(24)
    assert learned > 4 * float(np.median(volume))          # the blob is denser than the scene around it
    mesh = trainer.density_mesh(res=32, level=learned / 2)
    assert mesh is not None and len(mesh.faces) > 50
    centre = centre.numpy()
    offsets = mesh.vertices - centre
    nearest = np.linalg.norm(offsets, axis=1) < np.sort(np.linalg.norm(offsets, axis=1))[50] + 1e-9
    assert np.linalg.norm(offsets[nearest], axis=1).max() < 0.6
    outward = (offsets[nearest] * mesh.vertex_normals[nearest]).sum(1)
    assert (outward > 0).mean() > 0.9
    assert trainer.density_mesh(res=16, level=1e9) is None   # nothing that dense: no surface


def test_flatland_learns_the_density_and_shows_one_ray():
    scene = flatland_scene(n_cameras=12, n_pixels=48, n_test=3, n_blobs=3)
    trainer = flatland_trainer("gnf", scene, settings=RenderSettings(n_samples=48), batch_rays=256, total_steps=200)
    start = flatland_state(trainer, camera=3, res=32)["metrics"]["density_mae_share"]
    trainer.step(200)
    state = flatland_state(trainer, camera=3, pixel=20, res=32)
    assert state["metrics"]["density_mae_share"] < min(0.1, start / 2)
    assert state["density"].shape == (32, 32) and state["colour"].shape == (32, 32, 3)
    samples = state["samples"]
    assert samples["points"].shape == (48, 2) and np.all(np.diff(samples["transmittance"]) <= 1e-6)
    assert samples["weights"].sum() <= 1 + 1e-5
    assert np.abs(state["pixel_rendered"] - state["pixel_true"]).max() < 0.2
    assert state["rows"].shape == state["rendered_rows"].shape == (12, 48, 3)
    with pytest.raises(InvalidInputError):
        flatland_state(trainer, camera=12)


def test_a_field_must_match_the_scene_dimension(blobs):
    model = build_radiance_field("gnf", dim=2, param_budget=20_000)
    with pytest.raises(InvalidInputError, match="2-D points"):
        RadianceTrainer(model, blobs)
    assert len(sphere_cameras(5, 3.0)) == 5
