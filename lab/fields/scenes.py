"""The radiance task's built-in scenes: multi-view renders of meshes bundled with pyvista.

Why here and not in engines/: the renders go through pyvista (off-screen VTK; software EGL on
these machines), and engines import no UI library. pyvista is the well-kept way to read the
bundled meshes and their texture, set a camera from a pose and read the z-buffer back as depth;
doing the same in raw VTK would repeat what pyvista already does. This module only *makes*
data: what it returns is an ``engines.fields.radiance.RadianceDataset`` of plain arrays, and the
engine never imports it.

Scenes (SCENES): the textured globe (pyvista's globe.vtk with its 2k_earth_daymap.jpg), the
airplane, the ant and the nut, each centred and scaled into the unit sphere, lit by fixed
lights in the world (diffuse only, so a surface looks the same from every side, as a
view-independent colour head assumes). Cameras sit on a sphere around the scene, like the NeRF
"synthetic" scenes: n_train training views and n_test held-out views between them. Each image
is rendered at ``supersample`` x its size and averaged down (anti-aliased, as a camera sees).
Depth (distance along each pixel's ray, nan where nothing is hit) is kept.

Renders are cached as .npz under the user's cache folder (``NEURAL_LAB_CACHE`` or
~/.cache/neural_lab, then radiance/), written atomically; the key covers every argument and the
pyvista / VTK versions.

Users' data, with the lab's limits (lab.settings): ``load_upload(filename, data)`` (a zip in
either layout, or a tiny_nerf .npz; refused over the upload limit, unpacked at most to the
dataset limit) and ``load_server_data(path)`` (a folder, .zip or .npz inside the operator's data
folder). Both raise InvalidInputError with a message naming the file and field.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from engines.errors import InvalidInputError
from engines.fields.radiance import (RadianceDataset, SceneBox, Views, background_colour, load_radiance_data,
                                     load_tiny_nerf, sphere_cameras)
from engines.fields.radiance.sources import ZipSource
from engines.files import atomic_write_bytes
from lab.recordings import server_path
from lab.settings import current
from lab.uploads import check_size

UPLOAD_ACCEPT = ".zip,.npz"   # the upload widget's accept filter

SCENES = {
    # name: (file in pyvista's examples folder, texture file or None, colour of an untextured mesh)
    "globe": ("globe.vtk", "2k_earth_daymap.jpg", None),
    "airplane": ("airplane.ply", None, (0.85, 0.55, 0.25)),
    "ant": ("ant.ply", None, (0.75, 0.2, 0.15)),
    "nut": ("nut.ply", None, (0.6, 0.65, 0.75)),
}
DEFAULT_SCENE = "globe"
CACHE_VERSION = 2            # bump when the renders change
CAMERA_DISTANCE = 3.5        # scene scaled into the unit sphere; 40 degree views see it whole
FOV_DEG = 40.0
BOX_HALF = 1.05              # the scene box: a cube a little larger than the unit sphere
TEST_TURN_DEG = 17.0         # held-out cameras: another lattice, turned about z


def cache_dir() -> Path:
    root = os.environ.get("NEURAL_LAB_CACHE") or Path.home() / ".cache" / "neural_lab"
    return Path(root) / "radiance"


def _examples_folder() -> Path:
    import pyvista.examples
    return Path(pyvista.examples.__file__).parent


def _load_mesh(name: str):
    import pyvista as pv
    mesh_file, texture_file, _ = SCENES[name]
    mesh = pv.read(_examples_folder() / mesh_file)
    centre = np.asarray(mesh.center)
    radius = float(np.linalg.norm(np.asarray(mesh.points) - centre, axis=1).max())
    mesh.points = (np.asarray(mesh.points) - centre) / radius
    texture = pv.read_texture(_examples_folder() / texture_file) if texture_file else None
    return mesh, texture


def _plotter(name: str, size: int, background: np.ndarray):
    import pyvista as pv
    mesh, texture = _load_mesh(name)
    plotter = pv.Plotter(off_screen=True, window_size=(size, size), lighting=None)
    # no MSAA: the z-buffer would be read at one sub-sample, off the pixel centre by ~0.4 pixel
    # (anti-aliasing comes from rendering ``supersample`` times larger and averaging instead)
    plotter.ren_win.SetMultiSamples(0)
    colour = SCENES[name][2]
    plotter.add_mesh(mesh, texture=texture, color=None if texture is not None else colour,
                     ambient=0.35, diffuse=0.75, specular=0.0, smooth_shading=True)
    for position, intensity in (((1.0, 0.6, 1.2), 0.8), ((-1.0, -0.8, -0.3), 0.45)):
        plotter.add_light(pv.Light(position=position, focal_point=(0, 0, 0), intensity=intensity,
                                   light_type="scene light"))
    plotter.set_background(tuple(float(c) for c in background))
    return plotter


def _shoot(plotter, camera, supersample: int) -> tuple[np.ndarray, np.ndarray]:
    """One camera's image (H, W, 3) in [0, 1] and ray distance (H, W), averaged down."""
    pv_cam = plotter.camera
    position = camera.position
    pv_cam.position = tuple(position)
    pv_cam.focal_point = tuple(position - camera.c2w[:3, 2])
    pv_cam.up = tuple(camera.c2w[:3, 1])
    pv_cam.view_angle = camera.vertical_fov_deg
    plotter.reset_camera_clipping_range()
    plotter.render()  # without it the screenshot can return the previous camera's frame
    image = plotter.screenshot(return_img=True)[..., :3].astype(np.float32) / 255
    z = -np.asarray(plotter.get_image_depth(fill_value=np.nan), dtype=np.float32)
    s = supersample
    h, w = camera.height, camera.width
    image = image.reshape(h, s, w, s, 3).mean(axis=(1, 3))
    blocks = z.reshape(h, s, w, s)
    hits = np.isfinite(blocks).sum(axis=(1, 3))
    z_mean = np.where(np.isfinite(blocks), blocks, 0).sum(axis=(1, 3)) / np.maximum(hits, 1)
    z_mean[hits < s * s / 2] = np.nan  # a pixel mostly on the background has no depth
    return image, camera.z_to_distance(z_mean).astype(np.float32)


