"""Field evaluation on a 3-D lattice, marching cubes (scikit-image) and atomic exports."""
from __future__ import annotations

import io
import os

import numpy as np
import torch
import trimesh
import imageio.v3 as iio
from skimage.measure import marching_cubes

from ..errors import InvalidInputError
from ..files import atomic_write_bytes
from .devices import field_device


def grid_points(res: int) -> np.ndarray:
    """(res^3, 3) lattice points spanning [-1, 1]^3, x slowest (matches reshape to (res,)*3)."""
    axis = np.linspace(-1, 1, res)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)


@torch.no_grad()
def evaluate_grid(field, res: int, chunk: int = 1 << 17) -> np.ndarray:
    """The field's values (on any device) on a res^3 lattice, as a (res, res, res) float32 array."""
    # dense-grid fields have a faster structured path giving the same values
    on_lattice = getattr(field, "on_lattice", None)
    values = on_lattice(res) if on_lattice is not None else None
    if values is not None:
        return values[:, 0].reshape(res, res, res).cpu().numpy()
    pts = torch.as_tensor(grid_points(res), dtype=torch.float32).to(field_device(field))
    out = torch.cat([field(c)[:, 0] for c in pts.split(chunk)])
    return out.reshape(res, res, res).cpu().numpy()


def marching_cubes_from_values(values: np.ndarray, res: int, level: float = 0.0):
    """(vertices in [-1, 1]^3, faces) of the ``level`` set, or None when it is empty."""
    if not (values.min() < level < values.max()):
        return None
    verts, faces, _, _ = marching_cubes(values, level=level, spacing=(2 / (res - 1),) * 3)
    # skimage orients faces for increasing values outward; flip so normals point outside (sdf > 0)
    return verts - 1.0, faces[:, ::-1].copy()


def preview_surface(field, res: int, max_points: int = 50_000):
    """A live isosurface: (vertices, faces, res) of the zero level set, or None when it is empty.

    A noisy early field can have a huge surface: the same samples are coarsened (every other
    lattice point) until it has at most ``max_points`` vertices or the lattice is 16 or less.
    """
    values = evaluate_grid(field, res)
    found = marching_cubes_from_values(values, res)
    while found is not None and len(found[0]) > max_points and res > 16:
        values = values[::2, ::2, ::2]
        res = values.shape[0]
        found = marching_cubes_from_values(values, res)
    return None if found is None else (found[0], found[1], res)


@torch.no_grad()
def slice_plane(field, z: float, res: int) -> np.ndarray:
    """A 3-D field on the plane z = ``z`` as a (res, res) array: rows follow y, columns follow x."""
    axis = torch.linspace(-1, 1, res)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([xs.reshape(-1), ys.reshape(-1), torch.full((res * res,), float(z))], dim=1)
    return field(pts.to(field_device(field)))[:, 0].reshape(res, res).cpu().numpy()


def extract_mesh(field, res: int = 128):
    """Marching cubes of the field's zero level set; returns a trimesh.Trimesh or None."""
    found = marching_cubes_from_values(evaluate_grid(field, res), res)
    return None if found is None else trimesh.Trimesh(*found, process=False)


def export_mesh(mesh: trimesh.Trimesh, path: str) -> None:
    """Write a mesh as PLY or STL (chosen by the extension), atomically."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in ("ply", "stl"):
        raise InvalidInputError(f"meshes export as .ply or .stl, not .{ext or '?'}")
    atomic_write_bytes(path, mesh.export(file_type=ext))


def export_png(image: np.ndarray, path: str) -> None:
    """Write an image in [0, 1] as an 8-bit PNG, atomically."""
    buf = io.BytesIO()
    iio.imwrite(buf, (np.clip(image, 0, 1) * 255).round().astype(np.uint8), extension=".png")
    atomic_write_bytes(path, buf.getvalue())
