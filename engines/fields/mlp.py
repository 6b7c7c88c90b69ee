"""A plain ReLU MLP on raw coordinates as a field family: the baseline of the spectral bias.

MLP  coordinates -> ``depth`` ReLU layers of ``width`` units -> linear output. No encoding: a
     network like this learns a signal's low frequencies long before its high ones (Rahaman et al.
     2019, "On the spectral bias of neural networks"), which is why Fourier features (Tancik et al.
     2020), sine activations (SIREN) and feature grids exist. The lab keeps it to show that.
"""
from __future__ import annotations

import torch
from torch import nn

from .family import Family, Recipe


class MLP(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, width: int = 256, depth: int = 4):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        sizes = [in_dim] + [width] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.output(x)


FAMILIES = (
    Family(name="mlp", label="Plain MLP (no encoding)", build=lambda i, o, width: MLP(i, o, width=width),
           size="width", order=15, doc="ReLU layers on raw coordinates: the spectral-bias baseline.",
           defaults={"image": dict(width=256), "shape": dict(width=256)},
           recipes={"image": Recipe(lr=1e-3, batch_size=1 << 12),
                    "shape": Recipe(lr=3e-4, batch_size=1 << 12, schedule="cosine", final_lr_ratio=0.01)}),
)
