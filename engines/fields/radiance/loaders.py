"""Users' multi-view data in the two layouts people have, from a folder or a zip upload.

- NeRF "synthetic" (Blender) layout, read by nerfstudio and instant-ngp: ``transforms_train.json``,
  ``transforms_test.json`` (or ``_val``), or one ``transforms.json`` (then every 8th frame is held
  out), each with ``camera_angle_x`` (or ``fl_x``/``fl_y``/``cx``/``cy``, also per frame) and
  ``frames`` of ``file_path`` + 4x4 ``transform_matrix`` (OpenGL axes); RGBA or RGB images.
- ``tiny_nerf_data.npz``: ``images`` (N, H, W, 3), ``poses`` (N, 4, 4), ``focal``; the last
  ``n_test`` views are held out. Read with ``allow_pickle=False``: a file cannot run code.

Images are downscaled to ``size`` pixels on their longer side (intrinsics scaled along) and
composited over the background. Anything wrong raises InvalidInputError naming the file and field.
"""
from __future__ import annotations

import io
import json
import math
import posixpath
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from skimage.transform import resize

from ...errors import InvalidInputError
from .cameras import Camera
from .datasets import RadianceDataset, Views, background_colour, box_from_cameras
from .sources import DEFAULT_MAX_BYTES, open_source

MAX_PIXELS = 4096 * 4096            # per image, checked before decoding
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")
PINHOLE_MODELS = ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE")
SPLITS = {"train": ("train",), "test": ("test", "val")}
IMAGE_SUFFIXES = ("", ".png", ".jpg", ".jpeg")


def load_radiance_data(source, max_bytes: int = DEFAULT_MAX_BYTES, size: int | None = 100,
                       background="white", n_test: int | None = None) -> RadianceDataset:
    """A dataset from a folder, a .zip path, zip bytes (an upload) or a .npz path, in either layout."""
    bg = background_colour(background)
    if isinstance(source, (str, Path)) and str(source).lower().endswith(".npz"):
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"no file at {source}")
        if path.stat().st_size > max_bytes:
            raise InvalidInputError(f"{path.name} is over the limit of {max_bytes / 2 ** 20:.0f} MB")
        return load_tiny_nerf(path.read_bytes(), path.name, size, bg, n_test, max_bytes)
    files = open_source(source, max_bytes)
    names = files.names()
    transforms = [n for n in names if posixpath.basename(n) in ("transforms_train.json", "transforms.json")]
    if transforms:
        root = posixpath.dirname(min(transforms, key=lambda n: (n.count("/"), n)))
        return load_nerf_synthetic(files, root, size, bg)
    npz = [n for n in names if n.lower().endswith(".npz")]
    if npz:
        return load_tiny_nerf(files.read(npz[0]), npz[0], size, bg, n_test, max_bytes)
    raise InvalidInputError(f"{files.label} holds neither transforms_train.json / transforms.json "
                            "(NeRF-synthetic layout) nor an .npz (tiny_nerf_data layout)")


# ---- checks shared by both layouts -----------------------------------------------------------
def rigid_pose(matrix, where: str) -> np.ndarray:
    """A 4x4 camera-to-world matrix that is a rotation plus a translation, else InvalidInputError."""
    try:
        m = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where} is not a matrix of numbers") from None
    if m.shape == (3, 4):
        m = np.vstack([m, [0, 0, 0, 1]])
    if m.shape != (4, 4):
        raise InvalidInputError(f"{where} has shape {m.shape}, expected 4x4")
    if not np.isfinite(m).all():
        raise InvalidInputError(f"{where} holds NaN or infinite values")
    if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-4):
        raise InvalidInputError(f"{where} has last row {m[3].round(3).tolist()}, expected [0, 0, 0, 1]")
    rot = m[:3, :3]
    scales = np.linalg.svd(rot, compute_uv=False)
    if np.abs(scales - 1).max() > 1e-2 or np.linalg.det(rot) < 0:
        raise InvalidInputError(f"{where} is not a rigid camera pose: its rotation part has scales "
                                f"{np.round(scales, 3).tolist()} and determinant {np.linalg.det(rot):.3f} "
                                "(expected 1, 1, 1 and +1)")
    return m


