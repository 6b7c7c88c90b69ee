"""SDF targets: analytic shapes or triangle meshes, with a precomputed pool of training samples.

Meshes come from a file (PLY/STL/OBJ/OFF via trimesh), from the meshes bundled inside the
pyvista package (found with importlib, read with trimesh: pyvista itself is not imported), from
``trimesh.creation`` or from (vertices, faces) arrays. A mesh is centred and scaled into a sphere
of radius 0.99. Ground truth is computed once for a pool of samples drawn 4:3:1 (surface : surface
+ N(0, 0.01^2) : uniform), so each training step only indexes the pool.

Mesh distances use a KD-tree over dense surface samples with their normals: point-to-plane near
the surface (accurate to the sample spacing squared), point-to-point farther away. The sign comes
from a flood fill of the voxelised mesh for far points, and from the nearest normal near the
surface. A mesh with holes cannot be flood filled: it trains with normal-based signs only, and a
warning says so.
"""
from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np
import torch
import trimesh
from scipy import ndimage
from scipy.spatial import cKDTree

from ..errors import InvalidInputError
from .shapes import ANALYTIC_SHAPES

CREATION_SHAPES = {
    "icosphere": lambda: trimesh.creation.icosphere(subdivisions=4),
    "capsule": lambda: trimesh.creation.capsule(height=1.0, radius=0.4),
    "cone": lambda: trimesh.creation.cone(radius=0.6, height=1.2),
    "cylinder": lambda: trimesh.creation.cylinder(radius=0.5, height=1.2),
    "trimesh_torus": lambda: trimesh.creation.torus(major_radius=0.6, minor_radius=0.2),
    "trimesh_box": lambda: trimesh.creation.box(extents=(1.0, 0.8, 0.6)),
}


def bundled_meshes() -> dict:
    """Name -> path of the PLY meshes shipped inside the pyvista package (ant, nut, airplane...)."""
    spec = importlib.util.find_spec("pyvista")
    if spec is None or spec.origin is None:
        return {}
    folder = os.path.join(os.path.dirname(spec.origin), "examples")
    return {f[:-4]: os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".ply")}


def load_mesh(source) -> trimesh.Trimesh:
    """A triangle mesh from a path, a bundled or trimesh.creation name, or (vertices, faces)."""
    if isinstance(source, trimesh.Trimesh):
        mesh = source
    elif isinstance(source, tuple) and len(source) == 2:
        vertices, faces = np.asarray(source[0], float), np.asarray(source[1])
        if faces.ndim != 2 or faces.shape[1] != 3 or vertices.ndim != 2 or vertices.shape[1] != 3:
            raise InvalidInputError("a mesh needs (V, 3) vertices and (F, 3) triangle faces")
        if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise InvalidInputError("mesh faces refer to vertices that do not exist")
        mesh = trimesh.Trimesh(vertices, faces, process=False)
    elif isinstance(source, str) and source in CREATION_SHAPES:
        mesh = CREATION_SHAPES[source]()
    elif isinstance(source, str) and source in bundled_meshes():
        mesh = _read_mesh(bundled_meshes()[source])
    elif isinstance(source, (str, os.PathLike)):
        mesh = _read_mesh(source)
    else:
        raise InvalidInputError(f"cannot make a mesh from {source!r}")
    if len(mesh.faces) == 0:
        raise InvalidInputError("the mesh is empty: it has no triangles")
    if mesh.extents is None or float(np.max(mesh.extents)) <= 0 or not np.isfinite(mesh.vertices).all():
        raise InvalidInputError("the mesh is degenerate: it has no extent or non-finite vertices")
    return mesh


def _read_mesh(path) -> trimesh.Trimesh:
    if not os.path.isfile(path):
        raise InvalidInputError(f"no mesh file at {path!s}")
    try:
        loaded = trimesh.load(path, force="mesh")
    except Exception as exc:  # trimesh raises many types for bad files
        raise InvalidInputError(f"{os.path.basename(str(path))} is not a readable mesh ({exc})") from exc
    if not isinstance(loaded, trimesh.Trimesh) or len(getattr(loaded, "faces", ())) == 0:
        raise InvalidInputError(f"{os.path.basename(str(path))} holds no triangle faces (a point cloud or empty file?)")
    return loaded


def normalise_mesh(mesh: trimesh.Trimesh, radius: float = 0.99) -> trimesh.Trimesh:
    """Centre the bounding box at 0 and scale so the farthest vertex lies at ``radius``."""
    mesh = mesh.copy()
    mesh.apply_translation(-mesh.bounds.mean(0))
    mesh.apply_scale(radius / np.linalg.norm(mesh.vertices, axis=1).max())
    return mesh


