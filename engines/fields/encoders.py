"""Coordinate encoders: positions in [-1, 1]^d -> feature vectors.

DenseGrid  multi-level dense feature grids read with ``grid_sample`` (the CPU default: one
           fused interpolation kernel per level, no hashing).
HashGrid   Instant-NGP's multiresolution hash grid (Mueller et al. 2022) in pure torch.
PlaneGrid  factorised planes (TensoRF / K-planes style): a 3-D point reads the xy, xz and yz
           planes and multiplies them, so memory grows as res^2 instead of res^3.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import nn
import torch.nn.functional as F


def _sample_grid(grid: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Interpolate ``grid`` (1, C, *res) at points ``x`` (N, d) in [-1, 1]; returns (N, C)."""
    d = x.shape[1]
    view = x.reshape((1,) * d + (x.shape[0], d))
    out = F.grid_sample(grid, view, mode="bilinear", padding_mode="border", align_corners=True)
    return out.reshape(grid.shape[1], x.shape[0]).t()


class DenseGrid(nn.Module):
    """Several dense grids of increasing resolution; features of all levels are concatenated."""

    def __init__(self, in_dim: int, resolutions=(16, 32, 64, 128), channels=(4, 4, 4, 4),
                 init_scale: float = 1e-4):
        super().__init__()
        if in_dim not in (2, 3):
            raise ValueError("DenseGrid supports 2-D and 3-D coordinates")
        if len(resolutions) != len(channels):
            raise ValueError("one channel count per resolution")
        self.in_dim = in_dim
        self.resolutions = tuple(int(r) for r in resolutions)
        self.grids = nn.ParameterList(
            nn.Parameter(torch.empty((1, c) + (r,) * in_dim).uniform_(-init_scale, init_scale))
            for r, c in zip(self.resolutions, channels))
        self.out_dim = int(sum(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([_sample_grid(g, x) for g in self.grids], dim=1)

    def lattice(self, res: int) -> torch.Tensor:
        """Features at every point of a res^3 lattice over [-1, 1]^3, x slowest (the order of
        meshing.grid_points). Equal to forward() on those points, but one structured
        ``interpolate`` per level is several times faster than scattered grid_sample."""
        if self.in_dim != 3:
            raise ValueError("lattice() is for 3-D grids")
        feats = [F.interpolate(g, size=(res,) * 3, mode="trilinear", align_corners=True)
                 .permute(0, 1, 4, 3, 2).reshape(g.shape[1], -1) for g in self.grids]
        return torch.cat(feats, dim=0).t()


class PlaneGrid(nn.Module):
    """Factorised 3-D features: product of three axis-aligned 2-D planes per level."""

    PAIRS = ((0, 1), (0, 2), (1, 2))

    def __init__(self, resolutions=(32, 64, 128), channels=(8, 8, 8), init_scale: float = 0.1):
        super().__init__()
        self.in_dim = 3
        # planes start near 1 so that the product of three planes is not vanishingly small
        self.planes = nn.ParameterList(
            nn.Parameter(1 + torch.empty(3, c, r, r).uniform_(-init_scale, init_scale))
            for r, c in zip(resolutions, channels))
        self.out_dim = int(sum(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for planes in self.planes:
            prod = 1.0
            for i, (a, b) in enumerate(self.PAIRS):
                prod = prod * _sample_grid(planes[i:i + 1], x[:, [a, b]])
            feats.append(prod)
        return torch.cat(feats, dim=1)


_PRIMES = (1, 2654435761, 805459861)


class HashGrid(nn.Module):
    """Multiresolution hash encoding (Instant-NGP) with d-linear interpolation, pure torch.

    Levels whose dense grid fits in the table are indexed directly (no collisions), as in
    the reference implementation; finer levels use the XOR-of-primes spatial hash.
    """

    def __init__(self, in_dim: int, n_levels: int = 12, features: int = 2, table_size: int = 2 ** 15,
                 base_res: int = 16, max_res: int = 512, init_scale: float = 1e-4):
        super().__init__()
        self.in_dim, self.n_levels, self.features = in_dim, n_levels, features
        self.table_size = int(table_size)
        growth = math.exp((math.log(max_res) - math.log(base_res)) / max(n_levels - 1, 1))
        self.resolutions = [int(math.floor(base_res * growth ** i)) for i in range(n_levels)]
        sizes = [min(self.table_size, (r + 1) ** in_dim) for r in self.resolutions]
        self.tables = nn.ParameterList(
            nn.Parameter(torch.empty(s, features).uniform_(-init_scale, init_scale)) for s in sizes)
        corners = torch.tensor(list(itertools.product((0, 1), repeat=in_dim)), dtype=torch.long)
        self.register_buffer("corners", corners, persistent=False)
        self.out_dim = n_levels * features

    def _index(self, cell: torch.Tensor, res: int, size: int) -> torch.Tensor:
        if (res + 1) ** self.in_dim <= size:
            strides = torch.tensor([(res + 1) ** i for i in range(self.in_dim)], device=cell.device)
            return (cell * strides).sum(-1)
        h = cell[..., 0] * _PRIMES[0]
        for i in range(1, self.in_dim):
            h = h ^ (cell[..., i] * _PRIMES[i])
        return h % size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unit = (x.clamp(-1, 1) + 1) * 0.5
        feats = []
        for table, res in zip(self.tables, self.resolutions):
            pos = unit * res
            base = pos.floor().long().clamp(max=res - 1)
            frac = pos - base
            cell = base[:, None, :] + self.corners[None]                    # (N, 2^d, d)
            w = torch.where(self.corners[None].bool(), frac[:, None, :], 1 - frac[:, None, :]).prod(-1)
            vals = table[self._index(cell, res, table.shape[0])]            # (N, 2^d, F)
            feats.append((w[..., None] * vals).sum(1))
        return torch.cat(feats, dim=1)
