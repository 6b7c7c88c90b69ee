"""An occupancy grid that lets rendering skip empty space (Instant-NGP's, in pure torch).

The scene box is cut into res^d cells. Every ``update_every`` training steps a share of the cells
is visited: the field's density at a random point in each such cell updates that cell's running
value (max of the decayed old value and the new reading, so a cell that was dense stays marked
until the field really empties it). Cells whose opacity over one sample step stays below a
threshold are empty; the mask is dilated by one cell so that a surface can still grow into its
neighbours. Samples in empty cells are never evaluated. Before ``warmup`` steps nothing is
skipped: a fresh field has no idea yet where the scene is.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


class OccupancyGrid(nn.Module):
    def __init__(self, dim: int = 3, res: int = 64, alpha_threshold: float = 0.01, sample_step: float = 2 / 128,
                 decay: float = 0.95, update_every: int = 16, warmup: int = 16, fraction: float = 0.25):
        super().__init__()
        if dim not in (2, 3):
            raise ValueError("occupancy grids are 2-D or 3-D")
        self.dim, self.res, self.decay = dim, int(res), decay
        self.update_every, self.warmup, self.fraction = update_every, warmup, fraction
        # a cell counts as occupied when a sample step through it would stop >= alpha_threshold of the light
        self.density_threshold = -math.log(1 - alpha_threshold) / sample_step
        self.register_buffer("density", torch.zeros((res,) * dim))
        self.register_buffer("mask", torch.ones((res,) * dim, dtype=torch.bool))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @property
    def occupied_share(self) -> float:
        return float(self.mask.float().mean())

    def cell_index(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat cell indices of points in box coordinates, and whether each lies in the box."""
        inside = (points.abs() <= 1).all(dim=1)
        cell = ((points + 1) * (self.res / 2)).long().clamp(0, self.res - 1)
        flat = cell[:, 0]
        for axis in range(1, self.dim):
            flat = flat * self.res + cell[:, axis]
        return flat, inside

    def occupied(self, points: torch.Tensor) -> torch.Tensor:
        """(N,) True where a point (box coordinates) lies in an occupied cell of the box."""
        flat, inside = self.cell_index(points)
        return self.mask.reshape(-1)[flat] & inside

    def due(self, step: int) -> bool:
        return step >= self.warmup and step % self.update_every == 0

    @torch.no_grad()
    def update(self, density_fn, generator: torch.Generator | None = None, chunk: int = 1 << 16) -> None:
        """Read ``density_fn`` (box points (M, d) -> (M,)) in a share of the cells and refresh
        the mask. The first update reads every cell."""
        n_cells = self.res ** self.dim
        device = self.density.device
        if int(self.updates) == 0 or self.fraction >= 1:
            cells = torch.arange(n_cells, device=device)
        else:
            count = max(int(n_cells * self.fraction), 1)
            cells = torch.randint(n_cells, (count,), generator=generator).to(device)
        coords = torch.stack(torch.unravel_index(cells, (self.res,) * self.dim), dim=1).float()
        jitter = torch.rand(coords.shape, generator=generator).to(device)
        points = (coords + jitter) * (2 / self.res) - 1
        readings = torch.cat([density_fn(c).reshape(-1) for c in points.split(chunk)])
        flat = self.density.reshape(-1)
        flat[cells] = torch.maximum(flat[cells] * self.decay, readings.float())
        self.updates += 1
        self.refresh_mask()

    def refresh_mask(self) -> None:
        """Occupied = density over the threshold (or over the mean while the whole field is
        still faint), dilated by one cell."""
        threshold = min(self.density_threshold, float(self.density.nan_to_num(0.0).mean()))
        dense = (~(self.density <= threshold)).float()[None, None]  # NaN stays occupied: it must show
        pool = F.max_pool3d if self.dim == 3 else F.max_pool2d
        self.mask = pool(dense, kernel_size=3, stride=1, padding=1)[0, 0] > 0