def _decode_image(data: bytes, name: str) -> np.ndarray:
    """RGBA float32 (H, W, 4) from PNG/JPEG bytes; the size is checked before decoding."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidInputError(f"{name} is {img.width}x{img.height} pixels, over the limit of "
                                        f"{MAX_PIXELS:,} pixels")
            return np.asarray(img.convert("RGBA"), dtype=np.float32) / 255
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"{name} is not a readable image ({exc})") from None


def _read_images(items: list, size: int | None, bg: np.ndarray):
    """Decode, check, composite and downscale images one at a time (memory holds one image at
    full size): ``items`` are (name, decode) pairs, decode() -> (H, W, 3 or 4) floats. Every
    image must have the first one's size, else the one that differs is named."""
    out, first = None, None
    for i, (name, decode) in enumerate(items):
        img = decode()
        if first is None:
            first = (name, img.shape[:2])
            h0, w0 = img.shape[:2]
            scale = 1.0 if not size or max(h0, w0) <= size else size / max(h0, w0)
            h, w = max(int(round(h0 * scale)), 1), max(int(round(w0 * scale)), 1)
            out = np.empty((len(items), h, w, 3), np.float32)
        elif img.shape[:2] != first[1]:
            raise InvalidInputError(f"{name} is {img.shape[1]}x{img.shape[0]} pixels but {first[0]} is "
                                    f"{first[1][1]}x{first[1][0]}: every image must have the same size")
        rgb = img[..., :3] * img[..., 3:4] + bg * (1 - img[..., 3:4]) if img.shape[-1] == 4 else img[..., :3]
        out[i] = rgb if (h, w) == (h0, w0) else resize(rgb, (h, w), anti_aliasing=True)
    return np.clip(out, 0, 1), (w0, h0), (w, h)


def _scaled(cameras: list, original: tuple, final: tuple) -> list:
    if original == final:
        return cameras
    return [c.resized(final[0], final[1]) for c in cameras]


def _split_views(images, cameras, test_index) -> tuple[Views, Views]:
    test = np.zeros(len(cameras), bool)
    test[test_index] = True
    pick = lambda mask: Views(images[mask], [c for c, m in zip(cameras, mask) if m])
    return pick(~test), pick(test)


# ---- NeRF-synthetic layout --------------------------------------------------------------------
def _number(meta: dict, key: str, where: str) -> float:
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _intrinsics(meta: dict, width: int, height: int, where: str) -> tuple:
    """(fx, fy, cx, cy) from camera_angle_x/_y or fl_x/fl_y/cx/cy; refuses lens models it cannot
    undo (fisheye, distortion coefficients)."""
    model = meta.get("camera_model")
    if model is not None and model not in PINHOLE_MODELS:
        raise InvalidInputError(f"{where}: camera_model {model!r} cannot be handled; only pinhole "
                                f"cameras ({', '.join(PINHOLE_MODELS)} without distortion)")
    for key in DISTORTION_KEYS:
        if key in meta and _number(meta, key, where) != 0:
            raise InvalidInputError(f"{where}: lens distortion {key}={meta[key]} cannot be handled; "
                                    "undistort the images first")
    for key, actual in (("w", width), ("h", height)):
        if key in meta and int(_number(meta, key, where)) != actual:
            raise InvalidInputError(f"{where}: {key}={meta[key]} but the images are {width}x{height} pixels")
    if "fl_x" in meta:
        fx = _number(meta, "fl_x", where)
        fy = _number(meta, "fl_y", where) if "fl_y" in meta else fx
    elif "camera_angle_x" in meta:
        fx = 0.5 * width / math.tan(0.5 * _number(meta, "camera_angle_x", where))
        fy = 0.5 * height / math.tan(0.5 * _number(meta, "camera_angle_y", where)) if "camera_angle_y" in meta else fx
    else:
        raise InvalidInputError(f"{where} gives no focal length: camera_angle_x or fl_x is needed")
    if not (fx > 0 and fy > 0):
        raise InvalidInputError(f"{where}: the focal length must be positive")
    cx = _number(meta, "cx", where) if "cx" in meta else width / 2
    cy = _number(meta, "cy", where) if "cy" in meta else height / 2
    return fx, fy, cx, cy


def _read_json(files, name: str) -> dict:
    try:
        meta = json.loads(files.read(name))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{name} is not valid JSON ({exc})") from None
    frames = meta.get("frames") if isinstance(meta, dict) else None
    if not isinstance(frames, list) or not frames:
        raise InvalidInputError(f"{name}: 'frames' must be a non-empty list")
    return meta


def _frame_file(files, root: str, frame, where: str) -> str:
    path = frame.get("file_path") if isinstance(frame, dict) else None
    if not isinstance(path, str) or not path:
        raise InvalidInputError(f"{where}.file_path is missing")
    base = posixpath.normpath(posixpath.join(root, path))
    if base.startswith("../") or base == ".." or posixpath.isabs(path):
        raise InvalidInputError(f"{where}.file_path {path!r} points outside the dataset")
    for suffix in IMAGE_SUFFIXES:  # the Blender scenes leave out the extension
        if files.exists(base + suffix) and (suffix or posixpath.splitext(base)[1]):
            return base + suffix
    raise InvalidInputError(f"{where}.file_path: the image {path!r} is missing")


def _read_split(files, root: str, name: str):
    meta = _read_json(files, posixpath.join(root, name))
    entries = []
    for i, frame in enumerate(meta["frames"]):
        where = f"{name} frames[{i}]"
        image_name = _frame_file(files, root, frame, where)
        if "transform_matrix" not in frame:
            raise InvalidInputError(f"{where}.transform_matrix is missing")
        pose = rigid_pose(frame["transform_matrix"], f"{where}.transform_matrix")
        entries.append((image_name, pose, {**meta, **frame}, where))
    return entries


