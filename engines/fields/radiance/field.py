"""A radiance field: a density head and a colour head on any of the lab's fields.

The underlying field (``engines.fields.registry.build_field``: GNF, NeuRBF, grid/hash + MLP,
the NeRF MLP, ...) maps box coordinates in [-1, 1]^d to 1 + 3 (sh_degree + 1)^2 raw values, so
every family brings its own decoder and the heads are the same for all of them:
- density = exp(raw_0 + density_bias), with its gradient clipped as Instant-NGP's truncated
  exponential does: an opaque surface needs densities in the hundreds, which an exponential
  reaches in a few steps where a softplus would take thousands;
- colour = sigmoid of spherical-harmonic coefficients read in the ray's direction (degree 0,
  the default, is a view-independent colour; GNF's paper uses degree 3 for NeRF scenes).
"""
from __future__ import annotations

import torch
from torch import nn

from ..registry import build_field
from .settings import radiance_architecture

MAX_SH_DEGREE = 3
_C0, _C1 = 0.28209479177387814, 0.4886025119029199
_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
       -0.4570457994644658, 1.445305721320277, -0.5900435899266435)


def sh_basis(dirs: torch.Tensor, degree: int) -> torch.Tensor:
    """Real spherical harmonics up to ``degree`` at unit directions (N, 3) -> (N, (degree+1)^2)."""
    x, y, z = dirs.unbind(-1)
    out = [torch.full_like(x, _C0)]
    if degree >= 1:
        out += [-_C1 * y, _C1 * z, -_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        out += [_C2[0] * x * y, _C2[1] * y * z, _C2[2] * (2 * zz - xx - yy), _C2[3] * x * z, _C2[4] * (xx - yy)]
    if degree >= 3:
        out += [_C3[0] * y * (3 * xx - yy), _C3[1] * x * y * z, _C3[2] * y * (4 * zz - xx - yy),
                _C3[3] * z * (2 * zz - 3 * xx - 3 * yy), _C3[4] * x * (4 * zz - xx - yy),
                _C3[5] * z * (xx - yy), _C3[6] * x * (xx - 3 * yy)]
    return torch.stack(out, dim=-1)


class _TruncExp(torch.autograd.Function):
    """exp(x) whose backward clamps x at 15 (Instant-NGP): no overflow from one bad sample."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.exp(x.clamp(max=15))


def trunc_exp(x: torch.Tensor) -> torch.Tensor:
    return _TruncExp.apply(x)


class RadianceField(nn.Module):
    """(box points (N, d), unit directions (N, d) or None) -> density (N,), colour (N, 3)."""

    def __init__(self, field: nn.Module, sh_degree: int = 0, density_bias: float = -1.0):
        super().__init__()
        if not 0 <= sh_degree <= MAX_SH_DEGREE:
            raise ValueError(f"sh_degree is 0..{MAX_SH_DEGREE}")
        if field.out_dim != 1 + 3 * (sh_degree + 1) ** 2:
            raise ValueError(f"the field must give 1 + 3 (sh_degree + 1)^2 = {1 + 3 * (sh_degree + 1) ** 2} values")
        if sh_degree and field.in_dim != 3:
            raise ValueError("view-dependent colour needs 3-D directions")
        self.field, self.sh_degree, self.density_bias = field, sh_degree, density_bias
        self.in_dim, self.out_dim = field.in_dim, 3
        self.name = getattr(field, "name", type(field).__name__)
        self.param_count = sum(p.numel() for p in field.parameters())

    def forward(self, points: torch.Tensor, dirs: torch.Tensor | None = None):
        raw = self.field(points)
        density = trunc_exp(raw[:, 0] + self.density_bias)
        coeffs = raw[:, 1:]
        if self.sh_degree:
            basis = sh_basis(dirs, self.sh_degree)                         # (N, K)
            coeffs = (coeffs.reshape(len(raw), 3, -1) * basis[:, None, :]).sum(-1)
        return density, torch.sigmoid(coeffs)

    def density(self, points: torch.Tensor) -> torch.Tensor:
        return trunc_exp(self.field(points)[:, 0] + self.density_bias)

    def param_groups(self) -> dict:
        """The field's own parameter groups (NeuRBF: features and decoder), so that the
        family's per-group learning rates apply."""
        groups = getattr(self.field, "param_groups", None)
        return groups() if groups else {"all": list(self.field.parameters())}

    def invalidate(self) -> None:
        """Drop caches computed from replaced weights (NeuRBF's neighbour lists)."""
        if hasattr(self.field, "invalidate"):
            self.field.invalidate()


def build_radiance_field(name: str, dim: int = 3, param_budget: int | None = None, knob: int | None = None,
                         sh_degree: int = 0, seed: int | None = None, density_bias: float = -1.0,
                         **architecture) -> RadianceField:
    """A radiance field on the lab's field ``name`` (any of registry.FIELD_NAMES); with
    ``param_budget`` the field is sized to it exactly as for images and shapes. Architecture
    knobs not given take the family's radiance declaration (its image one in flatland)."""
    out_dim = 1 + 3 * (sh_degree + 1) ** 2
    architecture = {**radiance_architecture(name, dim), **architecture}
    field = build_field(name, dim, out_dim, param_budget=param_budget, knob=knob, seed=seed, **architecture)
    return RadianceField(field, sh_degree=sh_degree, density_bias=density_bias)
