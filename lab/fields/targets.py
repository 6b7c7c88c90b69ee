"""What a field learns: image and shape targets from bundled names or uploaded bytes.

Uploads arrive as bytes and a file name. They are checked (extension, size, pixel count)
before decoding, written to a private temporary file for the engine's readers, and any failure
becomes an ``InvalidInputError`` with a message for the user.
"""
from __future__ import annotations

import os
import tempfile
import warnings

from PIL import Image

from engines.errors import InvalidInputError
from engines.fields.images import BUNDLED_IMAGES, ImageTarget
from engines.fields.sdf import CREATION_SHAPES, SdfTarget, bundled_meshes
from engines.fields.shapes import ANALYTIC_SHAPES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MESH_EXTENSIONS = (".ply", ".stl", ".obj", ".off")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 80_000_000       # decoding more would take gigabytes; larger images are refused
SHAPE_POOL = 100_000          # training samples precomputed per shape (ground truth is cached)


def image_sources() -> list[str]:
    return list(BUNDLED_IMAGES)


def shape_sources() -> list[str]:
    """Analytic shapes first (exact SDF, fast), then trimesh shapes, then pyvista's meshes."""
    return list(ANALYTIC_SHAPES) + list(CREATION_SHAPES) + list(bundled_meshes())


def _check_upload(data: bytes, filename: str, allowed: tuple) -> str:
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in allowed:
        raise InvalidInputError(f"{filename or 'the file'} is not supported: upload one of "
                                f"{', '.join(e.lstrip('.').upper() for e in allowed)}")
    if not data:
        raise InvalidInputError(f"{filename} is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"{filename} is {len(data) / 2**20:.0f} MB; the limit is "
                                f"{MAX_UPLOAD_BYTES // 2**20} MB")
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
