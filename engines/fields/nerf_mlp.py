"""The plain NeRF MLP (Mildenhall et al. 2020) as a field family: the radiance baseline.

NeRFMLP  positional encoding gamma(p) = (p, sin(2^k pi p), cos(2^k pi p)) for k < 10, then 8 ReLU
         layers with the encoding concatenated again after the 4th (NeRF's skip connection),
         then a linear output. The width scales with a budget (NeRF's own: 256).

Where the lab departs from NeRF, and why: NeRF's separate view-direction branch is not part of
the field; every family gets the same density and colour heads (radiance.field: colour from
spherical harmonics of the outputs), so the comparison is between the fields themselves. The
hierarchical (coarse + fine) sampling is replaced by the lab's occupancy grid for every family.
The learning rate, batch and schedule are NeRF's (Adam 5e-4 decayed by 10x, 1024 rays); the
radiance sweep may choose others within the same grid as every family.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .family import Family, Recipe, TaskDeclaration


class PositionalEncoding(nn.Module):
    """gamma(p): the input and sin / cos of 2^k pi p for k < n_freq (no parameters)."""

    def __init__(self, in_dim: int, n_freq: int = 10):
        super().__init__()
        self.register_buffer("scales", (2.0 ** torch.arange(n_freq)) * math.pi, persistent=False)
        self.out_dim = in_dim * (1 + 2 * n_freq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x[:, :, None] * self.scales).reshape(len(x), -1)
        return torch.cat([x, torch.sin(z), torch.cos(z)], dim=1)


class NeRFMLP(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, width: int = 256, depth: int = 8, skip: int = 4,
                 n_freq: int = 10):
        super().__init__()
        self.in_dim, self.out_dim, self.skip = in_dim, out_dim, skip
        self.encoding = PositionalEncoding(in_dim, n_freq)
        enc = self.encoding.out_dim
        self.layers = nn.ModuleList(nn.Linear(enc if i == 0 else width + (enc if i == skip else 0), width)
                                    for i in range(depth))
        self.output = nn.Linear(width, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoded = self.encoding(x)
        h = encoded
        for i, layer in enumerate(self.layers):
            if i == self.skip:
                h = torch.cat([h, encoded], dim=1)
            h = torch.relu(layer(h))
        return self.output(h)


# radiance fields: NeRF's own settings (5e-4, 1024 rays, 128 samples per ray); its sweep in
# benchmarks/radiance_tuning.json is not finished (a step takes seconds on one CPU thread)
RADIANCE = TaskDeclaration(lr=5e-4, batch_size=1024, samples_per_ray=128)

FAMILIES = (
    Family(name="nerf_mlp", label="NeRF MLP (positional encoding)", build=lambda i, o, width: NeRFMLP(i, o, width=width),
           size="width", order=14, doc="Positional encoding and an 8-layer ReLU MLP (Mildenhall et al. 2020).",
           radiance=RADIANCE,
           defaults={"image": dict(width=256), "shape": dict(width=256)},
           recipes={"image": Recipe(lr=1e-2, batch_size=1 << 12), "shape": Recipe(lr=1e-3, batch_size=1 << 12)}),
)