def load_nerf_synthetic(files, root: str = "", size: int | None = 100, background=(1.0, 1.0, 1.0)) -> RadianceDataset:
    """A NeRF-synthetic dataset from a FolderSource / ZipSource, with its json files in ``root``."""
    bg = background_colour(background)
    join = lambda n: posixpath.join(root, n) if root else n
    if files.exists(join("transforms_train.json")):
        entries = _read_split(files, root, "transforms_train.json")
        n_train = len(entries)
        test_file = next((f"transforms_{s}.json" for s in SPLITS["test"] if files.exists(join(f"transforms_{s}.json"))), None)
        if test_file is None:
            raise InvalidInputError(f"{files.label} has transforms_train.json but no transforms_test.json "
                                    "or transforms_val.json for the held-out views")
        entries += _read_split(files, root, test_file)
        test_index = np.arange(n_train, len(entries))
    else:
        entries = _read_split(files, root, "transforms.json")
        if len(entries) < 2:
            raise InvalidInputError("transforms.json needs at least two frames (one is held out)")
        test_index = np.arange(0, len(entries), 8)  # every 8th frame held out, as instant-ngp / nerfstudio do
    items = [(e[0], lambda n=e[0]: _decode_image(files.read(n), n)) for e in entries]
    images, original, final = _read_images(items, size, bg)
    cameras = [Camera(pose, original[0], original[1], *_intrinsics(meta, *original, where))
               for (_, pose, meta, where) in entries]
    cameras = _scaled(cameras, original, final)
    train, test = _split_views(images, cameras, test_index)
    title = posixpath.basename(root) or getattr(files, "label", "scene")
    return RadianceDataset(title, train, test, box_from_cameras(train.cameras), bg)


# ---- tiny_nerf_data.npz layout ------------------------------------------------------------------
def _npz_arrays(data: bytes, label: str, max_bytes: int) -> dict:
    """The arrays of an .npz, each checked for size before it is unpacked; no pickle."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise InvalidInputError(f"{label} is not an .npz archive") from None
    if unpacked > max_bytes:
        raise InvalidInputError(f"{label} unpacks to {unpacked / 2 ** 20:.0f} MB, over the limit of "
                                f"{max_bytes / 2 ** 20:.0f} MB")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:  # object arrays need pickle: refused
        raise InvalidInputError(f"{label} holds arrays that cannot be read without pickle ({exc})") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"{label} cannot be read ({exc})") from None


def load_tiny_nerf(data: bytes, label: str = "tiny_nerf_data.npz", size: int | None = 100,
                   background=(1.0, 1.0, 1.0), n_test: int | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> RadianceDataset:
    """The tiny_nerf_data.npz layout: images (N, H, W, 3 or 4), poses (N, 4, 4), focal."""
    bg = background_colour(background)
    arrays = _npz_arrays(data, label, max_bytes)
    for key in ("images", "poses", "focal"):
        if key not in arrays:
            raise InvalidInputError(f"{label} has no '{key}' array (it has {', '.join(sorted(arrays)) or 'none'})")
    images, poses, focal = arrays["images"], arrays["poses"], arrays["focal"]
    if images.ndim != 4 or images.shape[-1] not in (3, 4) or not np.issubdtype(images.dtype, np.number):
        raise InvalidInputError(f"{label}: images must be numbers shaped (N, H, W, 3), got {images.dtype} {images.shape}")
    if images.shape[1] * images.shape[2] > MAX_PIXELS:
        raise InvalidInputError(f"{label}: images of {images.shape[2]}x{images.shape[1]} pixels are over the limit")
    if poses.shape[0] != images.shape[0]:
        raise InvalidInputError(f"{label}: {images.shape[0]} images but {poses.shape[0]} poses")
    if len(images) < 2:
        raise InvalidInputError(f"{label}: at least two views are needed (one is held out)")
    if np.size(focal) != 1 or not np.issubdtype(np.asarray(focal).dtype, np.number) or not float(focal) > 0:
        raise InvalidInputError(f"{label}: focal must be one positive number, got {focal!r}")
    poses = [rigid_pose(p, f"{label} poses[{i}]") for i, p in enumerate(poses)]
    if not np.isfinite(images).all():
        raise InvalidInputError(f"{label}: images hold NaN or infinite values")
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) or images.max() > 1.0 + 1e-6 else 1.0
    items = [(f"{label} images[{i}]", lambda i=i: images[i].astype(np.float32) / scale) for i in range(len(images))]
    pixels, original, final = _read_images(items, size, bg)
    w, h = original
    f = float(focal)
    cameras = _scaled([Camera(p, w, h, f, f, w / 2, h / 2) for p in poses], original, final)
    n_test = n_test or max(1, len(cameras) // 8)
    if not 1 <= n_test < len(cameras):
        raise InvalidInputError(f"{label}: cannot hold out {n_test} of {len(cameras)} views")
    train, test = _split_views(pixels, cameras, np.arange(len(cameras) - n_test, len(cameras)))
    return RadianceDataset(Path(label).stem, train, test, box_from_cameras(train.cameras), bg)
