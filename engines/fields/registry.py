"""One interface for every field: ``build_field(name, in_dim, out_dim, param_budget=None)``.

A field is an ``nn.Module`` mapping coordinates (N, in_dim) in [-1, 1] to values (N, out_dim).
Each family has one integer size knob (finest grid resolution, width or table size); with a
``param_budget`` the largest knob whose parameter count fits is found by bisection, counting
parameters on torch's meta device so that no memory is allocated while searching.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..errors import InvalidInputError
from .baselines import SIREN, FourierMLP, GridMLP
from .rbf import GNF, NeuRBF


def _levels(finest: int, n: int) -> tuple:
    """n resolutions halving from ``finest`` (at least 2 cells)."""
    return tuple(max(finest // 2 ** (n - 1 - i), 2) for i in range(n))


@dataclass(frozen=True)
class Family:
    build: Callable[[int, int, int], nn.Module]   # (in_dim, out_dim, knob) -> module
    default_knob: Callable[[int], int]             # in_dim -> knob
    knob_range: tuple
    is_rbf: bool = False


FAMILIES: dict[str, Family] = {
    "gnf": Family(lambda i, o, k: GNF(i, o, _levels(k, 4), (2,) * 4, n_units=32),
                  lambda d: 256 if d == 2 else 64, (4, 4096), True),
    "neurbf": Family(lambda i, o, k: NeuRBF(i, o, n_kernels=32 * k if i == 2 else 16 * k,
                                            top_k=4 if i == 2 else 8, resolutions=_levels(k, 3),
                                            rbf_channels=32 if i == 2 else 16,
                                            omega_range=(2.0 ** -3, 2.0 ** 12) if i == 2 else (1.0, 8.0),
                                            kernel="inverse_quadratic"),
                     lambda d: 128 if d == 2 else 64, (4, 4096), True),
    "siren": Family(lambda i, o, k: SIREN(i, o, width=k), lambda d: 256, (4, 4096)),
    "fourier_mlp": Family(lambda i, o, k: FourierMLP(i, o, width=k), lambda d: 256, (4, 4096)),
    "hash_mlp": Family(lambda i, o, k: GridMLP(i, o, "hash", n_levels=12,
                                               max_res=512 if i == 2 else 256, table_size=k),
                       lambda d: 2 ** 13, (16, 2 ** 24)),
    "grid_mlp": Family(lambda i, o, k: GridMLP(i, o, "dense", resolutions=_levels(k, 4), channels=(2,) * 4),
                       lambda d: 256 if d == 2 else 64, (4, 4096)),
}
FIELD_NAMES = tuple(FAMILIES)
RBF_FIELDS = tuple(n for n, f in FAMILIES.items() if f.is_rbf)


def param_count(module: nn.Module) -> int:
    """Trainable and frozen parameters (NeuRBF's frozen kernels still cost memory)."""
    return sum(p.numel() for p in module.parameters())


def _count(family: Family, in_dim: int, out_dim: int, knob: int) -> int:
    with torch.device("meta"):
        return param_count(family.build(in_dim, out_dim, knob))


def knob_for_budget(name: str, in_dim: int, out_dim: int, budget: int) -> int:
    family = FAMILIES[name]
    lo, hi = family.knob_range
    if _count(family, in_dim, out_dim, lo) > budget:
        raise InvalidInputError(f"{name} needs more than {budget:,} parameters even at its smallest size")
    while lo < hi:  # largest knob with count <= budget
        mid = (lo + hi + 1) // 2
        if _count(family, in_dim, out_dim, mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def build_field(name: str, in_dim: int, out_dim: int, param_budget: int | None = None,
                knob: int | None = None, seed: int | None = None) -> nn.Module:
    """Build a field by name; it gets ``.name``, ``.knob`` and ``.param_count`` attributes."""
    if name not in FAMILIES:
        raise InvalidInputError(f"unknown field {name!r}; choose one of {', '.join(FIELD_NAMES)}")
    if in_dim not in (2, 3) or out_dim < 1:
        raise InvalidInputError(f"fields map 2-D or 3-D coordinates to >= 1 value, got {in_dim} -> {out_dim}")
    family = FAMILIES[name]
    if knob is None:
        knob = family.default_knob(in_dim)
        if param_budget is not None:
            knob = knob_for_budget(name, in_dim, out_dim, int(param_budget))
    if seed is not None:
        torch.manual_seed(seed)
    field = family.build(in_dim, out_dim, knob)
    field.name, field.knob, field.param_count = name, knob, param_count(field)
    return field
