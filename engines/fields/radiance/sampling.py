"""Where along a ray the field is read: the ray's segment inside the scene box, stratified samples.

Works in any dimension (3-D scenes, 2-D flatland). The scene box is a cube given by its centre and
half side; fields read points in box coordinates, [-1, 1]^d.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SceneBox:
    centre: tuple           # (d,) world coordinates of the box centre
    half_size: float        # half the side of the cube, world units

    @property
    def dim(self) -> int:
        return len(self.centre)

    def to_unit(self, points: torch.Tensor) -> torch.Tensor:
        """World points -> box coordinates in [-1, 1]^d (outside the box: beyond +-1)."""
        centre = torch.as_tensor(self.centre, dtype=points.dtype, device=points.device)
        return (points - centre) / self.half_size

    def from_unit(self, points: torch.Tensor) -> torch.Tensor:
        centre = torch.as_tensor(self.centre, dtype=points.dtype, device=points.device)
        return points * self.half_size + centre


def ray_box(origins: torch.Tensor, dirs: torch.Tensor, box: SceneBox) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distances (N,) of each ray through the box (slab method). A ray that misses
    has far <= near; a ray starting inside enters at 0."""
    centre = torch.as_tensor(box.centre, dtype=origins.dtype, device=origins.device)
    safe = torch.where(dirs.abs() < 1e-9, torch.full_like(dirs, 1e-9), dirs)
    t0 = (centre - box.half_size - origins) / safe
    t1 = (centre + box.half_size - origins) / safe
    near = torch.minimum(t0, t1).amax(dim=1).clamp_min(0.0)
    far = torch.maximum(t0, t1).amin(dim=1)
    return near, far


def stratified(near: torch.Tensor, far: torch.Tensor, n_samples: int,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_samples`` distances per ray in equal bins between near and far, and the bin widths.

    With a ``generator`` each sample is jittered uniformly inside its bin (training: every step
    sees other points, so the field is learned everywhere along the ray, not on a fixed lattice);
    without one the bin centres are used (rendering is deterministic). Returns (N, S) each;
    rays that miss the box get zero-width bins.
    """
    length = (far - near).clamp_min(0.0)
    step = length / n_samples
    offsets = torch.arange(n_samples, dtype=near.dtype, device=near.device)
    if generator is None:
        jitter = torch.full((len(near), n_samples), 0.5, dtype=near.dtype, device=near.device)
    else:
        jitter = torch.rand((len(near), n_samples), generator=generator).to(near.device, near.dtype)
    t = near[:, None] + (offsets + jitter) * step[:, None]
    return t, step[:, None].expand(-1, n_samples)
