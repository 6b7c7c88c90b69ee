"""Baseline fields a user compares RBF fields against, and their declarations.

SIREN       sine-activated MLP (Sitzmann et al. 2020) with its principled initialisation; 3
            layers, omega_0 30; the width scales with a budget.
FourierMLP  random Fourier features (128, sigma 10) + 3-layer ReLU MLP (Tancik et al. 2020); the
            width scales with a budget.
GridMLP     an encoder + a ReLU MLP (2 hidden layers of 64): "dense" multi-level grids (4 levels
            x 2 channels, each half the next; the finest resolution scales with a budget), or
            "hash", Instant-NGP's multiresolution hash grid (Mueller et al. 2022; 16 levels x 2
            features from 16 to 512 nodes in 2-D, 2048 in 3-D, as its paper; the table size
            scales with a budget).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .encoders import DenseGrid, HashGrid
from .family import Family, Recipe, TaskDeclaration


class SineLayer(nn.Module):
    def __init__(self, in_f: int, out_f: int, omega: float, first: bool):
        super().__init__()
        self.omega, self.linear = omega, nn.Linear(in_f, out_f)
        bound = 1 / in_f if first else math.sqrt(6 / in_f) / omega
        nn.init.uniform_(self.linear.weight, -bound, bound)

    def forward(self, x):
        return torch.sin(self.omega * self.linear(x))


class SIREN(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, width: int = 256, depth: int = 3, omega: float = 30.0):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        layers = [SineLayer(in_dim, width, omega, True)]
        layers += [SineLayer(width, width, omega, False) for _ in range(depth - 1)]
        last = nn.Linear(width, out_dim)
        bound = math.sqrt(6 / width) / omega
        nn.init.uniform_(last.weight, -bound, bound)
        self.net = nn.Sequential(*layers, last)

    def forward(self, x):
        return self.net(x)


def mlp(in_dim: int, out_dim: int, width: int, depth: int) -> nn.Sequential:
    layers, d = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, out_dim))


class FourierMLP(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, n_freq: int = 128, sigma: float = 10.0,
                 width: int = 256, depth: int = 3):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        # the frequency matrix is fixed (a buffer), so it does not count as parameters
        self.register_buffer("freqs", torch.randn(in_dim, n_freq) * sigma)
        self.net = mlp(2 * n_freq, out_dim, width, depth)

    def forward(self, x):
        z = 2 * math.pi * x @ self.freqs
        return self.net(torch.cat([torch.sin(z), torch.cos(z)], dim=1))


class GridMLP(nn.Module):
    """Encoder + tiny MLP: ``encoder`` is 'dense' (DenseGrid) or 'hash' (HashGrid)."""

    def __init__(self, in_dim: int, out_dim: int, encoder: str = "dense", width: int = 64,
                 depth: int = 2, **encoder_kwargs):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        enc_cls = {"dense": DenseGrid, "hash": HashGrid}[encoder]
        if encoder == "dense":
            encoder_kwargs.setdefault("init_scale", 0.1)
        self.encoder = enc_cls(in_dim, **encoder_kwargs)
        self.net = mlp(self.encoder.out_dim, out_dim, width, depth)

    def forward(self, x):
        return self.net(self.encoder(x))

    @torch.no_grad()
    def on_lattice(self, res: int, chunk: int = 1 << 17) -> torch.Tensor | None:
        """Values on a res^3 lattice (x slowest); None unless the encoder is a dense 3-D grid."""
        if not hasattr(self.encoder, "lattice") or self.in_dim != 3:
            return None
        return torch.cat([self.net(f) for f in self.encoder.lattice(res).split(chunk)])


def halving_levels(finest: int, n: int) -> tuple:
    """n resolutions halving from ``finest`` (at least 2 nodes)."""
    return tuple(max(finest // 2 ** (n - 1 - i), 2) for i in range(n))


def build_grid_mlp(in_dim, out_dim, grid_resolution, grid_levels=4, grid_channels=2):
    return GridMLP(in_dim, out_dim, "dense", resolutions=halving_levels(grid_resolution, grid_levels),
                   channels=(grid_channels,) * grid_levels)


def build_hash_mlp(in_dim, out_dim, table_size, grid_levels=16, grid_channels=2, grid_resolution=512):
    return GridMLP(in_dim, out_dim, "hash", n_levels=grid_levels, features=grid_channels,
                   max_res=grid_resolution, table_size=table_size)


def _same(task_defaults: dict) -> dict:
    return {"image": dict(task_defaults), "shape": dict(task_defaults)}


# radiance fields (chosen by benchmarks/radiance_tuning.json; SIREN and the Fourier MLP are not
# tuned for it and take their shape optimiser with family.FALLBACK_RAYS rays)
RADIANCE = {
    "hash_mlp": TaskDeclaration(lr=3e-2, batch_size=1024, samples_per_ray=64),
    "grid_mlp": TaskDeclaration(lr=3e-2, batch_size=2048, samples_per_ray=64),
}

FAMILIES = (
    Family(name="siren", label="SIREN", build=lambda i, o, width: SIREN(i, o, width=width), size="width",
           order=10, doc="Sine-activated MLP (Sitzmann et al. 2020).", defaults=_same(dict(width=256)),
           recipes={"image": Recipe(lr=1e-3, batch_size=1 << 12), "shape": Recipe(lr=3e-4, batch_size=1 << 12)}),
    Family(name="fourier_mlp", label="Fourier-feature MLP", build=lambda i, o, width: FourierMLP(i, o, width=width),
           size="width", order=11, doc="Random Fourier features and a ReLU MLP (Tancik et al. 2020).",
           defaults=_same(dict(width=256)),
           recipes={"image": Recipe(lr=3e-3, batch_size=1 << 12), "shape": Recipe(lr=3e-3, batch_size=1 << 12)}),
    Family(name="hash_mlp", label="Hash grid + MLP (Instant-NGP)", build=build_hash_mlp, size="table_size",
           radiance=RADIANCE["hash_mlp"],
           order=12, doc="Multiresolution hash grid and a small MLP (Mueller et al. 2022).",
           defaults={"image": dict(table_size=1 << 14, grid_levels=16, grid_channels=2, grid_resolution=512),
                     "shape": dict(table_size=1 << 14, grid_levels=16, grid_channels=2, grid_resolution=2048)},
           recipes={"image": Recipe(lr=1e-2, batch_size=1 << 12, betas=(0.9, 0.99), eps=1e-15),
                    "shape": Recipe(lr=3e-3, batch_size=1 << 12, schedule="cosine", final_lr_ratio=0.01,
                                    betas=(0.9, 0.99), eps=1e-15)}),
    Family(name="grid_mlp", label="Dense grids + MLP", build=build_grid_mlp, size="grid_resolution", order=13,
           radiance=RADIANCE["grid_mlp"],
           doc="Multi-level dense feature grids and a small MLP.",
           defaults={"image": dict(grid_resolution=128, grid_levels=4, grid_channels=2),
                     "shape": dict(grid_resolution=32, grid_levels=4, grid_channels=2)},
           recipes={"image": Recipe(lr=3e-2, batch_size=1 << 12, schedule="cosine", final_lr_ratio=0.01),
                    "shape": Recipe(lr=3e-3, batch_size=1 << 12, schedule="cosine", final_lr_ratio=0.01)}),
)
