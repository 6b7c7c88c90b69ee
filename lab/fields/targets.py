"""What a field learns: image, shape and radiance targets from bundled names or uploaded bytes.

Uploads arrive as bytes and a file name. They are checked (extension, size, pixel count)
before decoding, written to a private temporary file for the engine's readers, and any failure
becomes an ``InvalidInputError`` with a message for the user.
"""
from __future__ import annotations

import functools
import os
import tempfile
import warnings

from PIL import Image

from engines.errors import InvalidInputError
from engines.fields.images import BUNDLED_IMAGES, ImageTarget
from engines.fields.sdf import CREATION_SHAPES, SdfTarget, bundled_meshes
from engines.fields.shapes import ANALYTIC_SHAPES
from lab.settings import current
from lab.uploads import check_size

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MESH_EXTENSIONS = (".ply", ".stl", ".obj", ".off")
SCENE_EXTENSIONS = (".zip", ".npz")  # NeRF-synthetic layout in a zip, or tiny_nerf_data.npz (alone or zipped)
BLOBS = "blobs (known density)"     # the analytic scene: the learned field itself is scored
RADIANCE_TEST_VIEWS = 20
BLOB_TEST_VIEWS = 10
BLOB_SAMPLES = 128            # samples per ray of the blobs' ground-truth views (the engine's default 384 takes 3x longer)
MAX_PIXELS = 80_000_000       # decoding more would take gigabytes; larger images are refused
SHAPE_POOL = 100_000          # training samples precomputed per shape (ground truth is cached)


def image_sources() -> list[str]:
    return list(BUNDLED_IMAGES)


def shape_sources() -> list[str]:
    """Analytic shapes first (exact SDF, fast), then trimesh shapes, then pyvista's meshes."""
    return list(ANALYTIC_SHAPES) + list(CREATION_SHAPES) + list(bundled_meshes())


def scene_sources() -> list[str]:
    """pyvista's bundled meshes rendered from cameras on a sphere, then the analytic blobs."""
    from lab.fields.scenes import SCENES
    return list(SCENES) + [BLOBS]


def bundled_sources(task: str) -> list[str]:
    return {"image": image_sources, "shape": shape_sources, "radiance": scene_sources}.get(task, list)()


