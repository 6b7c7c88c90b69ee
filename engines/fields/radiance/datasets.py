"""Multi-view datasets: posed images split into training and held-out views, and a scene box.

``RadianceDataset`` is what the trainer learns from, whatever made it (pyvista renders, the
analytic blob scene, a user's NeRF-synthetic folder or tiny_nerf_data.npz). It holds numbers
only, so it saves to and loads from an ``.npz`` without pickle (the render cache uses this).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field as dc_field
from typing import Callable

import numpy as np

from ...errors import InvalidInputError
from .cameras import Camera, stack_rays
from .sampling import SceneBox

BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


@dataclass
class Views:
    images: np.ndarray                 # (N, H, W, 3) float32 in [0, 1]
    cameras: list                      # N Cameras, all of the images' size
    depths: np.ndarray | None = None   # (N, H, W) distance along each pixel's ray; nan = nothing hit

    def __len__(self) -> int:
        return len(self.cameras)

    @property
    def size(self) -> tuple[int, int]:
        return self.images.shape[1], self.images.shape[2]

    def rays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Origins, unit directions and colours of every pixel (N*H*W, 3) each."""
        origins, dirs = stack_rays(self.cameras)
        return origins, dirs, self.images.reshape(-1, 3).astype(np.float32)

    def frustums(self, depth: float) -> np.ndarray:
        """(N, 5, 3): each camera's centre and image corners at ``depth`` (to draw pyramids)."""
        return np.stack([cam.frustum(depth) for cam in self.cameras])


@dataclass
class RadianceDataset:
    name: str
    train: Views
    test: Views
    box: SceneBox
    background: np.ndarray = dc_field(default_factory=lambda: np.ones(3, np.float32))
    notice: str | None = None
    # the true density (box points (N, 3) torch -> (N,)) when the scene is known exactly
    true_density: Callable | None = None

    @property
    def dim(self) -> int:
        return self.box.dim

    def train_rays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.train.rays()

    def held_out(self):
        """(origins, dirs, true image (H, W, 3), true depth (H, W) or None) per held-out view."""
        for i, cam in enumerate(self.test.cameras):
            origins, dirs = cam.rays()
            depth = None if self.test.depths is None else self.test.depths[i]
            yield origins, dirs, self.test.images[i], depth

    def camera_distance(self) -> float:
        """Median distance of the training cameras from the box centre (for orbit previews)."""
        positions = np.stack([c.position for c in self.train.cameras])
        return float(np.median(np.linalg.norm(positions - np.asarray(self.box.centre), axis=1)))

    def to_npz_bytes(self) -> bytes:
        """The dataset as a compressed .npz (numbers only; the true density is not saved)."""
        arrays = {"name": np.array(self.name), "box_centre": np.asarray(self.box.centre, np.float64),
                  "box_half": np.array(self.box.half_size), "background": np.asarray(self.background, np.float32)}
        for split in ("train", "test"):
            views = getattr(self, split)
            arrays[f"{split}_images"] = (np.clip(views.images, 0, 1) * 255).round().astype(np.uint8)
            arrays[f"{split}_c2w"] = np.stack([c.c2w for c in views.cameras])
            arrays[f"{split}_intrinsics"] = np.array([[c.fx, c.fy, c.cx, c.cy] for c in views.cameras])
            if views.depths is not None:
                arrays[f"{split}_depths"] = views.depths.astype(np.float32)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_npz_bytes(cls, data: bytes) -> "RadianceDataset":
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            def views(split):
                images = npz[f"{split}_images"].astype(np.float32) / 255
                h, w = images.shape[1:3]
                cams = [Camera(c2w, w, h, *k) for c2w, k in zip(npz[f"{split}_c2w"], npz[f"{split}_intrinsics"])]
                depths = npz[f"{split}_depths"] if f"{split}_depths" in npz else None
                return Views(images, cams, depths)
            return cls(str(npz["name"]), views("train"), views("test"),
                       SceneBox(tuple(float(v) for v in npz["box_centre"]), float(npz["box_half"])),
                       npz["background"].astype(np.float32))


def background_colour(background) -> np.ndarray:
    """'white', 'black' or an RGB triple in [0, 1] -> float32 (3,)."""
    if isinstance(background, str):
        if background not in BACKGROUNDS:
            raise InvalidInputError(f"unknown background {background!r}: use 'white' or 'black'")
        background = BACKGROUNDS[background]
    colour = np.asarray(background, dtype=np.float32).reshape(-1)
    if colour.shape != (3,) or not ((colour >= 0) & (colour <= 1)).all():
        raise InvalidInputError("a background colour is three numbers in [0, 1]")
    return colour


def box_from_cameras(cameras: list, fill: float = 1.0) -> SceneBox:
    """A cube around what the cameras look at: centred on the point nearest to every optical axis
    (least squares), with half side the half width a camera sees at that point's distance (the
    NeRF-synthetic scenes: cameras at 4 units, 40 degrees -> 1.46, their box is 1.5)."""
    positions = np.stack([c.position for c in cameras])
    axes = np.stack([-np.asarray(c.c2w[:3, 2], float) for c in cameras])
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    projector = np.eye(3)[None] - axes[:, :, None] * axes[:, None, :]     # onto each axis's normal plane
    lhs, rhs = projector.sum(0), np.einsum("nij,nj->i", projector, positions)
    if np.linalg.cond(lhs) > 1e6:  # axes (nearly) parallel: look one median distance ahead instead
        centre = (positions + axes).mean(0)
    else:
        centre = np.linalg.solve(lhs, rhs)
    distances = np.linalg.norm(positions - centre, axis=1)
    half_fov = min(math.atan(min(c.width / (2 * c.fx), c.height / (2 * c.fy))) for c in cameras)
    half = float(np.median(distances) * math.tan(half_fov) * fill)
    half = min(half, 0.9 * float(distances.min()) / math.sqrt(3))  # cameras stay outside the box
    if not half > 0:
        raise InvalidInputError("the cameras do not look at a common region: cannot place a scene box")
    return SceneBox(tuple(float(v) for v in centre), half)
