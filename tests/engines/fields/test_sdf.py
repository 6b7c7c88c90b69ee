"""SDF targets: ground truth, mesh loading with typed errors, and a sphere that learns."""
import numpy as np
import pytest
import trimesh

from engines.errors import InvalidInputError
from engines.fields import SdfTarget, bundled_meshes, load_mesh, make_trainer
from engines.fields.metrics import iou, surface_metrics
from engines.fields.shapes import box, csg, sphere, torus

SMALL = dict(pool_size=20_000, n_eval=20_000, n_surface=60_000)


def test_analytic_sdfs_are_signed_distances():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.9, 0.0]])
    assert np.allclose(sphere(p, 0.6), [-0.6, 0.4, 0.3])
    assert np.allclose(box(p, (0.5, 0.5, 0.5)), [-0.5, 0.5, 0.4])
    assert torus(np.array([[0.55, 0, 0]]), 0.55, 0.2)[0] == pytest.approx(-0.2)
    assert csg(np.zeros((1, 3)))[0] > 0  # the centre is drilled out


def test_mesh_sdf_matches_the_exact_sphere():
    target = SdfTarget("icosphere", **SMALL)  # normalised to radius 0.99
    p = np.random.default_rng(1).uniform(-1, 1, (3000, 3))
    err = np.abs(target.sdf(p) - (np.linalg.norm(p, axis=1) - 0.99))
    assert np.median(err) < 0.01 and np.percentile(err, 99) < 0.03
    true = np.linalg.norm(p, axis=1) - 0.99
    clear = np.abs(true) > 0.01  # the icosphere's facets sit up to ~1e-3 inside the sphere
    assert (np.sign(target.sdf(p)[clear]) == np.sign(true[clear])).all()


def test_mesh_is_normalised_into_radius_099():
    target = SdfTarget("trimesh_box", **SMALL)
    assert np.linalg.norm(target.mesh.vertices, axis=1).max() == pytest.approx(0.99)
    assert np.allclose(target.mesh.bounds.mean(0), 0, atol=1e-9)


def test_sample_pool_is_four_three_one():
    target = SdfTarget("sphere", pool_size=8000, n_eval=1000)
    y = target.pool_y[:, 0].numpy()
    assert np.abs(y[:4000]).max() < 0.02                  # on the surface
    assert 0.005 < np.abs(y[4000:7000]).mean() < 0.02     # N(0, 0.01^2) around it
    assert np.abs(y[7000:]).mean() > 0.1                  # uniform in the cube


def test_bundled_pyvista_meshes_are_found_and_read():
    meshes = bundled_meshes()
    assert {"ant", "nut"} <= set(meshes)
    assert len(load_mesh("ant").faces) > 100


def test_open_mesh_trains_with_a_warning():
    mesh = trimesh.creation.icosphere(subdivisions=2)
    mesh.update_faces(np.arange(len(mesh.faces)) > 5)  # punch a hole
    with pytest.warns(UserWarning, match="not watertight"):
        target = SdfTarget(mesh, **SMALL)
    assert "not watertight" in target.notice


@pytest.mark.parametrize("source, message", [
    ((np.zeros((3, 3)), np.zeros((0, 3), int)), "empty"),
    ((np.zeros((4, 3)), np.array([[0, 1, 2, 3]])), "triangle"),
    ((np.zeros((3, 3)), np.array([[0, 1, 2]])), "degenerate"),
    ((np.eye(3), np.array([[0, 1, 7]])), "do not exist")])
def test_bad_meshes_raise_typed_errors(source, message):
    with pytest.raises(InvalidInputError, match=message):
        SdfTarget(source, **SMALL)


def test_bad_mesh_files_raise_typed_errors(tmp_path):
    garbage = tmp_path / "broken.stl"
    garbage.write_bytes(b"\x00\x01 not a mesh at all")
    with pytest.raises(InvalidInputError):
        load_mesh(str(garbage))
    cloud = tmp_path / "cloud.ply"
    trimesh.PointCloud(np.random.default_rng(0).random((20, 3))).export(cloud)
    with pytest.raises(InvalidInputError, match="no triangle faces"):
        load_mesh(str(cloud))
    with pytest.raises(InvalidInputError, match="no mesh file"):
        load_mesh(str(tmp_path / "missing.obj"))


def test_surface_metrics_of_identical_and_shifted_surfaces():
    pts, faces = trimesh.sample.sample_surface(trimesh.creation.icosphere(), 5000, seed=0)
    normals = trimesh.creation.icosphere().face_normals[faces]
    same = surface_metrics(pts, normals, pts, normals)
    assert same["chamfer_l1"] == 0 and same["normal_consistency"] == pytest.approx(1.0)
    shifted = surface_metrics(pts + [0.05, 0, 0], normals, pts, normals, thresholds=(0.01,))
    assert shifted["chamfer_l1"] > 0.01 and shifted["fscore@0.01"] < 0.5
    assert iou(np.array([-1, -1, 1]), np.array([-1, 1, 1])) == pytest.approx(0.5)


def test_analytic_sphere_learns_past_iou_09():
    target = SdfTarget("sphere", **SMALL)
    # 500 steps at GNF's recorded shape rate (1e-3, chosen by IoU after 15 s of CPU time)
    trainer = make_trainer("gnf", target, param_budget=60_000, seed=0, total_steps=500, batch_size=4096)
    trainer.step(500)
    result = trainer.evaluate(mesh_res=48, n_surface=5000)
    assert result["iou"] > 0.9 and result["chamfer_l1"] < 0.05
    mesh, vertex_error = trainer.mesh(res=40)
    assert len(mesh.faces) > 100 and vertex_error.shape == (len(mesh.vertices),)