def from_upload(data: bytes, filename: str, image_size: int, seed: int = 0, scene_size: int = 100) -> tuple[str, object]:
    """(task, target) of an uploaded image, mesh or set of posed views, told apart by the file's extension."""
    ext = os.path.splitext(filename or "")[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return "image", image_from_upload(data, filename, image_size)
    if ext in MESH_EXTENSIONS:
        return "shape", shape_from_upload(data, filename, seed)
    if ext in SCENE_EXTENSIONS:
        return "radiance", scene_from_upload(data, filename, scene_size)
    raise InvalidInputError(f"{filename or 'the file'} is not supported: upload an image "
                            f"({_names(IMAGE_EXTENSIONS)}), a mesh ({_names(MESH_EXTENSIONS)}) or posed views "
                            f"({_names(SCENE_EXTENSIONS)})")


def _names(extensions: tuple) -> str:
    return ", ".join(e.lstrip(".").upper() for e in extensions)


def _check_upload(data: bytes, filename: str, allowed: tuple) -> str:
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in allowed:
        raise InvalidInputError(f"{filename or 'the file'} is not supported: upload one of {_names(allowed)}")
    if not data:
        raise InvalidInputError(f"{filename} is empty (0 bytes): nothing to learn from")
    check_size([(filename, data)])  # the lab's one upload limit
    return ext


def _with_temp_file(data: bytes, ext: str, read):
    fd, path = tempfile.mkstemp(suffix=ext)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return read(path)
    finally:
        os.unlink(path)


def _check_pixels(path: str, filename: str) -> None:
    """Read only the header: a huge or corrupt image is refused before it is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
    except Exception as exc:  # PIL raises several types for files it cannot parse
        raise InvalidInputError(f"{filename} is not a readable image ({type(exc).__name__})") from exc
    if width * height > MAX_PIXELS:
        raise InvalidInputError(f"{filename} is {width}x{height} pixels; images up to "
                                f"{MAX_PIXELS // 1_000_000} megapixels are accepted")


def image_target(source: str, size: int) -> ImageTarget:
    if source not in BUNDLED_IMAGES:
        raise InvalidInputError(f"unknown image {source!r}")
    return ImageTarget(source, size=size)


def image_from_upload(data: bytes, filename: str, size: int) -> ImageTarget:
    ext = _check_upload(data, filename, IMAGE_EXTENSIONS)

    def read(path):
        _check_pixels(path, filename)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the size notice is returned on the target
            return ImageTarget(path, size=size)
    return _with_temp_file(data, ext, read)


def shape_target(source: str, seed: int = 0) -> SdfTarget:
    if source not in shape_sources():
        raise InvalidInputError(f"unknown shape {source!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SdfTarget(source, pool_size=SHAPE_POOL, n_eval=50_000, seed=seed)


def shape_from_upload(data: bytes, filename: str, seed: int = 0) -> SdfTarget:
    ext = _check_upload(data, filename, MESH_EXTENSIONS)

    def read(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-watertight: the notice is on the target
            target = SdfTarget(path, pool_size=SHAPE_POOL, n_eval=50_000, seed=seed)
        target.name = os.path.basename(filename)
        return target
    return _with_temp_file(data, ext, read)


def task_of(target) -> str:
    """The task ``target`` was made for: image, shape, radiance or flatland."""
    from lab.fields.radiance_run import is_scene
    if is_scene(target):
        return "radiance" if target.dim == 3 else "flatland"
    return "image" if isinstance(target, ImageTarget) else "shape"


def scene_target(source: str, size: int, views: int):
    """A radiance scene: a bundled mesh rendered from ``views`` cameras (and RADIANCE_TEST_VIEWS
    held out) at ``size`` pixels, cached on disk; or the analytic blobs."""
    from lab.fields.scenes import load_scene
    if source == BLOBS:
        return blob_scene(size, views)
    if source not in scene_sources():
        raise InvalidInputError(f"unknown scene {source!r}")
    return load_scene(source, n_train=views, n_test=RADIANCE_TEST_VIEWS, size=size)


@functools.lru_cache(maxsize=4)
def blob_scene(size: int, views: int):
    """The analytic blobs seen from ``views`` cameras (and BLOB_TEST_VIEWS held out), rendered once
    per size and count in this server (seconds of the lab's own renderer: the room reads them only)."""
    import torch
    from engines.fields.radiance import blob_dataset
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # small ops: one thread is several times faster here, and the server keeps a core
    try:
        return blob_dataset(n_train=views, n_test=BLOB_TEST_VIEWS, size=size, background="white",
                            n_samples=BLOB_SAMPLES)
    finally:
        torch.set_num_threads(threads)


def flatland_target(seed: int = 0):
    """Flatland's scene: 2-D blobs seen by 1-D cameras on a circle."""
    from engines.fields.radiance.flatland import flatland_scene
    scene = flatland_scene(seed=seed)
    scene.seed = seed  # what a checkpoint keeps of it
    return scene


def scene_from_upload(data: bytes, filename: str, size: int):
    """Posed views in a zip (NeRF-synthetic layout, or a tiny_nerf .npz inside) or a tiny_nerf .npz;
    images are scaled to ``size`` pixels on their long side. Bad files raise InvalidInputError
    naming the file and the field."""
    from engines.fields.radiance import load_radiance_data, load_tiny_nerf
    from engines.fields.radiance.sources import ZipSource
    ext = _check_upload(data, filename, SCENE_EXTENSIONS)
    limit = current().upload_limit_bytes
    if ext == ".npz":
        dataset = load_tiny_nerf(data, filename, size=size, max_bytes=limit)
    else:
        dataset = load_radiance_data(ZipSource(data, limit, label=filename), max_bytes=limit, size=size)
    dataset.name = os.path.basename(filename)
    return dataset
