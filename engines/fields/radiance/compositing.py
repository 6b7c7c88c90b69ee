"""Emission-absorption volume rendering (Max 1995; NeRF's quadrature), in torch.

Along a ray, sample i has density sigma_i over a segment of length delta_i: its opacity is
alpha_i = 1 - exp(-sigma_i delta_i), the light reaching it is T_i = exp(-sum_{j<i} sigma_j delta_j)
(the transmittance), and its weight in the pixel is w_i = T_i alpha_i. The pixel is
sum_i w_i c_i + T_final * background. For a density that is constant on each segment this is the
exact integral, which is why a slab of density s and thickness L lets exp(-s L) through.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Composite:
    rgb: torch.Tensor            # (N, C) pixel colours, background included
    depth: torch.Tensor          # (N,) expected distance of the surface seen (sum w t / sum w)
    opacity: torch.Tensor        # (N,) 1 - T_final: how much of the pixel the scene covers
    weights: torch.Tensor        # (N, S) w_i
    transmittance: torch.Tensor  # (N, S) T_i, light reaching sample i (before its own segment)


def composite(sigma: torch.Tensor, colour: torch.Tensor, t: torch.Tensor, delta: torch.Tensor,
              background: torch.Tensor | None = None) -> Composite:
    """Composite samples front to back. sigma, t, delta: (N, S); colour: (N, S, C);
    background: (C,) or None (black)."""
    optical = sigma * delta
    # exclusive cumulative sum: the light reaching sample i has crossed samples 0..i-1
    crossed = torch.cumsum(optical, dim=1) - optical
    transmittance = torch.exp(-crossed)
    alpha = 1.0 - torch.exp(-optical)
    weights = transmittance * alpha
    opacity = weights.sum(dim=1)
    rgb = (weights[..., None] * colour).sum(dim=1)
    if background is not None:
        rgb = rgb + (1.0 - opacity)[:, None] * background
    depth = (weights * t).sum(dim=1) / opacity.clamp_min(1e-6)
    return Composite(rgb, depth, opacity, weights, transmittance)
