"""A scene whose density is known exactly: a mixture of coloured Gaussian blobs.

density(x) = sum_k a_k exp(-|x - m_k|^2 / (2 s_k^2)); the colour at x is the blobs' colours
weighted by their share of the density there. The blobs are semi-transparent (a few units of
optical depth through a centre), so light reaches every part of them and the density is
determined by the views, not only the surfaces: a learned field can be scored against it.
``BlobScene`` has the interface of a radiance field (box points, dirs -> density, colour), so the
lab's own renderer makes its views (``blob_dataset``) and ``metrics.field_error`` scores a model.
Works in 2-D too (flatland).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .cameras import sphere_cameras
from .datasets import RadianceDataset, Views, background_colour
from .render import RenderSettings, render_image
from .sampling import SceneBox

SATURATED = np.array([[0.9, 0.1, 0.1], [0.1, 0.8, 0.1], [0.15, 0.25, 0.95], [0.95, 0.8, 0.1],
                      [0.8, 0.1, 0.85], [0.1, 0.8, 0.85], [0.95, 0.5, 0.05], [0.5, 0.9, 0.4]], np.float32)


class BlobScene(nn.Module):
    def __init__(self, dim: int = 3, n_blobs: int = 6, seed: int = 0, optical_depth: float = 3.0,
                 radius_range=(0.12, 0.3), spread: float = 0.55):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.in_dim = dim
        centres = rng.uniform(-spread, spread, (n_blobs, dim))
        radii = rng.uniform(*radius_range, n_blobs)
        # peak density so that a ray through a blob's centre crosses ``optical_depth`` (sqrt(2 pi) s a)
        peaks = optical_depth / (math.sqrt(2 * math.pi) * radii)
        colours = SATURATED[rng.permutation(len(SATURATED))[:n_blobs] % len(SATURATED)]
        self.register_buffer("centres", torch.as_tensor(centres, dtype=torch.float32))
        self.register_buffer("radii", torch.as_tensor(radii, dtype=torch.float32))
        self.register_buffer("peaks", torch.as_tensor(peaks, dtype=torch.float32))
        self.register_buffer("colours", torch.as_tensor(colours, dtype=torch.float32))

    def _parts(self, points: torch.Tensor) -> torch.Tensor:
        d2 = ((points[:, None, :] - self.centres) ** 2).sum(-1)            # (N, K)
        return self.peaks * torch.exp(-0.5 * d2 / self.radii ** 2)

    def density(self, points: torch.Tensor) -> torch.Tensor:
        return self._parts(points).sum(1)

    def forward(self, points: torch.Tensor, dirs: torch.Tensor | None = None):
        parts = self._parts(points)
        total = parts.sum(1)
        colour = (parts @ self.colours) / total.clamp_min(1e-8)[:, None]
        return total, colour


def blob_dataset(n_train: int = 60, n_test: int = 10, size: int = 64, seed: int = 0, n_blobs: int = 6,
                 background="black", fov_deg: float = 36.0, camera_distance: float = 3.6,
                 n_samples: int = 384) -> RadianceDataset:
    """Views of a BlobScene rendered by the lab's own volume renderer (finely sampled) from
    cameras on a sphere; held-out cameras sit between the training ones. The box is [-1, 1]^3."""
    scene = BlobScene(3, n_blobs, seed)
    box = SceneBox((0.0, 0.0, 0.0), 1.0)
    bg = background_colour(background)
    settings = RenderSettings(n_samples=n_samples, cull=False)

    def views(n, offset):
        cams = sphere_cameras(n, camera_distance, size, fov_deg, offset=offset)
        shots = [render_image(scene, cam, box, settings, background=bg) for cam in cams]
        return Views(np.stack([s["rgb"] for s in shots]).astype(np.float32), cams,
                     np.stack([s["depth"] for s in shots]).astype(np.float32))

    return RadianceDataset(f"blobs (seed {seed})", views(n_train, 0.5), views(n_test, 0.0), box, bg,
                           true_density=scene.density)
