"""Image targets: an RGB or grey image as a field over [-1, 1]^2.

Sources: a name from ``skimage.data`` (bundled ones need no network), a file path, or an array.
Images larger than ``max_size`` on their long side are downscaled (anti-aliased) with a notice.
"""
from __future__ import annotations

import functools

import os
import warnings

import numpy as np
import torch
from skimage import data as skdata, io as skio, transform
from skimage.filters import sobel
from skimage.util import img_as_float32

from ..errors import InvalidInputError
from .devices import field_device

BUNDLED_IMAGES = ("astronaut", "camera", "coffee", "chelsea", "rocket", "retina", "brick",
                  "grass", "gravel", "moon", "coins", "text", "horse", "logo", "colorwheel",
                  "hubble_deep_field")


def load_image(source) -> np.ndarray:
    """Read ``source`` into a float32 array in [0, 1] of shape (H, W) or (H, W, C)."""
    if isinstance(source, np.ndarray):
        arr = source
    elif isinstance(source, str) and source in BUNDLED_IMAGES:
        arr = getattr(skdata, source)()
    elif isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise InvalidInputError(f"no image file at {source!s}")
        try:
            arr = skio.imread(source)
        except Exception as exc:  # decoders raise many types; the user needs one message
            raise InvalidInputError(f"{os.path.basename(str(source))} is not a readable image ({exc})") from exc
    else:
        raise InvalidInputError(f"cannot make an image from {type(source).__name__}")
    return _normalise(np.asarray(arr))


def _normalise(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInputError("the image must hold numbers")
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]  # drop alpha
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3)):
        raise InvalidInputError(f"expected a grey (H, W) or RGB (H, W, 3) image, got shape {arr.shape}")
    if min(arr.shape[:2]) < 2:
        raise InvalidInputError(f"the image is too small ({arr.shape[0]}x{arr.shape[1]}); it needs at least 2x2 pixels")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise InvalidInputError("the image contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) if (lo < 0 or hi > 1) and hi > lo else arr
        return np.clip(arr, 0, 1).astype(np.float32)
    return img_as_float32(arr)


class ImageTarget:
    """Pixels as (coords, values) with coords on the pixel lattice spanning [-1, 1]^2 (x, y)."""

    def __init__(self, source="astronaut", size: int | None = None, max_size: int = 512, grey: bool = False):
        img = load_image(source)
        if grey and img.ndim == 3:
            img = img.mean(-1)
        self.notice = None
        long_side = max(img.shape[:2])
        limit = size or max_size
        if size or long_side > max_size:
            scale = limit / long_side
            shape = (max(int(round(img.shape[0] * scale)), 2), max(int(round(img.shape[1] * scale)), 2))
            if long_side > max_size and not size:
                self.notice = f"image downscaled from {img.shape[1]}x{img.shape[0]} to {shape[1]}x{shape[0]}"
                warnings.warn(self.notice)
            img = transform.resize(img, shape + img.shape[2:], anti_aliasing=scale < 1).astype(np.float32)
        self.image = img if img.ndim == 3 else img[..., None]
        self.height, self.width, self.channels = self.image.shape
        self.coords = grid_coords(self.height, self.width)
        self.values = torch.from_numpy(np.ascontiguousarray(self.image.reshape(-1, self.channels)))

    @property
    def in_dim(self) -> int:
        return 2

    @property
    def out_dim(self) -> int:
        return self.channels

    def init_points(self):
        """Pixel coords and NeuRBF's k-means weights: the image gradient magnitude."""
        grad = sobel(self.image.mean(-1))
        return self.coords.numpy(), grad.reshape(-1) + 1e-3 * grad.max() + 1e-8

    def weight_map(self) -> np.ndarray:
        return self.init_points()[1].reshape(self.height, self.width)

    def display(self, pred: np.ndarray) -> np.ndarray:
        """(H, W, C) prediction in display form: grey images lose their channel axis."""
        pred = np.clip(pred, 0, 1)
        return pred[..., 0] if self.channels == 1 else pred


def grid_coords(height: int, width: int) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    return torch.stack([xs, ys], -1).reshape(-1, 2)


@functools.lru_cache(maxsize=4)
def _render_chunks(height: int, width: int, chunk: int, device: torch.device = torch.device("cpu")) -> tuple:
    """The same lattice tensors at every render, so NeuRBF with frozen kernels reuses its
    neighbour lists (a k-d tree query per pixel) instead of recomputing them each snapshot."""
    return tuple(grid_coords(height, width).to(device).split(chunk))


@torch.no_grad()
def render(field, height: int, width: int, chunk: int = 1 << 16) -> np.ndarray:
    """Evaluate a 2-D field (on any device) on an H x W lattice; returns (H, W, out_dim) float32."""
    out = torch.cat([field(c) for c in _render_chunks(height, width, chunk, field_device(field))])
    return out.reshape(height, width, -1).cpu().numpy()
