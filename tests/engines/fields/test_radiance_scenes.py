"""The built-in scenes: pyvista off-screen renders at the engine's cameras, cached on disk.

(lab.fields.scenes makes the engine's data; its tests sit with the engine's radiance tests.)
"""
import numpy as np
import pytest
import trimesh

from engines.errors import InvalidInputError
from lab.fields import scenes


def test_renders_match_the_engine_cameras_pixel_for_pixel():
    data = scenes.render_scene("airplane", n_train=3, n_test=1, size=32, supersample=1)
    assert data.train.images.shape == (3, 32, 32, 3) and data.test.depths.shape == (1, 32, 32)
    # the mesh, normalised as the scene normalises it, seen along the engine's own rays
    mesh, _ = scenes._load_mesh("airplane")
    tri = trimesh.Trimesh(np.asarray(mesh.points), mesh.faces.reshape(-1, 4)[:, 1:], process=False)
    for cam, depth in zip(data.train.cameras, data.train.depths):
        origins, dirs = cam.rays()
        hits, ray_index, _ = tri.ray.intersects_location(origins, dirs, multiple_hits=False)
        distance = np.full(len(origins), np.nan)
        distance[ray_index] = np.linalg.norm(hits - origins[ray_index], axis=1)
        seen = np.isfinite(depth.ravel())
        assert (np.isfinite(distance) == seen).mean() > 0.98         # the same silhouette
        both = seen & np.isfinite(distance)
        assert np.abs(distance[both] - depth.ravel()[both]).mean() < 0.02   # the same distances
    # consecutive views differ (each screenshot shows its own camera, not the previous one)
    assert np.abs(data.train.images[0] - data.train.images[1]).mean() > 0.01
    background = ~np.isfinite(data.train.depths)
    assert np.allclose(data.train.images[background], 1.0)   # white background


def test_the_globe_is_textured_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURAL_LAB_CACHE", str(tmp_path))
    first = scenes.load_scene("globe", n_train=2, n_test=1, size=24, background="black")
    cached = list((tmp_path / "radiance").glob("globe-*.npz"))
    assert len(cached) == 1
    again = scenes.load_scene("globe", n_train=2, n_test=1, size=24, background="black")
    assert np.abs(again.train.images - first.train.images).max() <= 0.5 / 255 + 1e-6
    assert np.allclose(again.train.depths, first.train.depths, equal_nan=True)
    seen = np.isfinite(first.train.depths[0])
    assert first.train.images[0][seen].std(axis=0).max() > 0.05     # the earth map, not a flat colour
    assert np.allclose(first.train.images[0][[0, 0, -1, -1], [0, -1, 0, -1]], 0.0)   # black corners
    assert first.train.images[0][~seen].mean() < 0.05  # only edge pixels, partly covered, are not black
    cached[0].write_bytes(b"damaged")                                 # a damaged cache is rendered again
    assert scenes.load_scene("globe", n_train=2, n_test=1, size=24, background="black").train.images.shape == (2, 24, 24, 3)


def test_unknown_scenes_and_sizes_are_refused():
    with pytest.raises(InvalidInputError, match="unknown scene 'teapot'"):
        scenes.render_scene("teapot")
    with pytest.raises(InvalidInputError, match="8..800 pixels"):
        scenes.render_scene("globe", size=4)


def test_uploads_and_the_data_folder_obey_the_lab_limits(tmp_path, monkeypatch):
    from engines.fields.radiance import blob_dataset
    from tests.engines.fields.test_radiance_loaders import tiny_npz, write_nerf_synthetic, zip_folder
    scene = blob_dataset(n_train=4, n_test=1, size=12, n_blobs=2, n_samples=64, background="white")
    upload = zip_folder(write_nerf_synthetic(tmp_path / "data" / "lego", scene))
    read = scenes.load_upload("lego.zip", upload, size=12)
    assert read.train.images.shape == (4, 12, 12, 3)
    assert len(scenes.load_upload("tiny.npz", tiny_npz(scene), size=12).train) > 0
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", str(len(upload) / 2 ** 20 / 2))
    with pytest.raises(InvalidInputError, match="lego.zip .*limited to"):
        scenes.load_upload("lego.zip", upload)
    monkeypatch.delenv("NEURAL_LAB_UPLOAD_MB")
    with pytest.raises(InvalidInputError, match="notes.txt: upload a .zip"):
        scenes.load_upload("notes.txt", b"hello")
    with pytest.raises(InvalidInputError, match="broken.zip is not a readable zip"):
        scenes.load_upload("broken.zip", b"PK not really")
    monkeypatch.delenv("NEURAL_LAB_DATA", raising=False)
    with pytest.raises(InvalidInputError, match="switched off"):
        scenes.load_server_data("lego")
    monkeypatch.setenv("NEURAL_LAB_DATA", str(tmp_path / "data"))
    assert scenes.load_server_data("lego", size=12).train.images.shape == (4, 12, 12, 3)
    with pytest.raises(InvalidInputError, match="outside"):
        scenes.load_server_data(str(tmp_path))