class MeshDistance:
    """Approximate signed distance to a mesh from dense surface samples (see module doc).

    A voxel grid holds the samples; its Euclidean distance transform gives far distances and its
    flood fill gives inside/outside, so the KD-tree is only asked about points near the surface
    (a nearest-neighbour search from far away is slow for thin shapes).
    """

    def __init__(self, mesh: trimesh.Trimesh, n_surface: int = 300_000, voxel_res: int = 128, seed: int = 0):
        self.points, faces = trimesh.sample.sample_surface(mesh, n_surface, seed=seed)
        self.normals = mesh.face_normals[faces]
        self.tree = cKDTree(self.points, balanced_tree=False)
        self.watertight = bool(mesh.is_watertight)
        self.res, self.voxel = voxel_res, 2.0 / voxel_res
        wall = np.zeros((voxel_res,) * 3, bool)
        wall[tuple(self._cells(self.points).T)] = True
        self.far_distance = ndimage.distance_transform_edt(~wall).astype(np.float32) * self.voxel
        # a 2-voxel-thick wall closes gaps between sparse samples so the fill cannot leak inside
        self.voxel_sign = self._flood_fill(self.far_distance <= 2 * self.voxel)

    def _cells(self, p: np.ndarray) -> np.ndarray:
        return np.clip(((p + 1) / self.voxel).astype(int), 0, self.res - 1)

    @staticmethod
    def _flood_fill(wall: np.ndarray) -> np.ndarray:
        """+1 outside, -1 inside, 0 on the wall; free space reached from the border is outside."""
        labels, _ = ndimage.label(~wall)
        border = np.unique(np.concatenate([labels[[0, -1]].ravel(), labels[:, [0, -1]].ravel(),
                                           labels[:, :, [0, -1]].ravel()]))
        outside = np.isin(labels, border[border > 0])
        return np.where(wall, 0, np.where(outside, 1, -1)).astype(np.int8)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        cell = self._cells(p)
        far = self.far_distance[tuple(cell.T)]
        sign = self.voxel_sign[tuple(cell.T)].astype(float)
        sdf = np.where(sign == 0, 1.0, sign) * far
        near = far < 4 * self.voxel
        dist, idx = self.tree.query(p[near], distance_upper_bound=6 * self.voxel)
        found = np.isfinite(dist)
        q, dist, idx = p[near][found], dist[found], idx[found]
        plane = ((q - self.points[idx]) * self.normals[idx]).sum(1)
        local = np.where(dist < 0.02, plane, np.where(plane < 0, -dist, dist))
        decided = self.voxel_sign[tuple(self._cells(q).T)]
        use_voxel = (dist >= 0.02) & (decided != 0)  # the flood fill is the safer sign off-surface
        local[use_voxel] = decided[use_voxel] * dist[use_voxel]
        near_idx = np.flatnonzero(near)[found]
        sdf[near_idx] = local
        return sdf


class SdfTarget:
    """A 3-D shape as a signed distance target with a precomputed 4:3:1 sample pool."""

    in_dim, out_dim = 3, 1

    def __init__(self, source="csg", pool_size: int = 200_000, n_eval: int = 100_000, seed: int = 0,
                 n_surface: int = 300_000):
        rng = np.random.default_rng(seed)
        self.notice = None
        if isinstance(source, str) and source in ANALYTIC_SHAPES:
            self.name, self.mesh = source, None
            self.sdf = ANALYTIC_SHAPES[source]
            surface = self._analytic_surface(rng, pool_size)
        else:
            self.mesh = normalise_mesh(load_mesh(source))
            self.name = source if isinstance(source, str) else "mesh"
            self.sdf = MeshDistance(self.mesh, n_surface=max(n_surface, pool_size), seed=seed)
            if not self.sdf.watertight:
                self.notice = "the mesh is not watertight: inside/outside is guessed from surface normals"
                warnings.warn(self.notice)
            surface = self.sdf.points[rng.choice(len(self.sdf.points), pool_size, replace=False)]
        self.pool_x, self.pool_y = self._make_pool(rng, surface, pool_size)
        self.eval_x = rng.uniform(-1, 1, (n_eval, 3)).astype(np.float32)
        self.eval_y = self.sdf(self.eval_x.astype(float)).astype(np.float32)
        self._gt_surface = None

    def _analytic_surface(self, rng, n) -> np.ndarray:
        from .meshing import marching_cubes_from_values, grid_points
        res = 128
        mesh = marching_cubes_from_values(self.sdf(grid_points(res)).reshape((res,) * 3), res)
        if mesh is None:
            raise InvalidInputError(f"shape {self.name!r} has no surface inside [-1, 1]^3")
        self.mesh = trimesh.Trimesh(*mesh, process=False)
        return trimesh.sample.sample_surface(self.mesh, n, seed=int(rng.integers(1 << 31)))[0]

    def _make_pool(self, rng, surface: np.ndarray, n: int):
        n_surf, n_near = n // 2, 3 * n // 8
        on = surface[:n_surf]
        near = surface[rng.choice(len(surface), n_near)] + rng.normal(0, 0.01, (n_near, 3))
        uniform = rng.uniform(-1, 1, (n - n_surf - n_near, 3))
        x = np.concatenate([on, near, uniform])
        on_y = np.zeros(len(on)) if isinstance(self.sdf, MeshDistance) else self.sdf(on)
        y = np.concatenate([on_y, self.sdf(near), self.sdf(uniform)])
        return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y[:, None], dtype=torch.float32)

    def sample(self, n: int, generator: torch.Generator):
        idx = torch.randint(len(self.pool_x), (n,), generator=generator)
        return self.pool_x[idx], self.pool_y[idx]

    def init_points(self):
        """Pool points and NeuRBF's k-means weights 1 / (|sdf| + eps): kernels gather at the surface."""
        y = self.pool_y[:, 0].numpy()
        return self.pool_x.numpy(), 1.0 / (np.abs(y) + 1e-2)

    def surface(self, n: int = 100_000, seed: int = 0):
        """Ground-truth surface points and normals for Chamfer / normal consistency / F-score."""
        pts, faces = trimesh.sample.sample_surface(self.mesh, n, seed=seed)
        return pts, self.mesh.face_normals[faces]
