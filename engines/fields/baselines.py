"""Baseline fields a user compares RBF fields against.

SIREN       sine-activated MLP (Sitzmann et al. 2020) with its principled initialisation.
FourierMLP  random Fourier features + ReLU MLP (Tancik et al. 2020).
GridMLP     an encoder (dense grid or hash grid, Instant-NGP style) + a small ReLU MLP.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .encoders import DenseGrid, HashGrid


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
