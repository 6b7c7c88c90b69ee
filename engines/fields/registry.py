"""One interface for every field: ``build_field(name, in_dim, out_dim, param_budget=None)``.

A field is an ``nn.Module`` mapping coordinates (N, in_dim) in [-1, 1] to values (N, out_dim).
Each family has one integer size knob (finest grid resolution, width or table size) and may take
explicit architecture keywords (kernel counts, grid levels); with a ``param_budget`` the largest knob whose parameter count fits is found by bisection, counting
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


def _gnf(i, o, k, n_units=32, levels=4, channels=2):
    """knob k: the finest grid resolution."""
    return GNF(i, o, _levels(k, levels), (channels,) * levels, n_units=n_units)


def _neurbf(i, o, k, n_kernels=None, top_k=None, levels=3, channels=2, **rest):
    """knob k: the finest grid resolution; the kernel count follows it unless given."""
    image = i == 2
    rest.setdefault("rbf_channels", 32 if image else 16)
    rest.setdefault("omega_range", (2.0 ** -3, 2.0 ** 12) if image else (1.0, 8.0))
    return NeuRBF(i, o, n_kernels=n_kernels or (32 * k if image else 16 * k),
                  top_k=top_k or (4 if image else 8), resolutions=_levels(k, levels),
                  grid_channels=(channels,) * levels, **rest)


def _grid_mlp(i, o, k, levels=4, channels=2):
    return GridMLP(i, o, "dense", resolutions=_levels(k, levels), channels=(channels,) * levels)


def _hash_mlp(i, o, k, n_levels=12, max_res=None):
    return GridMLP(i, o, "hash", n_levels=n_levels, max_res=max_res or (512 if i == 2 else 256), table_size=k)


@dataclass(frozen=True)
class Family:
    build: Callable[..., nn.Module]       # (in_dim, out_dim, knob, **architecture) -> module
    default_knob: Callable[[int], int]    # in_dim -> knob
    knob_range: tuple
    architecture: tuple = ()              # keyword arguments build accepts besides the knob
    is_rbf: bool = False


FAMILIES: dict[str, Family] = {
    "gnf": Family(_gnf, lambda d: 256 if d == 2 else 64, (4, 4096),
                  ("n_units", "levels", "channels"), True),
    "neurbf": Family(_neurbf, lambda d: 128 if d == 2 else 64, (4, 4096),
                     ("n_kernels", "top_k", "levels", "channels", "rbf_channels", "kernel",
                      "omega_range", "hidden", "adaptive"), True),
    "siren": Family(lambda i, o, k: SIREN(i, o, width=k), lambda d: 256, (4, 4096)),
    "fourier_mlp": Family(lambda i, o, k: FourierMLP(i, o, width=k), lambda d: 256, (4, 4096)),
    "hash_mlp": Family(_hash_mlp, lambda d: 2 ** 13, (16, 2 ** 24), ("n_levels", "max_res")),
    "grid_mlp": Family(_grid_mlp, lambda d: 256 if d == 2 else 64, (4, 4096), ("levels", "channels")),
}
FIELD_NAMES = tuple(FAMILIES)
RBF_FIELDS = tuple(n for n, f in FAMILIES.items() if f.is_rbf)


def param_count(module: nn.Module) -> int:
    """Trainable and frozen parameters (NeuRBF's frozen kernels still cost memory)."""
    return sum(p.numel() for p in module.parameters())


def _count(family: Family, in_dim: int, out_dim: int, knob: int, architecture: dict) -> int:
    with torch.device("meta"):
        return param_count(family.build(in_dim, out_dim, knob, **architecture))


def knob_for_budget(name: str, in_dim: int, out_dim: int, budget: int, **architecture) -> int:
    """The largest knob that fits ``budget`` with the other ``architecture`` choices fixed."""
    family = FAMILIES[name]
    lo, hi = family.knob_range
    if _count(family, in_dim, out_dim, lo, architecture) > budget:
        raise InvalidInputError(f"{name} needs more than {budget:,} parameters even at its smallest size")
    while lo < hi:  # largest knob with count <= budget
        mid = (lo + hi + 1) // 2
        if _count(family, in_dim, out_dim, mid, architecture) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def build_field(name: str, in_dim: int, out_dim: int, param_budget: int | None = None,
                knob: int | None = None, seed: int | None = None, **architecture) -> nn.Module:
    """Build a field by name; it gets ``.name``, ``.knob`` and ``.param_count`` attributes.

    ``architecture`` sets a family's other sizes explicitly (``Family.architecture`` lists them):
    gnf: n_units, levels, channels; neurbf: n_kernels, top_k, levels, channels, rbf_channels,
    kernel, omega_range, hidden, adaptive; grid_mlp: levels, channels; hash_mlp: n_levels, max_res.
    With ``param_budget`` they stay fixed and the knob is fitted around them.
    """
    if name not in FAMILIES:
        raise InvalidInputError(f"unknown field {name!r}; choose one of {', '.join(FIELD_NAMES)}")
    if in_dim not in (2, 3) or out_dim < 1:
        raise InvalidInputError(f"fields map 2-D or 3-D coordinates to >= 1 value, got {in_dim} -> {out_dim}")
    family = FAMILIES[name]
    unknown = set(architecture) - set(family.architecture)
    if unknown:
        raise InvalidInputError(f"{name} has no size {', '.join(sorted(unknown))}; it takes "
                                f"{', '.join(family.architecture) or 'only the knob'}")
    if knob is None:
        knob = family.default_knob(in_dim)
        if param_budget is not None:
            knob = knob_for_budget(name, in_dim, out_dim, int(param_budget), **architecture)
    if seed is not None:
        torch.manual_seed(seed)
    field = family.build(in_dim, out_dim, knob, **architecture)
    field.name, field.knob, field.param_count = name, knob, param_count(field)
    return field
