"""Coordinate encoders: positions in [-1, 1]^d -> feature vectors.

DenseGrid  multi-level dense feature grids read with ``grid_sample`` (one fused interpolation
           kernel per level, no hashing). Optionally periodic: GNF's sawtooth mapping reads each
           level as a tile repeated ``period`` times across the domain.
HashGrid   Instant-NGP's multiresolution hash grid (Mueller et al. 2022) in pure torch. Levels
           whose dense lattice fits in the table are stored densely and read with
           ``grid_sample`` (the same d-linear interpolation, several times faster on a CPU);
           finer levels use the XOR-of-primes spatial hash.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import nn
import torch.nn.functional as F


def _sample_grid(grid: torch.Tensor, x: torch.Tensor, align_corners: bool = True) -> torch.Tensor:
    """Interpolate ``grid`` (1, C, *res) at points ``x`` (N, d) in [-1, 1]; returns (N, C)."""
    d = x.shape[1]
    view = x.reshape((1,) * d + (x.shape[0], d))
    out = F.grid_sample(grid, view, mode="bilinear", padding_mode="border", align_corners=align_corners)
    return out.reshape(grid.shape[1], x.shape[0]).t()


def sawtooth(x: torch.Tensor, period: float) -> torch.Tensor:
    """GNF's periodic coordinate mapping: [-1, 1] cut into ``period`` equal tiles, each mapped
    back onto [-1, 1] (Bouzidi et al.; the DiF-Grid mapping of Factor Fields)."""
    tile = 2.0 / period
    return (torch.remainder(x + 1, tile) / (tile / 2) - 1).clamp(-1.0, 1.0)


class DenseGrid(nn.Module):
    """Several dense grids; features of all levels are concatenated.

    ``periods`` (one per level, or None) reads each level through ``sawtooth``; periodic grids
    sample cell centres (align_corners=False), as GNF's code does, plain ones span [-1, 1]
    corner to corner. ``init`` is "uniform" (U(-init_scale, init_scale)) or "normal"
    (N(0, init_scale^2)).
    """

    def __init__(self, in_dim: int, resolutions=(16, 32, 64, 128), channels=(4, 4, 4, 4),
                 init_scale: float = 1e-4, periods=None, init: str = "uniform"):
        super().__init__()
        if in_dim not in (2, 3):
            raise ValueError("DenseGrid supports 2-D and 3-D coordinates")
        if len(resolutions) != len(channels) or (periods is not None and len(periods) != len(channels)):
            raise ValueError("one channel count (and period) per resolution")
        self.in_dim = in_dim
        self.resolutions = tuple(int(r) for r in resolutions)
        self.periods = tuple(float(p) for p in periods) if periods is not None else None
        grids = []
        for r, c in zip(self.resolutions, channels):
            values = torch.empty((1, c) + (r,) * in_dim)
            values.normal_(0, init_scale) if init == "normal" else values.uniform_(-init_scale, init_scale)
            grids.append(nn.Parameter(values))
        self.grids = nn.ParameterList(grids)
        self.out_dim = int(sum(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.periods is None:
            return torch.cat([_sample_grid(g, x) for g in self.grids], dim=1)
        return torch.cat([_sample_grid(g, sawtooth(x, p), align_corners=False)
                          for g, p in zip(self.grids, self.periods)], dim=1)

    def lattice(self, res: int) -> torch.Tensor | None:
        """Features at every point of a res^3 lattice over [-1, 1]^3, x slowest (the order of
        meshing.grid_points), or None for periodic grids. Equal to forward() on those points,
        but one structured ``interpolate`` per level is several times faster than scattered
        grid_sample."""
        if self.in_dim != 3:
            raise ValueError("lattice() is for 3-D grids")
        if self.periods is not None:
            return None
        feats = [F.interpolate(g, size=(res,) * 3, mode="trilinear", align_corners=True)
                 .permute(0, 1, 4, 3, 2).reshape(g.shape[1], -1) for g in self.grids]
        return torch.cat(feats, dim=0).t()


_PRIMES = (1, 2654435761, 805459861)


class HashGrid(nn.Module):
    """Multiresolution hash encoding (Instant-NGP) with d-linear interpolation, pure torch.

    Levels whose (res + 1)^d lattice fits in the table are dense grids (no collisions, as in
    the reference implementation), kept in ``dense``; the finer levels hash into one table each,
    stored one after another in ``table`` and read for all levels at once (one gather instead of
    one per level: several times faster for 16 levels on a CPU).
    """

    def __init__(self, in_dim: int, n_levels: int = 12, features: int = 2, table_size: int = 2 ** 15,
                 base_res: int = 16, max_res: int = 512, init_scale: float = 1e-4):
        super().__init__()
        self.in_dim, self.n_levels, self.features = in_dim, n_levels, features
        self.table_size = int(table_size)
        growth = math.exp((math.log(max_res) - math.log(base_res)) / max(n_levels - 1, 1))
        self.resolutions = [int(math.floor(base_res * growth ** i + 1e-6)) for i in range(n_levels)]
        self.is_dense = [(r + 1) ** in_dim <= self.table_size for r in self.resolutions]
        self.dense = nn.ParameterList(
            nn.Parameter(torch.empty((1, features) + (r + 1,) * in_dim).uniform_(-init_scale, init_scale))
            for r, dense in zip(self.resolutions, self.is_dense) if dense)
        hashed = [r for r, dense in zip(self.resolutions, self.is_dense) if not dense]
        table = torch.empty(len(hashed) * self.table_size, features).uniform_(-init_scale, init_scale)
        self.register_parameter("table", nn.Parameter(table) if hashed else None)
        self.register_buffer("hashed_res", torch.tensor(hashed, dtype=torch.float32), persistent=False)
        self.register_buffer("offsets", torch.arange(len(hashed)) * self.table_size, persistent=False)
        corners = torch.tensor(list(itertools.product((0, 1), repeat=in_dim)), dtype=torch.long)
        self.register_buffer("corners", corners, persistent=False)
        self.out_dim = n_levels * features

    def _hash(self, cell: torch.Tensor) -> torch.Tensor:
        h = cell[..., 0] * _PRIMES[0]
        for i in range(1, self.in_dim):
            h = h ^ (cell[..., i] * _PRIMES[i])
        return h % self.table_size

    def _hashed_levels(self, unit: torch.Tensor) -> torch.Tensor:
        """Features of every hashed level, (N, levels * F), levels coarse to fine."""
        res = self.hashed_res[:, None, None]                                # (L, 1, 1)
        pos = unit[None] * res                                              # (L, N, d)
        base = torch.minimum(pos.floor(), res - 1)
        frac = pos - base
        cell = base.long()[:, :, None, :] + self.corners                    # (L, N, 2^d, d)
        w = torch.where(self.corners.bool(), frac[:, :, None, :], 1 - frac[:, :, None, :]).prod(-1)
        index = self._hash(cell) + self.offsets[:, None, None]              # (L, N, 2^d)
        values = self.table.index_select(0, index.reshape(-1)).view(*index.shape, self.features)
        out = (w[..., None] * values).sum(2)                                # (L, N, F)
        return out.permute(1, 0, 2).reshape(unit.shape[0], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clamp(-1, 1)
        feats = [_sample_grid(grid, x) for grid in self.dense]
        if self.table is not None:
            feats.append(self._hashed_levels((x + 1) * 0.5))
        return torch.cat(feats, dim=1)