def render_scene(name: str = DEFAULT_SCENE, n_train: int = 100, n_test: int = 20, size: int = 100,
                 background="white", supersample: int = 2) -> RadianceDataset:
    """Render ``name`` from n_train + n_test cameras on a sphere (no cache)."""
    if name not in SCENES:
        raise InvalidInputError(f"unknown scene {name!r}; choose one of {', '.join(SCENES)}")
    if not (8 <= size <= 800 and 1 <= n_train <= 1000 and 1 <= n_test <= 200 and 1 <= supersample <= 4):
        raise InvalidInputError("scene renders take 8..800 pixels, 1..1000 training and 1..200 held-out views")
    bg = background_colour(background)
    plotter = _plotter(name, size * supersample, bg)
    try:
        train = sphere_cameras(n_train, CAMERA_DISTANCE, size, FOV_DEG, offset=0.5)
        turn = np.radians(TEST_TURN_DEG)
        rot = np.eye(4)
        rot[:2, :2] = [[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]
        test = [type(c)(rot @ c.c2w, c.width, c.height, c.fx, c.fy, c.cx, c.cy)
                for c in sphere_cameras(n_test, CAMERA_DISTANCE, size, FOV_DEG, offset=0.0)]

        def views(cameras):
            shots = [_shoot(plotter, cam, supersample) for cam in cameras]
            return Views(np.stack([s[0] for s in shots]), cameras, np.stack([s[1] for s in shots]))

        return RadianceDataset(name, views(train), views(test), SceneBox((0.0, 0.0, 0.0), BOX_HALF), bg)
    finally:
        plotter.close()


def _cache_key(**arguments) -> str:
    import pyvista
    import vtk
    text = json.dumps({**arguments, "version": CACHE_VERSION, "pyvista": pyvista.__version__,
                       "vtk": vtk.vtkVersion.GetVTKVersion()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_scene(name: str = DEFAULT_SCENE, n_train: int = 100, n_test: int = 20, size: int = 100,
               background="white", supersample: int = 2, cache: Path | None = None) -> RadianceDataset:
    """``render_scene`` through the on-disk cache (rendered once, then read back in ~0.1 s)."""
    bg = background_colour(background)
    arguments = dict(name=name, n_train=n_train, n_test=n_test, size=size, background=bg.tolist(),
                     supersample=supersample)
    path = (cache or cache_dir()) / f"{name}-{_cache_key(**arguments)}.npz"
    if path.is_file():
        try:
            return RadianceDataset.from_npz_bytes(path.read_bytes())
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rendered again and replaced
    dataset = render_scene(name, n_train, n_test, size, bg, supersample)
    try:
        atomic_write_bytes(path, dataset.to_npz_bytes())
    except OSError:
        pass  # a read-only cache only costs a render next time
    return dataset


def load_upload(filename: str, data: bytes, size: int = 100, background="white") -> RadianceDataset:
    """A user's upload: a .zip (NeRF-synthetic layout or a tiny_nerf .npz inside) or a .npz."""
    check_size([(filename, data)])
    limit = current().dataset_limit_bytes
    if filename.lower().endswith(".npz"):
        return load_tiny_nerf(bytes(data), filename, size, background_colour(background), None, limit)
    if not filename.lower().endswith(".zip"):
        raise InvalidInputError(f"{filename}: upload a .zip (transforms_*.json + images, or an .npz) or a "
                                "tiny_nerf_data-style .npz")
    return load_radiance_data(ZipSource(bytes(data), limit, label=filename), size=size, background=background)


def load_server_data(path, size: int = 100, background="white") -> RadianceDataset:
    """A dataset folder, .zip or .npz inside the operator's data folder (refused outside it)."""
    return load_radiance_data(server_path(path), max_bytes=current().dataset_limit_bytes, size=size,
                              background=background)
